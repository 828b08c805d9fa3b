"""The pgvector store: chunks and vectors in PostgreSQL, one table per index, many app instances.

How to read it:
- A table per index (`rag_<slug>_<hash>`, always quoted) holds chunk id, text, source, section,
  offsets and `embedding vector(dim)`; the `rag_indexes` table holds each index's manifest, dim,
  kind and a version number, so a second app instance sees the index and its embedder.
- Writes (add, delete) go into ONE transaction opened by the first write and committed by
  `save()`: a replaced file's chunks change atomically, `kill -9` or a lost connection mid-ingest
  leaves the previous state (the server rolls the transaction back), and readers never wait.
  A transaction-scoped advisory lock per index makes a second concurrent writer fail at once
  with a clear error; the version number refuses a writer whose view went stale.
- Rows go in by binary COPY. `pgvector-hnsw` builds its HNSW index (vector_cosine_ops) after
  the first bulk load, with `maintenance_work_mem` raised for the build; later adds insert into
  the graph. `hnsw.ef_search` is SET LOCAL per query. `pgvector` (exact) scans.
- The local index directory holds only a pointer file (index name, table, redacted server).
psycopg, psycopg_pool and pgvector are imported lazily (pg_server), so numpy/FAISS users need none.
"""

from __future__ import annotations

import hashlib
import json
import re
import struct
import uuid
import weakref
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from rag_core.core.errors import ConfigError, IndexMismatchError, StoreError
from rag_core.core.types import Chunk, Hit
from rag_core.stores import pg_features, pg_server, pg_wait
from rag_core.stores.pg_server import META_TABLE, ensure_metadata  # noqa: F401 - ensure_metadata: re-exported
from rag_core.stores.numpy_store import as_matrix, check_lengths

POINTER_FILE = "pgvector.json"
#: a filtered HNSW query scans exactly when at most this many rows pass the filter (pgvector 0.6
#: filters after the graph walk, so a selective filter could return fewer than k)
EXACT_FILTER_MAX = 20_000
#: maintenance_work_mem for the HNSW build (SET LOCAL) is pg_server.limits().maintenance_work_mem:
#: the build is much faster while the whole graph fits in it (>= 1GB made it 3x faster here);
#: raise it for millions of vectors (RAG_PG_MAINTENANCE_WORK_MEM=4GB)
FLUSH_ROWS = 4096
_NAME = re.compile(r"^[^\x00-\x1f\x7f]{1,128}$")
_COLUMNS = ("chunk_id", "doc_id", "source", "section", "text", "start_offset", "end_offset", "embedding")


def check_index_name(name: str) -> str:
    """The name the database stores. A directory name that is not UTF-8 (Python holds its bytes as
    lone surrogates, which no UTF-8 text can carry) is stored with those bytes written as \\xNN:
    the same directory always maps to the same, printable name."""
    if isinstance(name, str):
        name = name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    if not isinstance(name, str) or not _NAME.match(name):
        raise ConfigError(f"index name {name!r} is not allowed in the database: use 1-128 printable characters")
    return name


def table_name(index_name: str) -> str:
    """A safe, stable identifier for an index's table: a readable slug plus a hash of the exact name."""
    slug = re.sub(r"[^a-z0-9_]+", "_", index_name.lower()).strip("_")[:40] or "index"
    return f"rag_{slug}_{hashlib.sha1(index_name.encode('utf-8', 'surrogateescape')).hexdigest()[:10]}"


def lock_key(index_name: str) -> int:
    return int.from_bytes(hashlib.sha256(f"rag-index:{index_name}".encode("utf-8", "surrogateescape")).digest()[:8],
                          "big", signed=True)


def embedding_storage(dim: int) -> str:
    """Keep vectors inline in the row: with chunk text beside it a row passes the 2 KB TOAST
    threshold, and a TOASTed vector is fetched from a side table on every exact distance
    (measured here: exact search p50 over 10k demo-text rows 43-54 ms EXTENDED vs 21-24 ms PLAIN).
    PLAIN up to 500 dims; MAIN (inline when it fits) for bigger ones, which PLAIN could not fit."""
    return "PLAIN" if dim <= 500 else "MAIN"


def _clean(text: str) -> str:
    return text.replace("\x00", "\ufffd")  # PostgreSQL text cannot hold NUL


class _Writer:
    """One store object's open write transaction: a pooled connection, rolled back if dropped."""

    def __init__(self) -> None:
        self.conn = None
        self.pool = None
        #: rows added but not yet sent: COPY in batches of FLUSH_ROWS, not one COPY per 64-row add
        self.pending: list[tuple[list[Chunk], np.ndarray]] = []
        self.pending_rows = 0
        #: where the embedded server's log ended when the transaction began (pg_server.log_mark)
        self.log_from: int | None = None

    def release(self, rollback: bool) -> None:
        conn, pool, self.conn, self.pool = self.conn, self.pool, None, None
        self.pending, self.pending_rows = [], 0
        if conn is None:
            return
        try:
            if rollback and not conn.closed:
                conn.execute("ROLLBACK")
        except Exception:  # noqa: BLE001 - a dead connection: the server rolled back already
            pass
        pg_wait.set_rule(conn, None)
        pg_wait.set_budget(conn, None)
        try:
            pool.putconn(conn)
        except Exception:  # noqa: BLE001 - the pool was closed
            conn.close()

    def abort(self) -> None:
        self.release(rollback=True)


class PgVectorStore:
    """`kind="exact"`: sequential cosine scan. `kind="hnsw"`: an HNSW index (vector_cosine_ops)."""

    metric = "cosine"

    def __init__(self, kind: str = "exact", dim: int = 384, *, index_name: str | None = None, dsn: str | None = None,
                 credentials=None, hnsw_m: int = 32, ef_construction: int = 200, ef_search: int = 100) -> None:
        if kind not in ("exact", "hnsw"):
            raise ConfigError(f"unknown pgvector index kind {kind!r}; known: exact, hnsw")
        self.kind = kind
        self.name = "pgvector" if kind == "exact" else "pgvector-hnsw"
        self.dim = int(dim)
        self.hnsw_m, self.ef_construction, self.ef_search = int(hnsw_m), int(ef_construction), int(ef_search)
        self.index_name = check_index_name(index_name) if index_name else f"store-{uuid.uuid4().hex[:12]}"
        self.table = table_name(self.index_name)
        self._dsn_option, self._credentials, self._dsn = dsn, credentials, None
        self._version: int | None = None  # the committed version this object is based on; None: new
        self._manifest_json: str | None = None
        #: replacing an index of the same name: rows go to a new table, swapped in by the commit
        #: that also drops the old one (readers keep the old table until then)
        self._replacing = False
        self._table_ready = False
        self._writer = _Writer()
        weakref.finalize(self, self._writer.abort)
        if kind == "hnsw" and self.dim > pg_features.VECTOR_HNSW_MAX_DIM:
            self._opclass()  # refused here, before anything is embedded, if this server cannot index it

    def _features(self) -> pg_features.PgVectorFeatures:
        return pg_features.features(self.dsn)

    def _opclass(self) -> str:
        """vector_cosine_ops, or halfvec_cosine_ops over 2,000 dims on pgvector 0.7+ (else refused)."""
        if self.dim <= pg_features.VECTOR_HNSW_MAX_DIM:
            return "vector_cosine_ops"
        return pg_features.hnsw_opclass(self._features(), self.dim)

    # ---- connections ---------------------------------------------------------------

    @property
    def dsn(self) -> str:
        if self._dsn is None:
            self._dsn = pg_server.resolve_dsn(self._dsn_option, self._credentials)
        return self._dsn

    @property
    def where(self) -> str:
        """The server, password redacted: safe for messages, pointer files and the page."""
        return pg_server.redact_dsn(pg_server.configured_dsn(self._dsn_option, self._credentials))

    def _pool(self):
        return pg_server.get_pool(self.dsn)

    def _ident(self):
        from psycopg import sql

        return sql.Identifier(self.table)

    def _read(self, query, params=(), *, settings: Sequence[str] = ()) -> list[tuple]:
        """One read: on the open write transaction (a store sees its own writes), else pooled."""
        import psycopg

        if self._writer.conn is not None:
            self._flush()
            try:
                for s in settings:
                    self._writer.conn.execute(s)
                return self._writer.conn.execute(query, params).fetchall()
            except psycopg.Error as exc:
                raise self._write_failed(exc) from None
        if self._version is None:
            return []  # never saved: nothing in the database yet
        try:
            with self._pool().connection() as conn, \
                    pg_server.deadline(conn, pg_server.limits().read_s, "a read", self.dsn), conn.transaction():
                for s in settings:
                    conn.execute(s)
                return conn.execute(query, params).fetchall()
        except psycopg.errors.UndefinedTable:
            raise StoreError(f"index {self.index_name} is gone from the database at {self.where}; "
                             "rebuild it") from None
        except psycopg.Error as exc:
            raise pg_server.connection_error(exc, self.dsn) from None
        except Exception as exc:  # psycopg_pool.PoolTimeout: no connection came in time
            if type(exc).__name__ == "PoolTimeout":
                raise StoreError(f"no connection to PostgreSQL at {self.where} within {pg_server.limits().pool_wait_s:g} s: "
                                 "is the server up? (or raise RAG_PG_POOL_MAX)") from None
            raise

    # ---- the write transaction -----------------------------------------------------

    def _begin(self):
        if self._writer.conn is not None:
            return self._writer.conn
        import psycopg

        pool = self._pool()
        try:
            conn = pool.getconn()
        except Exception as exc:  # noqa: BLE001 - PoolTimeout
            raise StoreError(f"no connection to PostgreSQL at {self.where}: is the server up? "
                             f"({pg_server.redact_text(exc, self._dsn)})") from None
        self._writer.conn, self._writer.pool = conn, pool
        self._writer.log_from = pg_server.log_mark(self.dsn)
        limits = pg_server.limits()
        pg_wait.set_rule(conn, pg_wait.Rule(limits.write_s, f"a write of {self.index_name}", pg_wait.WRITE_VAR))
        pg_wait.set_budget(conn, pg_wait.Budget(limits.ingest_s))  # every wait until the commit, together
        try:
            conn.execute("BEGIN")
            conn.execute(f"SET LOCAL statement_timeout = {int(limits.write_statement_ms)}")
            if not conn.execute("SELECT pg_try_advisory_xact_lock(%s)", (lock_key(self.index_name),)).fetchone()[0]:
                raise StoreError(f"another writer is adding to index {self.index_name} at {self.where} right now; "
                                 "nothing was changed: wait for it to finish, then run this again")
            row = conn.execute(f"SELECT version, dim FROM {META_TABLE} WHERE name = %s",
                               (self.index_name,)).fetchone()
            if not self._replacing:
                self._check_version(row[0] if row else None, row[1] if row else None)
            if (row is None or self._replacing) and not self._table_ready:
                self._create_table(conn)
                self._table_ready = True
        except psycopg.Error as exc:
            raise self._write_failed(exc) from None
        except BaseException:
            self._writer.abort()
            raise
        return conn

    def replace_existing(self) -> None:
        """Build into a new table that replaces the index of this name when committed: the old
        table stays readable until then, and is dropped in the same transaction (nothing orphaned)."""
        self._replacing = True
        self._version = None
        unique = hashlib.sha1(f"{self.index_name}:{uuid.uuid4()}".encode("utf-8", "surrogateescape")).hexdigest()
        self.table = f"rag_r{unique[:24]}"

    def _check_version(self, version: int | None, dim: int | None) -> None:
        if version == self._version:
            return
        if self._version is None:
            raise StoreError(f"an index named {self.index_name} already exists in the database at {self.where} "
                             f"({dim} dims); nothing was changed: open that index, or choose another name")
        if version is None:
            raise StoreError(f"index {self.index_name} was deleted from the database at {self.where} since it was "
                             "opened here; nothing was changed: rebuild it")
        raise StoreError(f"index {self.index_name} was changed by another writer since it was opened here "
                         f"(version {self._version} -> {version}); nothing was overwritten: reopen it and run again")

    def _create_table(self, conn) -> None:
        from psycopg import sql

        conn.execute(sql.SQL(
            "CREATE TABLE {t} (id bigserial PRIMARY KEY, chunk_id text NOT NULL, doc_id text NOT NULL, "
            "source text NOT NULL, section text NOT NULL, text text NOT NULL, start_offset integer NOT NULL, "
            "end_offset integer NOT NULL, embedding vector({d}) NOT NULL)"
        ).format(t=self._ident(), d=sql.Literal(self.dim)))
        conn.execute(sql.SQL("ALTER TABLE {t} ALTER COLUMN embedding SET STORAGE {s}").format(
            t=self._ident(), s=sql.SQL(embedding_storage(self.dim))))
        conn.execute(sql.SQL("CREATE INDEX {i} ON {t} (source)").format(
            i=sql.Identifier(f"{self.table}_source"), t=self._ident()))

    def _write_failed(self, exc: Exception) -> StoreError:
        """Roll back, and say what happened; the database keeps its previous committed state."""
        import psycopg

        lost = isinstance(exc, psycopg.OperationalError) or self._writer.conn is None or self._writer.conn.closed
        log_from = self._writer.log_from
        self._writer.abort()
        if isinstance(exc, StoreError):  # a deadline passed (pg_wait): it says which and where
            return exc
        full = pg_server.disk_full_error(exc, self._dsn, log_from)  # also a server that crashed on it
        if full is not None:
            return full
        detail = pg_server.redact_text(str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__,
                                       self._dsn)
        if lost:
            return StoreError(f"lost the connection to PostgreSQL at {self.where} while writing index "
                              f"{self.index_name} ({detail}); nothing was written (the transaction was rolled "
                              "back): check the server, then run the ingest again")
        return StoreError(f"PostgreSQL refused a write to index {self.index_name} ({detail}); nothing was written "
                          "(rolled back)")

    # ---- the store contract ----------------------------------------------------------

    def add(self, chunks: Sequence[Chunk], vectors: np.ndarray) -> None:
        matrix = as_matrix(vectors, self.dim)
        check_lengths(chunks, matrix)
        if not len(chunks):
            return
        if not np.isfinite(matrix).all():  # it would match nothing, silently, in every later query
            bad = int((~np.isfinite(matrix).all(axis=1)).sum())
            raise StoreError(f"refusing to store {bad} vector(s) with NaN or infinite values: the embedder "
                             "returned broken vectors; check the embedding model or server")
        self._begin()  # a busy or stale index is refused at the first add, before any work is buffered
        self._writer.pending.append((list(chunks), matrix.astype(">f4")))  # pgvector's binary byte order
        self._writer.pending_rows += len(chunks)
        if self._writer.pending_rows >= FLUSH_ROWS:
            self._flush()

    def _flush(self) -> None:
        """Send the buffered rows with one binary COPY (inside the write transaction)."""
        if not self._writer.pending:
            return
        import psycopg
        from psycopg import sql

        pending, self._writer.pending, self._writer.pending_rows = self._writer.pending, [], 0
        header = struct.pack(">HH", self.dim, 0)
        copy_sql = sql.SQL("COPY {t} ({c}) FROM STDIN WITH (FORMAT BINARY)").format(
            t=self._ident(), c=sql.SQL(", ").join(map(sql.Identifier, _COLUMNS)))
        try:
            with pg_server.deadline(self._writer.conn, pg_server.limits().write_s, f"a write of {self.index_name}",
                                    self.dsn, pg_wait.WRITE_VAR), self._writer.conn.cursor() as cur, \
                    cur.copy(copy_sql) as copy:
                copy.set_types(["text", "text", "text", "text", "text", "int4", "int4", "bytea"])
                for chunks, big_endian in pending:
                    for c, v in zip(chunks, big_endian):
                        copy.write_row((c.chunk_id, c.doc_id, _clean(c.source), _clean(c.section), _clean(c.text),
                                        c.start, c.end, header + v.tobytes()))
        except psycopg.Error as exc:
            raise self._write_failed(exc) from None
        except StoreError:  # the deadline passed: the connection is gone, roll back what is left
            self._writer.abort()
            raise

    def delete(self, sources: str | Iterable[str]) -> int:
        import psycopg
        from psycopg import sql

        doomed = [sources] if isinstance(sources, str) else list(dict.fromkeys(sources))
        if not doomed or (self._version is None and self._writer.conn is None):
            return 0
        conn = self._begin()
        self._flush()  # an add before this delete must be deleted too
        try:
            cur = conn.execute(sql.SQL("DELETE FROM {t} WHERE source = ANY(%s)").format(t=self._ident()), (doomed,))
            return cur.rowcount
        except psycopg.Error as exc:
            raise self._write_failed(exc) from None

    def search(self, vector: np.ndarray, k: int, sources: Sequence[str] | None = None) -> list[Hit]:
        if k <= 0 or (sources is not None and len(sources) == 0):
            return []
        query = as_matrix(vector, self.dim)[0]
        if isinstance(sources, str):
            sources = [sources]
        exact = self.kind == "exact" or self._version is None  # the graph is built at the first commit
        iterative = False
        if not exact and sources is not None:
            features = self._features()
            passing = None if features.iterative_scan else self._count_where(sources)
            plan = pg_features.filtered_plan(features, passing, k, EXACT_FILTER_MAX)
            exact, iterative = plan == "exact", plan == "iterative"
        rows = self._nearest(query, k, sources, exact, iterative)
        if not exact and len(rows) < k:  # the graph walk came up short (filter, or k > ef_search)
            wanted = self._count_where(sources) if sources is not None else self.count()
            if len(rows) < min(k, wanted):
                rows = self._nearest(query, k, sources, exact=True)
        return [Hit(chunk=Chunk(source=r[0], section=r[1], text=r[2], start=r[3], end=r[4], doc_id=r[5]),
                    score=float(r[6]), score_kind="cosine", rank=rank) for rank, r in enumerate(rows, start=1)]

    def _nearest(self, query: np.ndarray, k: int, sources, exact: bool, iterative: bool = False) -> list[tuple]:
        from psycopg import sql

        where = sql.SQL("WHERE source = ANY(%(sources)s)") if sources is not None else sql.SQL("")
        order = sql.SQL("embedding <=> %(q)s")
        if self.kind == "hnsw" and not exact and self.dim > pg_features.VECTOR_HNSW_MAX_DIM:
            # the halfvec index serves only its own expression; scores stay full precision
            order = sql.SQL("embedding::halfvec({d}) <=> %(q)s::halfvec({d})").format(d=sql.Literal(self.dim))
        # the inner ORDER BY distance LIMIT k is what an HNSW index can serve; the outer one
        # re-sorts by exact distance and breaks ties by insertion order, as the reference store does
        statement = sql.SQL(
            "SELECT source, section, text, start_offset, end_offset, doc_id, 1 - d AS score FROM "
            "(SELECT *, embedding <=> %(q)s AS d FROM {t} {w} ORDER BY {o} LIMIT %(k)s) AS best "
            "ORDER BY d, id").format(t=self._ident(), w=where, o=order)
        if self.kind == "exact":
            settings: list[str] = []
        elif exact:  # the HNSW index must not serve this one
            settings = ["SET LOCAL enable_indexscan = off"]
        else:  # per query, never leaking into the pooled connection (pgvector's ceiling is 1000)
            settings = [f"SET LOCAL hnsw.ef_search = {min(1000, max(self.ef_search, k))}"]
            if iterative:  # 0.8+: the walk goes on until k rows pass the filter
                settings.append(f"SET LOCAL hnsw.iterative_scan = {pg_features.ITERATIVE_SCAN}")
        params = {"q": query, "k": int(k), "sources": list(sources) if sources is not None else None}
        rows = self._read(statement, params, settings=settings)
        if exact and self.kind == "hnsw" and self._writer.conn is not None:
            self._writer.conn.execute("SET LOCAL enable_indexscan = on")
        return rows

    def _count_where(self, sources: Sequence[str]) -> int:
        from psycopg import sql

        rows = self._read(sql.SQL("SELECT count(*) FROM {t} WHERE source = ANY(%s)").format(t=self._ident()),
                          (list(sources),))
        return int(rows[0][0]) if rows else 0

    def count(self) -> int:
        from psycopg import sql

        rows = self._read(sql.SQL("SELECT count(*) FROM {t}").format(t=self._ident()))
        return int(rows[0][0]) if rows else 0

    def chunks(self) -> list[Chunk]:
        """Every chunk in insertion order (what a whole-index BM25 is built from)."""
        from psycopg import sql

        rows = self._read(sql.SQL("SELECT source, section, text, start_offset, end_offset, doc_id FROM {t} "
                                  "ORDER BY id").format(t=self._ident()))
        return [Chunk(source=r[0], section=r[1], text=r[2], start=r[3], end=r[4], doc_id=r[5]) for r in rows]

    def vectors(self) -> np.ndarray:
        from psycopg import sql

        rows = self._read(sql.SQL("SELECT vector_send(embedding) FROM {t} ORDER BY id").format(t=self._ident()))
        if not rows:
            return np.zeros((0, self.dim), dtype=np.float32)
        raw = np.frombuffer(b"".join(bytes(r[0]) for r in rows), dtype=">f4").reshape(len(rows), self.dim + 1)
        return raw[:, 1:].astype(np.float32)  # the first 4 bytes of each row are pgvector's header

    def vectors_at(self, rows: np.ndarray) -> np.ndarray:
        """The vectors of these rows (positions in `chunks()` order, i.e. by id), in the order asked:
        only those rows cross the wire, for MMR over a few candidates."""
        from psycopg import sql

        rows = np.asarray(rows, dtype=np.int64).reshape(-1)
        if rows.size == 0:
            return np.zeros((0, self.dim), dtype=np.float32)
        wanted = sorted({int(r) for r in rows})
        found = self._read(sql.SQL(
            "SELECT rn, vector_send(embedding) FROM (SELECT row_number() OVER (ORDER BY id) - 1 AS rn, embedding "
            "FROM {t}) AS numbered WHERE rn = ANY(%s)").format(t=self._ident()), (wanted,))
        by_row = {int(r[0]): np.frombuffer(bytes(r[1]), dtype=">f4")[1:] for r in found}
        missing = [r for r in wanted if r not in by_row]
        if missing:
            raise StoreError(f"index {self.index_name} has no row {missing[0]} (it holds {self.count()}): "
                             "it changed while being read; run the query again")
        return np.stack([by_row[int(r)] for r in rows]).astype(np.float32)

    @property
    def version(self) -> int | None:
        """The committed version this object is based on (None: never saved). Whole-index BM25
        for this store is built from `chunks()` (the texts live in the table) and cached under
        (index_name, version): a save anywhere bumps it."""
        return self._version

    # ---- committing, pointers --------------------------------------------------------

    def attach_manifest(self, manifest_json: str) -> None:
        """The Index's manifest, committed with the rows on the next save (the database copy is the truth)."""
        self._manifest_json = manifest_json

    def stored_manifest(self) -> str | None:
        rows = self._read(f"SELECT manifest::text FROM {META_TABLE} WHERE name = %s", (self.index_name,))
        return rows[0][0] if rows and rows[0][0] else None

    def commit(self) -> int:
        """Commit the write transaction (creating an empty index if nothing was written); the new version."""
        import psycopg

        conn = self._begin()
        self._flush()
        try:
            with pg_server.deadline(conn, pg_server.limits().commit_s, f"the commit of {self.index_name}", self.dsn,
                                    pg_wait.COMMIT_VAR):
                row = self._commit_rows(conn)
        except psycopg.Error as exc:
            raise self._write_failed(exc) from None
        except StoreError:
            self._writer.abort()
            raise
        self._writer.release(rollback=False)
        self._version, self._replacing = int(row[0]), False
        return self._version

    def _commit_rows(self, conn) -> tuple:
        """The catalog row, the HNSW build, the old table of a replacement dropped, COMMIT."""
        old = conn.execute(f"SELECT table_name FROM {META_TABLE} WHERE name = %s FOR UPDATE",
                           (self.index_name,)).fetchone() if self._replacing else None
        swap = (", table_name = EXCLUDED.table_name, dim = EXCLUDED.dim, kind = EXCLUDED.kind, "
                "hnsw_m = EXCLUDED.hnsw_m, ef_construction = EXCLUDED.ef_construction") if self._replacing else ""
        row = conn.execute(
            f"INSERT INTO {META_TABLE} (name, table_name, dim, kind, hnsw_m, ef_construction, manifest, version) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s::jsonb, 1) ON CONFLICT (name) DO UPDATE SET "
            "manifest = COALESCE(EXCLUDED.manifest, " + META_TABLE + ".manifest), "
            "version = " + META_TABLE + ".version + 1, updated_at = now()" + swap + " RETURNING version",
            (self.index_name, self.table, self.dim, self.kind, self.hnsw_m, self.ef_construction,
             self._manifest_json)).fetchone()
        if self.kind == "hnsw":
            self._build_hnsw(conn)
        if old and old[0] != self.table:
            from psycopg import sql

            conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(old[0])))
        conn.execute("COMMIT")
        return row

    def _build_hnsw(self, conn) -> None:
        """After the bulk load, in the same transaction: one build is far faster than row-by-row inserts."""
        from psycopg import sql

        if conn.execute("SELECT 1 FROM pg_indexes WHERE tablename = %s AND indexname = %s",
                        (self.table, f"{self.table}_hnsw")).fetchone():
            return
        conn.execute("SELECT set_config('maintenance_work_mem', %s, true)", (pg_server.limits().maintenance_work_mem,))
        opclass = self._opclass()
        column = (sql.SQL("(embedding::halfvec({d}))").format(d=sql.Literal(self.dim))
                  if opclass.startswith("halfvec") else sql.SQL("embedding"))
        conn.execute(sql.SQL("CREATE INDEX {i} ON {t} USING hnsw ({c} {o}) "
                             "WITH (m = {m}, ef_construction = {e})").format(
            i=sql.Identifier(f"{self.table}_hnsw"), t=self._ident(), c=column, o=sql.SQL(opclass),
            m=sql.Literal(self.hnsw_m), e=sql.Literal(self.ef_construction)))

    def rollback(self) -> None:
        """Drop uncommitted writes (the database keeps its committed state)."""
        self._writer.abort()

    def save(self, directory: str) -> None:
        """Commit, then write the pointer (no password in it) into `directory`."""
        self.commit()
        path = Path(directory)
        path.mkdir(parents=True, exist_ok=True)
        pointer = {"format": 1, "index": self.index_name, "table": self.table, "kind": self.kind,
                   "dim": self.dim, "server": self.where, "version": self._version}
        (path / POINTER_FILE).write_text(json.dumps(pointer, indent=2))

    def load(self, directory: str) -> None:
        path = Path(directory) / POINTER_FILE
        try:
            pointer = json.loads(path.read_text())
            name = check_index_name(pointer["index"])
        except FileNotFoundError:
            raise StoreError(f"no pgvector pointer in {directory}; the index is incomplete, rebuild it") from None
        except (ValueError, KeyError, TypeError, ConfigError) as exc:
            raise StoreError(f"unreadable pgvector pointer {path} ({exc}); rebuild the index") from exc
        self.open(name, built_on=str(pointer.get("server", "")))

    def open(self, index_name: str, built_on: str = "") -> None:
        """Attach to an index already in the database; refuses another dimension or kind."""
        self._writer.abort()
        self.index_name, self.table = check_index_name(index_name), table_name(index_name)
        self._version = -1  # lets _read run before we know the real version
        try:
            rows = self._read(f"SELECT version, dim, kind, hnsw_m, ef_construction, table_name FROM {META_TABLE} "
                              "WHERE name = %s", (self.index_name,))
        finally:
            self._version = None
        if not rows:
            raise StoreError(f"index {self.index_name} is not in the database at {self.where}"
                             + (f" (it was built on {built_on})" if built_on and built_on != self.where else "")
                             + f": point --dsn / {pg_server.ENV_DSN} at that server, or rebuild the index")
        version, dim, kind, m, efc, table = rows[0]
        if isinstance(table, str) and re.fullmatch(r"rag_[a-z0-9_]{1,58}", table):
            self.table = table  # a replaced index lives in a table of its own
        if dim != self.dim:
            raise IndexMismatchError(f"index {self.index_name} in the database holds {dim}-d vectors, not "
                                     f"{self.dim}: open it with the embedder it was built with")
        if kind != self.kind:
            raise StoreError(f"index {self.index_name} is a pgvector {kind} index, not {self.kind}")
        self._version, self.hnsw_m, self.ef_construction = int(version), int(m), int(efc)

    def size_bytes(self) -> int:
        """Table, HNSW and source indexes, TOAST: what the index takes in the database."""
        rows = self._read("SELECT pg_total_relation_size(to_regclass(%s))", (f'"{self.table}"',))
        return int(rows[0][0] or 0) if rows else 0


def table_size(table: str, credentials=None, dsn: str | None = None) -> int:
    """Bytes an index's table takes (0 if it is not there), without opening the index."""
    import psycopg

    resolved = pg_server.resolve_dsn(dsn, credentials)
    try:
        with pg_server.get_pool(resolved).connection() as conn:
            row = conn.execute("SELECT pg_total_relation_size(to_regclass(%s))", (f'"{table}"',)).fetchone()
    except psycopg.Error as exc:
        raise pg_server.connection_error(exc, resolved) from None
    return int(row[0] or 0)
