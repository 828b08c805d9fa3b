"""A PostgreSQL that stops answering without closing the connection (a network partition, a
frozen proxy) no longer hangs a search or an ingest for ever (issue 16, item 14: killed at 150 s
and 200 s). A proxy between the CLI and the embedded server freezes once it forwards the search
SQL or the COPY; the CLI exits 2 within the deadline, naming the server and the wait."""

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

ROOT = Path(__file__).resolve().parents[1]


class FreezingProxy:
    """TCP on 127.0.0.1 -> the embedded server's unix socket. Once the client sends bytes that
    contain `marker`, they are forwarded and then nothing more moves either way (sockets stay open)."""

    def __init__(self, unix_path: str) -> None:
        self.unix_path, self.marker, self.frozen = unix_path, None, threading.Event()
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


def _cli(proxy, *args, **env):
    dsn = f"postgresql://postgres@127.0.0.1:{proxy.port}/postgres"
    return subprocess.run([sys.executable, "-m", "rag_core", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=120, env=dict(os.environ, PYTHONPATH=str(ROOT), RAG_PG_DSN=dsn, **env))


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
