"""A real embedded PostgreSQL + pgvector (pgserver) for the pgvector tests: started once per
session in a temp dir, reached over a unix socket (no network). Skips, with the reason, only
if pgserver cannot start here.

The data dir is not under pytest's basetemp: a parallel pytest run resets /tmp/pytest-of-<user>
to mode 0700, and the server's own system user (pgserver runs PostgreSQL as `pgserver` when we
are root) could then no longer reach it to shut down cleanly.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def pg_data_dir() -> Path:
    base = Path(tempfile.mkdtemp(prefix="rag-pg-test-"))
    yield base / "pgvector" / "pgdata"
    shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="session")
def pg_dsn(pg_data_dir) -> str:
    from rag_core.core.errors import StoreError
    from rag_core.stores import pg_server

    try:
        dsn = pg_server.embedded_dsn(pg_data_dir)
        pg_server.get_pool(dsn)  # extension + metadata table, once
    except StoreError as exc:
        pytest.skip(f"pgserver could not start an embedded PostgreSQL here: {exc}")
    yield dsn
    pg_server.stop_embedded(pg_data_dir)


@pytest.fixture
def pg_env(pg_dsn, monkeypatch) -> str:
    """RAG_PG_DSN points at the session's server, so `create_store("pgvector", dim)` finds it."""
    monkeypatch.setenv("RAG_PG_DSN", pg_dsn)
    return pg_dsn
