"""What the server's pgvector can do, read once per server from `pg_extension.extversion`.

- HNSW indexes `vector` up to 2,000 dimensions in every version; 0.7 added `halfvec`, whose HNSW
  takes up to 4,000, so a bigger embedding (text-embedding-3-large: 3,072) is indexed at half
  precision there (the table keeps full precision; exact search and scores use it).
- 0.8 added `hnsw.iterative_scan`: a filtered graph walk continues until it has k rows that pass
  the filter, so a source-filtered search needs no exact scan.
The embedded server (pgserver) bundles 0.6.2: there a `pgvector-hnsw` index over 2,000
dimensions is refused when the store is created, before anything is embedded.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass

from rag_core.core.errors import ConfigError, StoreError
from rag_core.stores import pg_server

VECTOR_HNSW_MAX_DIM = 2000
HALFVEC_HNSW_MAX_DIM = 4000
#: how a filtered walk goes on past ef_search on 0.8+; the store re-sorts the k rows by exact
#: distance, and relaxed order is the faster mode with the better recall (pgvector's README)
ITERATIVE_SCAN = "relaxed_order"

_VERSION = re.compile(r"^(\d{1,4})\.(\d{1,4})(?:\.(\d{1,4}))?")


@dataclass(frozen=True)
class PgVectorFeatures:
    """The extension's version and what this store uses of it."""

    version: tuple[int, int, int]

    @property
    def text(self) -> str:
        return ".".join(map(str, self.version))

    @property
    def halfvec(self) -> bool:
        return self.version >= (0, 7, 0)

    @property
    def iterative_scan(self) -> bool:
        return self.version >= (0, 8, 0)


def parse_version(text: str) -> tuple[int, int, int]:
    """`0.6.2` -> (0, 6, 2); a suffix (`0.8.0-dev`) is ignored. Unreadable text is an error: the
    store must not guess what the server can do."""
    match = _VERSION.match(str(text or "")[:64])
    if not match:
        raise StoreError(f"the server's pgvector reports version {str(text)[:64]!r}, which this app cannot read; "
                         "install pgvector 0.6 or later")
    return int(match[1]), int(match[2]), int(match[3] or 0)


def hnsw_opclass(features: PgVectorFeatures, dim: int) -> str | None:
    """The HNSW operator class for `dim` dimensions on this server: `vector_cosine_ops` up to
    2,000, `halfvec_cosine_ops` (0.7+) up to 4,000; refused otherwise with the reason and what
    to use instead. None never happens: it raises."""
    if dim <= VECTOR_HNSW_MAX_DIM:
        return "vector_cosine_ops"
    if features.halfvec and dim <= HALFVEC_HNSW_MAX_DIM:
        return "halfvec_cosine_ops"
    if features.halfvec:
        reason = (f"pgvector {features.text} builds HNSW over at most {HALFVEC_HNSW_MAX_DIM:,} dimensions "
                  f"(as halfvec), and this embedder gives {dim:,}")
    else:
        reason = (f"pgvector {features.text} on this server builds HNSW over at most {VECTOR_HNSW_MAX_DIM:,} "
                  f"dimensions, and this embedder gives {dim:,} (pgvector 0.7+ indexes up to "
                  f"{HALFVEC_HNSW_MAX_DIM:,} as halfvec; the embedded server bundles 0.6)")
    raise ConfigError(f"cannot build a pgvector-hnsw index: {reason}. Nothing was embedded. Use `pgvector` "
                      "(exact search, no dimension limit), `faiss-hnsw`, an embedder with at most "
                      f"{VECTOR_HNSW_MAX_DIM:,} dimensions (text-embedding-3-large takes `dimensions`, e.g. 1536), "
                      "or a PostgreSQL server with pgvector 0.7 or later (--dsn)")


def filtered_plan(features: PgVectorFeatures | None, rows_passing: int | None, k: int,
                  exact_max: int) -> str:
    """How an HNSW index answers a source-filtered search: `iterative` (0.8+: the walk goes on until
    k rows pass), `exact` (0.6/0.7 when few rows pass: a walk that filters after ef_search rows
    could come back short) or `graph`. `rows_passing` is only needed before 0.8."""
    if features is not None and features.iterative_scan:
        return "iterative"
    return "exact" if rows_passing is not None and rows_passing <= max(exact_max, k) else "graph"


_CACHE: dict[str, PgVectorFeatures] = {}
_LOCK = threading.Lock()


def features(dsn: str) -> PgVectorFeatures:
    """The server's pgvector, read once per DSN per process (an upgrade needs a restart to be used)."""
    with _LOCK:
        known = _CACHE.get(dsn)
    if known is not None:
        return known
    import psycopg

    try:
        with pg_server.get_pool(dsn).connection() as conn, \
                pg_server.deadline(conn, pg_server.limits().read_s, "the pgvector version", dsn):
            row = conn.execute("SELECT extversion FROM pg_extension WHERE extname = 'vector'").fetchone()
    except psycopg.Error as exc:
        raise pg_server.connection_error(exc, dsn) from None
    if row is None:
        raise StoreError(f"pgvector is not enabled at {pg_server.redact_dsn(dsn)}: run `CREATE EXTENSION vector;`")
    found = PgVectorFeatures(parse_version(row[0]))
    with _LOCK:
        _CACHE[dsn] = found
    return found


def forget(dsn: str | None = None) -> None:
    """Drop the cached version (tests; a server upgraded in place)."""
    with _LOCK:
        if dsn is None:
            _CACHE.clear()
        else:
            _CACHE.pop(dsn, None)
