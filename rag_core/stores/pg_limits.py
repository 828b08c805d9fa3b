"""How long the pgvector store waits for PostgreSQL, and how much it asks of it: one frozen
dataclass, read from the environment once by an entry point (the CLI, the app) and handed to
`pg_server.configure`. No module reads these variables itself.

Client-side deadlines (every statement on every connection has one; a server that stops answering
without closing the connection, a network partition or a frozen proxy, ends there):
  read_s     one statement of a search or any other read          RAG_PG_SEARCH_DEADLINE_S  60
  write_s    one statement of a write (a COPY batch, a delete)    RAG_PG_WRITE_DEADLINE_S   300
  commit_s   the commit with its HNSW build                       RAG_PG_COMMIT_DEADLINE_S  3 h 1 min
  ingest_s   all database waits of one write transaction          RAG_PG_INGEST_DEADLINE_S  6 h
connect_s is libpq's connect_timeout; TCP keepalives (10 s idle, 3 probes 5 s apart) and
tcp_user_timeout end a connection whose peer stopped acknowledging. statement_ms is the
server's statement_timeout for reads (a runaway query is cancelled by the server first).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import Mapping

from rag_core.core.errors import ConfigError


@dataclass(frozen=True)
class PgLimits:
    connect_s: int = 5
    statement_ms: int = 30_000
    write_statement_ms: int = 3 * 3600 * 1000
    read_s: float = 60.0
    write_s: float = 300.0
    commit_s: float = 3 * 3600 + 60.0
    ingest_s: float = 6 * 3600.0
    tcp_user_timeout_ms: int = 30_000
    pool_max: int = 8
    pool_wait_s: float = 30.0
    maintenance_work_mem: str = "1GB"

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> "PgLimits":
        """The limits set in `environ` (the entry point passes os.environ), the rest at their defaults.
        A value that is not a number in its range is refused with the variable's name."""
        values: dict[str, object] = {}
        for f in fields(cls):
            var, low, high = ENV[f.name]
            raw = str(environ.get(var, "")).strip()
            if not raw:
                continue
            if f.name == "maintenance_work_mem":
                values[f.name] = _memory(var, raw)
                continue
            try:
                number = float(raw)
            except ValueError:
                number = math.nan
            if not (low <= number <= high):
                raise ConfigError(f"{var}={raw[:40]!r} is not a number from {low:g} to {high:g}; unset it for the "
                                  f"default ({getattr(cls, f.name):g})")
            values[f.name] = int(number) if f.type in ("int", int) else number
        return cls(**values)


_DAY = 24 * 3600
#: field -> (environment variable, lowest, highest)
ENV: dict[str, tuple[str, float, float]] = {
    "connect_s": ("RAG_PG_CONNECT_TIMEOUT_S", 1, 600),
    "statement_ms": ("RAG_PG_STATEMENT_TIMEOUT_MS", 1, _DAY * 1000),
    "write_statement_ms": ("RAG_PG_WRITE_TIMEOUT_MS", 1, 7 * _DAY * 1000),
    "read_s": ("RAG_PG_SEARCH_DEADLINE_S", 0.1, _DAY),
    "write_s": ("RAG_PG_WRITE_DEADLINE_S", 0.1, 7 * _DAY),
    "commit_s": ("RAG_PG_COMMIT_DEADLINE_S", 0.1, 7 * _DAY),
    "ingest_s": ("RAG_PG_INGEST_DEADLINE_S", 0.1, 7 * _DAY),
    "tcp_user_timeout_ms": ("RAG_PG_TCP_USER_TIMEOUT_MS", 1000, 3600 * 1000),
    "pool_max": ("RAG_PG_POOL_MAX", 1, 1000),
    "pool_wait_s": ("RAG_PG_POOL_WAIT_S", 0.1, 3600),
    "maintenance_work_mem": ("RAG_PG_MAINTENANCE_WORK_MEM", 0, 0),
}


def _memory(var: str, raw: str) -> str:
    import re

    if not re.fullmatch(r"[1-9][0-9]{0,6}(kB|MB|GB)", raw):
        raise ConfigError(f"{var}={raw[:40]!r} is not a PostgreSQL memory size like 512MB or 4GB")
    return raw
