"""What the pgvector store prints when PostgreSQL fails: a full disk says "no space left on
device" in one line, without the server's log (issue 16, item 22), and the connection pool
prints no stray "error connecting in 'rag-pgvector'" lines (item 23)."""

from __future__ import annotations

import subprocess

import pytest

from rag_core.core.errors import DiskFullError
from rag_core.stores import pg_server

LOG = "\n".join(["LOG:  starting PostgreSQL 16"] * 2000 + [
    "FATAL:  could not write lock file \"postmaster.pid\": No space left on device"])


def test_a_start_that_fails_on_a_full_disk_says_so_in_one_line(tmp_path, monkeypatch, capfd):
    import pgserver

    data_dir = tmp_path / "pgdata"
    data_dir.mkdir()
    (data_dir / "log").write_text(LOG)

    def full(*args, **kwargs):
        import logging

        logging.getLogger("pgserver").error("Failed to start server.\n" + LOG)  # as pgserver does
        raise subprocess.CalledProcessError(1, ["pg_ctl", "start"])

    monkeypatch.setattr(pgserver, "get_server", full)
    with pytest.raises(DiskFullError) as caught:
        pg_server.embedded_dsn(data_dir)
    message = str(caught.value)
    assert "no space left on device" in message and str(data_dir) in message and "\n" not in message
    assert "starting PostgreSQL" not in message
    assert "starting PostgreSQL" not in capfd.readouterr().err  # the log is not dumped


def test_a_query_error_from_a_full_disk_names_it():
    exc = Exception('could not extend file "base/5/16385": No space left on device')
    error = pg_server.connection_error(exc, "postgresql://u@db.example.com/rag")
    assert isinstance(error, DiskFullError) and "no space left on device" in str(error)


POOL_SCRIPT = """
import socket, time
from rag_core.stores import pg_server
with socket.socket() as probe:
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]  # closed again: nothing listens there
dsn = f"postgresql://u@127.0.0.1:{port}/rag?connect_timeout=1"
pg_server._probe = lambda dsn: None  # straight to the pool, as after a server went away
pool = pg_server.get_pool(dsn)
time.sleep(2.5)  # the pool retries its connection in the background
pg_server.forget_pool(dsn)
"""


def test_the_pool_prints_no_stray_lines():
    """In a subprocess: pytest's own log capture would hide what a plain run prints."""
    import os
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    result = subprocess.run([sys.executable, "-c", POOL_SCRIPT], capture_output=True, text=True, timeout=60,
                            env=dict(os.environ, PYTHONPATH=str(root)))
    assert result.returncode == 0, result.stderr[-800:]
    assert "error connecting" not in result.stderr, result.stderr[-800:]


def test_a_refused_reconnect_is_one_error_of_ours_and_log_records_not_stray_lines(monkeypatch, capfd, caplog):
    """In process, as a plain run has it (no logging configured: Python's last-resort handler would
    print each record on stderr), the pool's failed reconnects print nothing; an app that does
    configure logging still gets them as records (caplog); the caller gets one StoreError."""
    import logging
    import socket
    import time
    from dataclasses import replace

    from rag_core.core.errors import StoreError
    from rag_core.stores.pgvector_store import PgVectorStore

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again: nothing listens there, every connect is refused
    dsn = f"postgresql://u@127.0.0.1:{port}/rag"
    monkeypatch.setattr(pg_server, "_probe", lambda dsn: None)  # as after the server went away
    monkeypatch.setattr(pg_server, "_LIMITS", [replace(pg_server.limits(), pool_wait_s=2.0)])
    monkeypatch.setattr(logging.root, "handlers", [])  # a plain run: nothing configured
    store = PgVectorStore("exact", 4, index_name="refused", dsn=dsn)
    store._version = 1  # an index that was opened before the server went away
    try:
        with pytest.raises(StoreError) as caught:
            store.count()
        time.sleep(1.0)  # more background retries
    finally:
        pg_server.forget_pool(dsn)
    assert f"127.0.0.1:{port}" in str(caught.value) and "\n" not in str(caught.value)
    err = capfd.readouterr().err
    assert "error connecting" not in err and "rag-pgvector" not in err, err[-800:]

    monkeypatch.setattr(logging.root, "handlers", [caplog.handler])  # an app that configures logging
    caplog.set_level(logging.WARNING, logger="psycopg")
    try:
        pg_server.get_pool(dsn)
        time.sleep(1.5)
    finally:
        pg_server.forget_pool(dsn)
    assert any("error connecting in 'rag-pgvector'" in r.getMessage() for r in caplog.records)
    assert "error connecting" not in capfd.readouterr().err
