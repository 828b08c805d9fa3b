"""A PostgreSQL that stops answering without closing the connection (a network partition, a
frozen proxy) no longer hangs a search or an ingest for ever (issue 16, item 14: killed at 150 s
and 200 s). A proxy between the CLI and the embedded server freezes once it forwards the search
SQL, the COPY, the first query of a new connection or the writer's lock, or forwards everything
late; the CLI exits 2 within the deadline, naming the server and the wait. The bounds are
settings (PgLimits), read from the environment by the entry point only."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from helpers import write_fact_docs
from psycopg.conninfo import conninfo_to_dict

ROOT = Path(__file__).resolve().parents[2]


class FreezingProxy:
    """TCP on 127.0.0.1 -> the embedded server's unix socket. Once the client sends bytes that
    contain `marker`, they are forwarded and then nothing more moves either way (sockets stay open)."""

    def __init__(self, unix_path: str) -> None:
        self.unix_path, self.marker, self.frozen = unix_path, None, threading.Event()
        self.delay = 0.0  # > 0: a slow link that forwards every piece this many seconds late
        self.sockets: list[socket.socket] = []
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.sock.accept()
            except OSError:
                return
            server = socket.socket(socket.AF_UNIX)
            server.connect(self.unix_path)
            self.sockets += [client, server]
            threading.Thread(target=self._pump, args=(client, server, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(server, client, False), daemon=True).start()

    def close(self) -> None:
        """End every connection: the server's backends see the client go and roll back, so no
        frozen transaction keeps its locks for the tests that follow."""
        self.closed = True
        for sock in [self.sock, *self.sockets]:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()

    closed = False

    def _pump(self, source, target, from_client: bool) -> None:
        try:
            while not self.closed:
                if self.frozen.is_set():
                    time.sleep(0.2)
                    continue
                data = source.recv(65536)
                if not data:
                    target.close()
                    return
                if self.delay:
                    time.sleep(self.delay)
                target.sendall(data)
                if from_client and self.marker and self.marker in data:
                    self.frozen.set()
        except OSError:
            return


@pytest.fixture
def proxy(pg_dsn):
    params = conninfo_to_dict(pg_dsn)
    proxy = FreezingProxy(f"{params['host']}/.s.PGSQL.{params.get('port') or 5432}")
    yield proxy
    proxy.close()


def _cli(proxy, *args, timeout: float = 120, **env):
    dsn = f"postgresql://postgres@127.0.0.1:{proxy.port}/postgres"
    try:
        return subprocess.run([sys.executable, "-m", "rag_core", *args], cwd=ROOT, capture_output=True, text=True,
                              timeout=timeout, env=dict(os.environ, PYTHONPATH=str(ROOT), RAG_PG_DSN=dsn, **env))
    except subprocess.TimeoutExpired:
        pytest.fail(f"{args[0]} still hung after {timeout} s")


def test_a_search_frozen_after_its_sql_ends_within_the_deadline(proxy, tmp_path):
    docs = write_fact_docs(tmp_path / "docs")
    index = tmp_path / f"part-{os.getpid()}-{time.monotonic_ns()}"
    built = _cli(proxy, "ingest", str(docs), "--index", str(index), "--embedder", "hashing", "--store", "pgvector",
                 "--quiet")
    assert built.returncode == 0, built.stderr
    proxy.marker = b"<=>"  # pgvector's cosine distance: the search SQL
    started = time.monotonic()
    out = _cli(proxy, "query", "--index", str(index), "capital of Kenya", "--retriever", "dense",
               RAG_PG_SEARCH_DEADLINE_S="3")
    took = time.monotonic() - started
    assert out.returncode == 2, (out.returncode, out.stderr[-600:])
    assert len(out.stderr.strip().splitlines()) == 1, out.stderr[-1200:]  # no stray psycopg log lines
    assert "did not answer a read within 3 s" in out.stderr and f"127.0.0.1:{proxy.port}" in out.stderr
    assert took < 30, took


def test_an_ingest_frozen_mid_copy_ends_within_the_deadline(proxy, tmp_path):
    docs = write_fact_docs(tmp_path / "docs")
    proxy.marker = b"COPY"
    started = time.monotonic()
    out = _cli(proxy, "ingest", str(docs), "--index", str(tmp_path / "frozen"), "--embedder", "hashing", "--store",
               "pgvector", "--quiet", RAG_PG_WRITE_DEADLINE_S="3")
    took = time.monotonic() - started
    assert out.returncode == 2, (out.returncode, out.stderr[-600:])
    assert "did not answer a write of" in out.stderr and "within 3 s" in out.stderr
    assert f"127.0.0.1:{proxy.port}" in out.stderr
    assert took < 30, took


def _ingest(proxy, tmp_path, name: str, timeout: float = 60, **env):
    docs = write_fact_docs(tmp_path / f"docs-{name}")
    index = tmp_path / f"{name}-{os.getpid()}-{time.monotonic_ns()}"
    started = time.monotonic()
    out = _cli(proxy, "ingest", str(docs), "--index", str(index), "--embedder", "hashing", "--store", "pgvector",
               "--quiet", timeout=timeout, **env)
    return out, time.monotonic() - started


def test_a_server_frozen_after_the_connect_ends_the_first_query_within_the_deadline(proxy, tmp_path):
    """The first statement on a new connection (the extension check) had no deadline: it hung."""
    proxy.marker = b"pg_extension"
    out, took = _ingest(proxy, tmp_path, "probe", RAG_PG_SEARCH_DEADLINE_S="3")
    assert out.returncode == 2, (out.returncode, out.stderr[-600:])
    assert len(out.stderr.strip().splitlines()) == 1, out.stderr[-1200:]  # one message, no stray log lines
    assert "did not answer" in out.stderr and "within 3 s" in out.stderr, out.stderr[-600:]
    assert f"127.0.0.1:{proxy.port}" in out.stderr and "RAG_PG_SEARCH_DEADLINE_S" in out.stderr
    assert took < 40, took


def test_an_ingest_frozen_at_its_writer_lock_ends_within_the_deadline(proxy, tmp_path):
    """Every statement of the write transaction has the write deadline, not only the COPY."""
    proxy.marker = b"pg_try_advisory_xact_lock"
    out, took = _ingest(proxy, tmp_path, "lock", RAG_PG_WRITE_DEADLINE_S="3")
    assert out.returncode == 2, (out.returncode, out.stderr[-600:])
    assert len(out.stderr.strip().splitlines()) == 1, out.stderr[-1200:]  # one message, no stray log lines
    assert "did not answer" in out.stderr and "within 3 s" in out.stderr, out.stderr[-600:]
    assert f"127.0.0.1:{proxy.port}" in out.stderr and "RAG_PG_WRITE_DEADLINE_S" in out.stderr
    assert took < 40, took


def test_an_ingest_on_a_slow_link_ends_within_the_whole_ingest_deadline(proxy, tmp_path):
    """Each statement answers (late) within its own deadline; the ingest's database work as a whole
    is bounded too (RAG_PG_INGEST_DEADLINE_S)."""
    proxy.delay = 0.25
    out, took = _ingest(proxy, tmp_path, "slow", timeout=90, RAG_PG_INGEST_DEADLINE_S="2",
                        RAG_PG_CONNECT_TIMEOUT_S="30")
    assert out.returncode == 2, (out.returncode, out.stderr[-600:])
    assert len(out.stderr.strip().splitlines()) == 1, out.stderr[-1200:]
    assert "within 2 s" in out.stderr and "RAG_PG_INGEST_DEADLINE_S" in out.stderr, out.stderr[-600:]
    assert f"127.0.0.1:{proxy.port}" in out.stderr
    assert took < 60, took


@pytest.mark.parametrize("value", ["0", "-1", "abc", "1e99", "nan"])
def test_a_bad_bound_in_the_environment_is_refused_naming_the_variable(value):
    from rag_core.core.errors import ConfigError
    from rag_core.stores.pg_limits import PgLimits

    with pytest.raises(ConfigError, match="RAG_PG_WRITE_DEADLINE_S"):
        PgLimits.from_env({"RAG_PG_WRITE_DEADLINE_S": value})


def test_the_bounds_are_settings_passed_down_not_read_by_the_modules(monkeypatch):
    """The entry point reads the environment once; pg_server uses what it was given."""
    from rag_core.stores import pg_server
    from rag_core.stores.pg_limits import PgLimits

    limits = PgLimits.from_env({"RAG_PG_CONNECT_TIMEOUT_S": "7", "RAG_PG_TCP_USER_TIMEOUT_MS": "9000"})
    assert (limits.connect_s, limits.tcp_user_timeout_ms) == (7, 9000)
    monkeypatch.setenv("RAG_PG_CONNECT_TIMEOUT_S", "99")
    previous = pg_server.configure(limits)
    try:
        kwargs = pg_server.connect_kwargs()
        assert kwargs["connect_timeout"] == 7 and kwargs["tcp_user_timeout"] == 9000 and kwargs["keepalives"] == 1
    finally:
        pg_server.configure(previous)
    for module in ("pg_server.py", "pgvector_store.py", "pg_limits.py"):
        assert "os.environ.get(\"RAG_PG_" not in (ROOT / "rag_core" / "stores" / module).read_text()
