"""A DSN typed on Settings reaches the visitor's server with none of the operator's PostgreSQL
secrets: not PGPASSWORD, not ~/.pgpass or PGPASSFILE, not a service file, and file-valued
parameters are refused (issue 16, item 5). A fake server speaks the start of the PostgreSQL
protocol, asks for a cleartext password, and logs everything it receives."""

from __future__ import annotations

import socket
import struct
import threading

import psycopg
import pytest

from rag_core.errors import ConfigError
from rag_core.stores.pg_server import TYPED_DSN_REFUSED, guard_typed_dsn

SECRETS = {"PGPASSWORD": "env-secret-PGPASSWORD", "passfile": "pgpass-secret-FILE",
           "service": "service-secret-FILE", "PGUSER": "operator-user-name", "PGAPPNAME": "operator-app",
           "PGOPTIONS": "-c search_path=operator_secret_schema"}


class FakePostgres:
    """Logs every startup parameter and password message; answers SSL/GSS requests with N."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.received: list[bytes] = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                conn.settimeout(5)
                try:
                    self._one(conn)
                except (OSError, struct.error):
                    pass

    def _read(self, conn, n: int) -> bytes:
        data = b""
        while len(data) < n:
            part = conn.recv(n - len(data))
            if not part:
                raise OSError("closed")
            data += part
        return data

    def _one(self, conn) -> None:
        while True:
            length, code = struct.unpack("!ii", self._read(conn, 8))
            body = self._read(conn, length - 8)
            if code in (80877103, 80877104):  # SSLRequest, GSSENCRequest
                conn.sendall(b"N")
                continue
            self.received.append(body)  # the startup message: user, database, options, ...
            break
        conn.sendall(b"R" + struct.pack("!ii", 8, 3))  # AuthenticationCleartextPassword
        kind = self._read(conn, 1)
        (length,) = struct.unpack("!i", self._read(conn, 4))
        self.received.append(kind + self._read(conn, length - 4))
        error = b"SFATAL\x00C28P01\x00Mpassword authentication failed\x00\x00"
        conn.sendall(b"E" + struct.pack("!i", len(error) + 4) + error)

    def text(self) -> str:
        return b"\n".join(self.received).decode("utf-8", "replace")


@pytest.fixture
def operator_secrets(tmp_path, monkeypatch):
    passfile = tmp_path / "pgpass"
    passfile.write_text(f"*:*:*:*:{SECRETS['passfile']}\n")
    passfile.chmod(0o600)
    services = tmp_path / "pg_service.conf"
    services.write_text(f"[opsvc]\npassword={SECRETS['service']}\nuser=service-user\n")
    home = tmp_path / "home"
    (home / ".postgresql").mkdir(parents=True)
    (home / ".pgpass").write_text(f"*:*:*:*:{SECRETS['passfile']}\n")
    (home / ".pgpass").chmod(0o600)
    for name in ("PGPASSWORD", "PGUSER", "PGAPPNAME", "PGOPTIONS"):
        monkeypatch.setenv(name, SECRETS[name])
    monkeypatch.setenv("PGPASSFILE", str(passfile))
    monkeypatch.setenv("PGSERVICEFILE", str(services))
    monkeypatch.setenv("PGSERVICE", "opsvc")
    monkeypatch.setenv("HOME", str(home))
    return SECRETS


def _connect(conninfo: str) -> None:
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(conninfo, connect_timeout=5).close()


@pytest.mark.parametrize("typed", ["postgresql://127.0.0.1:{port}/rag", "host=127.0.0.1 port={port}",
                                   "postgresql://visitor@127.0.0.1:{port}/rag"])
def test_no_operator_secret_reaches_the_visitors_server(operator_secrets, typed):
    server = FakePostgres()
    _connect(guard_typed_dsn(typed.format(port=server.port), allow_local=True))
    seen = server.text()
    for secret in operator_secrets.values():
        assert secret not in seen, (secret, seen)


def test_only_the_typed_password_is_sent(operator_secrets):
    server = FakePostgres()
    _connect(guard_typed_dsn(f"postgresql://visitor:typed-pw-123@127.0.0.1:{server.port}/rag", allow_local=True))
    assert server.received[-1] == b"ptyped-pw-123\x00"
    assert "user\x00visitor\x00" in server.text()


@pytest.mark.parametrize("key", sorted(TYPED_DSN_REFUSED))
def test_file_valued_parameters_are_refused(key):
    with pytest.raises(ConfigError, match=f"{key}|not a PostgreSQL connection string"):  # older libpq: unknown key
        guard_typed_dsn(f"host=127.0.0.1 dbname=rag {key}=/etc/passwd", allow_local=True)
