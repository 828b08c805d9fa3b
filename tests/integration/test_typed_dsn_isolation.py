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
from psycopg.conninfo import conninfo_to_dict

from rag_core.core.errors import ConfigError
from rag_core.stores.pg_server import TYPED_DSN_REFUSED, guard_typed_dsn

SECRETS = {"PGPASSWORD": "env-secret-PGPASSWORD", "passfile": "pgpass-secret-FILE",
           "service": "service-secret-FILE", "PGUSER": "operator-user-name", "PGAPPNAME": "operator-app",
           "PGOPTIONS": "-c search_path=operator_secret_schema"}


CLEARTEXT = struct.pack("!i", 3)  # AuthenticationCleartextPassword
GSSAPI = struct.pack("!i", 7)  # AuthenticationGSS
OAUTH = struct.pack("!i", 10) + b"OAUTHBEARER\x00\x00"  # AuthenticationSASL offering OAuth only


class FakePostgres:
    """Logs every startup parameter and password message; answers SSL/GSS requests with N."""

    def __init__(self, auth: bytes = CLEARTEXT) -> None:
        self.auth = auth  # the authentication request body it sends (code, then any data)
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.received: list[bytes] = []
        self.done = threading.Event()  # set when a connection has been handled
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
            self.done.set()

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
        conn.sendall(b"R" + struct.pack("!i", 4 + len(self.auth)) + self.auth)
        if self.auth != CLEARTEXT:  # log whatever the client answers to Kerberos or OAuth
            self.received.append(b"answer:" + conn.recv(65536))
            return
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


# ---- issue 16 item 5, second round: every PG* variable, the service file, Kerberos and OAuth -----

KNOWN = {o.keyword.decode() for o in psycopg.pq.Conninfo.get_defaults()}  # this libpq's parameters


def test_no_parameter_is_left_for_the_operators_environment_to_fill():
    """Every parameter libpq would take from a PG* variable (or a service file) is given explicitly,
    whatever this libpq's version adds: an explicit value, even empty, is never replaced."""
    guarded = conninfo_to_dict(guard_typed_dsn("host=127.0.0.1 dbname=rag", allow_local=True))
    from_env = {o.keyword.decode() for o in psycopg.pq.Conninfo.get_defaults() if o.envvar} - {"service"}
    assert from_env <= set(guarded), sorted(from_env - set(guarded))


def test_the_operators_port_does_not_steer_a_typed_dsn(operator_secrets, monkeypatch):
    server = FakePostgres()
    monkeypatch.setenv("PGPORT", str(server.port))
    _connect(guard_typed_dsn("host=127.0.0.1 dbname=rag", allow_local=True))  # 5432, as the guard checked
    assert server.received == []


@pytest.mark.parametrize("auth", [GSSAPI, OAUTH], ids=["kerberos", "oauth"])
def test_a_server_asking_for_kerberos_or_oauth_gets_nothing(operator_secrets, tmp_path, monkeypatch, auth):
    """The operator's Kerberos ticket or OAuth client (from their service file) never answers a
    visitor's server: only password methods are allowed (require_auth)."""
    if auth == OAUTH and "oauth_issuer" not in KNOWN:
        pytest.skip("this libpq has no OAuth")
    services = tmp_path / "oauth_service.conf"
    services.write_text("[opsvc]\noauth_issuer=https://issuer.example\noauth_client_id=operator-client\n"
                        "oauth_client_secret=oauth-secret-FILE\n" if auth == OAUTH else "[opsvc]\nkrbsrvname=op\n")
    monkeypatch.setenv("PGSERVICEFILE", str(services))
    server = FakePostgres(auth)
    with pytest.raises(psycopg.OperationalError, match="authentication method requirement"):
        psycopg.connect(guard_typed_dsn(f"host=127.0.0.1 port={server.port}", allow_local=True),
                        connect_timeout=5).close()
    assert server.done.wait(5)
    assert server.received[-1] == b"answer:"  # the client hung up without a word


@pytest.mark.parametrize("key", ["sslkeylogfile", "oauth_issuer", "oauth_client_secret", "gssencmode",
                                 "gssdelegation", "require_auth", "scram_client_key", "replication", "hostaddr"])
def test_only_connection_settings_may_be_typed(key):
    """A typed DSN may set where the server is, who logs in, and how TLS and the connection
    behave; anything else (a key log file, OAuth, Kerberos, a parameter a newer libpq adds) is refused."""
    if key not in KNOWN:
        pytest.skip(f"this libpq has no {key}")
    with pytest.raises(ConfigError, match=key):
        guard_typed_dsn(f"host=127.0.0.1 dbname=rag {key}=x", allow_local=True)


def test_verify_full_uses_the_system_certificates_never_the_operators():
    guarded = conninfo_to_dict(guard_typed_dsn("host=127.0.0.1 sslmode=verify-full", allow_local=True))
    assert guarded["sslrootcert"] == "system"
    typed = conninfo_to_dict(guard_typed_dsn("host=127.0.0.1 sslmode=verify-full sslrootcert=system",
                                             allow_local=True))
    assert typed["sslrootcert"] == "system"
