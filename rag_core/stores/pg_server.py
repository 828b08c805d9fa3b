"""Where the pgvector store's PostgreSQL is, and how we talk to it.

A DSN (`--dsn`, `RAG_PG_DSN`, `.streamlit/secrets.toml`) names a server; with none, an embedded
PostgreSQL 16 + pgvector (`pgserver`) is started with its data under the app's home. One
connection pool per server per process (psycopg_pool), with connect and statement timeouts.
Every DSN that reaches a message, a log, a pointer file or the page goes through `redact_dsn`:
a password never leaves this process. Connection failures become StoreErrors that say what to do.
"""

from __future__ import annotations

import errno
import logging
import os
import re
import threading
from urllib.parse import unquote
import warnings
from pathlib import Path

from rag_core.core.errors import DiskFullError, StoreError
from rag_core.core.settings import current
from rag_core.stores import pg_owners, pg_wait
from rag_core.stores.pg_limits import PgLimits
from rag_core.core.safety import AddressPolicy, AddressRefused, resolve_checked
from rag_core.core.errors import ConfigError
from rag_core.core.safety import LOCAL_MODEL_NETWORKS
from rag_core.core.paths import home

ENV_DSN = "RAG_PG_DSN"
MASK = "***"
#: how long we wait and how much we ask: set by the entry point (PgLimits.from_env), see pg_limits
_LIMITS = [PgLimits()]
EMBEDDED = "embedded"
_KV_PASSWORD = re.compile(r"(password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)", re.IGNORECASE)


# ---- redaction -----------------------------------------------------------------------


def _split_url(dsn: str) -> tuple[str, str, str, str]:
    """(scheme://, userinfo, @host..., ?query) by hand: urllib rejects some DSNs libpq accepts."""
    scheme, rest = dsn.split("://", 1)
    authority_end = min([i for i in (rest.find("/"), rest.find("?")) if i >= 0] or [len(rest)])
    authority, tail = rest[:authority_end], rest[authority_end:]
    userinfo, at, host = authority.rpartition("@")
    path, q, query = tail.partition("?")
    return f"{scheme}://", userinfo if at else "", (at + host + path) if at else (authority + path), query if q else ""


def _is_url(dsn: str) -> bool:
    """A URL DSN, as libpq decides it (the scheme at the very start); `password=ab://` is not one.
    Text with `://` that parses neither way is treated as a URL, so its userinfo is masked."""
    if dsn.startswith(("postgresql://", "postgres://")):
        return True
    if "://" not in dsn:
        return False
    from psycopg.conninfo import conninfo_to_dict

    try:
        conninfo_to_dict(dsn)
    except Exception:  # noqa: BLE001 - neither form: mask it as a URL
        return True
    return False


def redact_dsn(dsn: str | None) -> str:
    """The DSN with its password (URL userinfo, `password=` parameter or key=value) replaced by ***."""
    if not dsn:
        return EMBEDDED
    text = str(dsn)[:2000]
    if not _is_url(text):
        return _redact_key_values(text)
    scheme, userinfo, host, query = _split_url(text)
    user, colon, _ = userinfo.partition(":")
    params = "&".join(f"{k}={MASK}" if _is_password_key(k) else f"{k}{e}{v}"
                      for k, e, v in (p.partition("=") for p in query.split("&") if p))
    return f"{scheme}{user}{':' + MASK if colon else ''}{host}" + (f"?{params}" if params else "")


def _redact_key_values(text: str) -> str:
    """A key=value DSN with its password masked, parsed as libpq parses it (quotes and backslash
    escapes: `password='a b\\'c'`, `password=sec\\ ret`). One that does not parse keeps nothing
    after the word password."""
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    try:
        params = conninfo_to_dict(text)
    except Exception:  # noqa: BLE001 - unparseable: mask from the first `password` to the end
        head, found, _ = text.lower().partition("password")
        return text[:len(head)] + f"password={MASK}" if found else text
    return make_conninfo("", **{k: (MASK if k == "password" else v) for k, v in params.items()})


def dsn_password(dsn: str | None) -> str | None:
    """The password written in `dsn`, if any: what `redact_text` must remove from any message."""
    if not dsn:
        return None
    if not _is_url(dsn):
        from psycopg.conninfo import conninfo_to_dict

        try:
            return conninfo_to_dict(dsn).get("password") or None
        except Exception:  # noqa: BLE001
            match = _KV_PASSWORD.search(dsn)
            return match.group(2).strip("'") if match else None
    _, userinfo, _, query = _split_url(dsn)
    for key, _, value in (p.partition("=") for p in query.split("&") if p):
        if _is_password_key(key) and value:
            return unquote(value)
    password = userinfo.partition(":")[2]
    return unquote(password) if password else None


def _is_password_key(key: str) -> bool:
    """libpq decodes a URL's query keys too: `?pass%77ord=` sets the password."""
    return unquote(key).lower() == "password"


def _raw_passwords(dsn: str) -> list[str]:
    """Every password as written (percent-encoded, if it was) in a URL DSN: userinfo and query."""
    if not _is_url(dsn):
        return []
    _, userinfo, _, query = _split_url(dsn)
    found = [v for k, _, v in (p.partition("=") for p in query.split("&") if p) if _is_password_key(k) and v]
    return [userinfo.partition(":")[2], *found]


def redact_text(text: object, dsn: str | None) -> str:
    """`text` with the DSN and its password removed (driver messages sometimes echo them)."""
    out = str(text)
    if dsn:
        out = out.replace(dsn, redact_dsn(dsn))
        raws = _raw_passwords(dsn)
        for form in sorted({dsn_password(dsn), *raws, *map(unquote, raws)} - {None}, key=len, reverse=True):
            if len(form) >= 3:
                out = out.replace(form, MASK)
    return out


def configure(limits: PgLimits) -> PgLimits:
    """Use `limits` in this process from now on (pools opened later); the previous ones are returned."""
    previous, _LIMITS[0] = _LIMITS[0], limits
    pg_wait.set_default(limits.read_s)
    return previous


def limits() -> PgLimits:
    return _LIMITS[0]


# ---- which server --------------------------------------------------------------------


def configured_dsn(explicit: str | None = None, credentials=None) -> str | None:
    """`explicit`, else a `pg_dsn` on the credentials (for a DSN typed in the app one day), else
    the CLI's --dsn, else RAG_PG_DSN, else `.streamlit/secrets.toml` (the operator settings); None:
    the embedded server."""
    if explicit:
        return explicit.strip()
    value = getattr(credentials, "pg_dsn", None)
    if value:
        return value.strip()
    settings = current()
    value = settings.get(ENV_DSN) or settings.table("pgvector").get("dsn")
    return value.strip() if isinstance(value, str) and value.strip() else None


def guard_typed_dsn(dsn: str, allow_local: bool = False, resolver=None) -> str:
    """A DSN typed in the browser, checked like a typed base URL: one TCP host whose address the
    crawler's guard allows (loopback and private networks only when the operator allows local
    servers), pinned with `hostaddr` so psycopg connects to that checked address and no other.
    Messages never repeat the DSN (it may hold a password)."""
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    text = (dsn or "").strip()
    if not text or len(text) > 2000:
        raise ConfigError("a PostgreSQL DSN is one line of at most 2,000 characters, e.g. "
                          "postgresql://user:password@db.example.com:5432/rag")
    try:
        params = conninfo_to_dict(text)
    except Exception:  # psycopg's message can quote the DSN, password included
        raise ConfigError("that is not a PostgreSQL connection string (e.g. "
                          "postgresql://user:password@db.example.com:5432/rag)") from None
    host, port = str(params.get("host") or ""), str(params.get("port") or "5432")
    if not host or host.startswith("/") or "," in host or "," in port or params.get("hostaddr"):
        raise ConfigError("a DSN typed here names one server by host name or address (no socket path, "
                          "no list of hosts, no hostaddr)")
    refused = sorted(k for k in params if k not in TYPED_DSN_ALLOWED
                     and not (k == "sslrootcert" and params[k] == "system"))
    if refused:
        raise ConfigError(f"a DSN typed here may not set {', '.join(refused)}: it sets the server, port, "
                          "database, user, password, sslmode and connection timings only (files, services, "
                          "Kerberos and OAuth on the machine this app runs on are the operator's); nothing was sent")
    networks = LOCAL_MODEL_NETWORKS if allow_local else ()
    try:
        addresses = resolve_checked(host, int(port), AddressPolicy(allow_networks=networks), resolver)
    except AddressRefused as exc:
        raise ConfigError(f"refused: {str(exc).partition(';')[0]}; nothing was sent. A database on this machine or "
                          "a private network is for the operator to configure (RAG_PG_DSN or secrets.toml)") from None
    except (OSError, ValueError) as exc:
        raise ConfigError(f"the database host could not be resolved ({type(exc).__name__})") from None
    return make_conninfo(text, hostaddr=addresses[0], **isolated_from_operator(params))


#: conninfo keys a visitor's DSN may set: where the server is, who logs in, and how TLS and the
#: connection behave. Anything else is refused, including whatever a newer libpq adds.
TYPED_DSN_ALLOWED = frozenset({
    "host", "port", "dbname", "user", "password", "sslmode", "sslnegotiation", "sslsni", "sslcompression",
    "channel_binding", "ssl_min_protocol_version", "ssl_max_protocol_version", "min_protocol_version",
    "max_protocol_version", "connect_timeout", "keepalives", "keepalives_idle", "keepalives_interval",
    "keepalives_count", "tcp_user_timeout", "target_session_attrs", "load_balance_hosts", "options",
    "application_name", "client_encoding"})
#: examples of what is refused: each names a file, a service or credentials on the operator's
#: machine (a password, a client key, a Kerberos ticket, an OAuth client) or writes a file there
TYPED_DSN_REFUSED = frozenset({"passfile", "service", "servicefile", "sslkey", "sslcert", "sslrootcert",
                               "sslcrl", "sslcrldir", "sslpassword", "sslkeylogfile", "requirepeer", "krbsrvname",
                               "gsslib", "gssencmode", "gssdelegation", "require_auth", "oauth_issuer",
                               "oauth_client_id", "oauth_client_secret", "oauth_scope", "hostaddr"})
#: a path that never exists: libpq then loads no client certificate or key for the typed DSN
NO_SUCH_FILE = "/nonexistent/rag-playground/typed-dsn"
#: the only authentication a visitor's server may ask for: a password (never the operator's
#: Kerberos ticket, SSPI identity or OAuth client), or none
TYPED_DSN_AUTH = "password,md5,scram-sha-256,none"


def isolated_from_operator(params: dict) -> dict:
    """Explicit values for every connection parameter libpq would otherwise take from the operator's
    environment (PGPASSWORD, PGPORT, PGUSER, PGOPTIONS, ... every PG* variable this libpq reads) or
    files (~/.pgpass, PGPASSFILE, a service file, ~/.postgresql/): an explicit value, even an empty
    one, is never replaced by the environment's or a service file's. So only what the visitor
    typed, and these fixed values, reach their server."""
    from psycopg import pq

    user = str(params.get("user") or "postgres")  # libpq's default is the OS user: the operator's name
    sslmode = str(params.get("sslmode") or "prefer")
    fixed = {"password": str(params.get("password") or ""), "passfile": NO_SUCH_FILE, "user": user,
             "dbname": str(params.get("dbname") or user), "port": str(params.get("port") or "5432"),
             "sslcert": NO_SUCH_FILE, "sslkey": NO_SUCH_FILE, "sslpassword": "", "sslkeylogfile": "",
             "sslrootcert": "system" if sslmode == "verify-full" else NO_SUCH_FILE, "sslcertmode": "allow",
             "sslcrl": "", "sslcrldir": "", "application_name": "rag-playground", "client_encoding": "UTF8",
             "options": str(params.get("options") or ""), "sslmode": sslmode, "requirepeer": "",
             "gssencmode": "disable", "gssdelegation": "0", "krbsrvname": "postgres", "gsslib": "",
             "require_auth": TYPED_DSN_AUTH, "target_session_attrs": "any", "min_protocol_version": "3.0",
             "max_protocol_version": "3.0", "oauth_issuer": "", "oauth_client_id": "",
             "oauth_client_secret": "", "oauth_scope": "",
             "connect_timeout": str(params.get("connect_timeout") or limits().connect_s)}
    out = {}
    for option in pq.Conninfo.get_defaults():
        key = option.keyword.decode()
        if key in fixed:
            out[key] = fixed[key]
        elif key in params and key in TYPED_DSN_ALLOWED:
            out[key] = str(params[key])
        elif option.envvar and key not in ("service", "host", "hostaddr"):
            out[key] = option.compiled.decode() if option.compiled else ""
    return out


def embedded_data_dir() -> Path:
    return home() / "pgvector" / "pgdata"


# psycopg_pool logs each failed background reconnect at WARNING (and psycopg a rollback that failed
# on a closed connection); with no handler configured, Python prints those as stray "error
# connecting in 'rag-pgvector'" lines on stderr. Our own errors say it once; an app that
# configures logging still receives these records.
logging.getLogger("psycopg").addHandler(logging.NullHandler())

_EMBEDDED: dict[Path, object] = {}
_LOCK = threading.Lock()


def embedded_dsn(data_dir: Path | None = None) -> str:
    """Start (or join) the embedded server for `data_dir` and return its unix-socket DSN."""
    data_dir = Path(data_dir or embedded_data_dir())
    with _LOCK:
        if data_dir in _EMBEDDED:
            return _EMBEDDED[data_dir].get_uri()
        data_dir.parent.mkdir(parents=True, exist_ok=True)
        pg_owners.join(data_dir)  # an owner until this process ends, however it ends (see pg_owners)
        try:
            server = _start(data_dir)
            dsn = server.get_uri()
        except BaseException:
            pg_owners.leave(data_dir)
            raise
        _EMBEDDED[data_dir] = server
        return dsn


def _start(data_dir: Path):
    """pgserver's server for `data_dir`, started if it is not running; StoreErrors that say why not."""
    try:
        pg_owners.drop_stale_pid_file(data_dir)
        pg_owners.prune_handle_list(data_dir)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # platformdirs: XDG_RUNTIME_DIR unset
            import pgserver

            # pgserver logs the whole server log at ERROR when a start fails: our error says it once
            logging.getLogger("pgserver").setLevel(logging.CRITICAL)
            # pgserver's own stop-at-exit misses a killed process: the reaper stops it instead
            server = pgserver.get_server(data_dir, cleanup_mode=None)
        pg_owners.ensure_reaper(data_dir)
        return server
    except ImportError as exc:
        raise StoreError("the embedded PostgreSQL needs `pip install pgserver`; or point at a server "
                         f"with --dsn / {ENV_DSN}") from exc
    except Exception as exc:  # noqa: BLE001 - pgserver raises many kinds; all mean "did not start"
        if _disk_full(exc, data_dir):
            raise DiskFullError(f"no space left on device for the embedded PostgreSQL in {data_dir}"
                                f"{_log_line(data_dir)}: free some disk space (or point RAG_PLAYGROUND_HOME at a "
                                "bigger disk) and try again", kind="disk_full", path=str(data_dir)) from None
        raise StoreError(f"could not start the embedded PostgreSQL in {data_dir} ({type(exc).__name__}: "
                         f"{str(exc)[:300]}); see {data_dir / 'log'}, or point at a server with --dsn / "
                         f"{ENV_DSN}") from None


#: how much of the server's log is read to find the cause of a failure
LOG_TAIL_BYTES = 64 * 1024
_NO_SPACE = ("no space left on device", "could not extend file", "disk full")


def log_tail(data_dir: Path, since: int | None = None) -> str:
    """The last LOG_TAIL_BYTES of the server's log (only what was written after offset `since`)."""
    try:
        with open(Path(data_dir) / "log", "rb") as handle:
            end = handle.seek(0, os.SEEK_END)
            handle.seek(max(0, end - LOG_TAIL_BYTES, since or 0))
            return handle.read().decode("utf-8", "replace")
    except OSError:
        return ""


def log_mark(dsn: str | None) -> int | None:
    """Where the embedded server's log ends now (None for another server): a later failure looks
    only at what was logged after it, never at an old incident."""
    data_dir = _embedded_dir(dsn)
    try:
        return (data_dir / "log").stat().st_size if data_dir else None
    except OSError:
        return 0


def _embedded_dir(dsn: str | None) -> Path | None:
    return next((d for d, server in list(_EMBEDDED.items()) if dsn and server.get_uri() == dsn), None)


def _disk_full(exc: BaseException, data_dir: Path | None, since: int | None = None) -> bool:
    if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
        return True
    text = f"{exc} {getattr(exc, 'stderr', '') or ''} {getattr(exc, 'output', '') or ''}".lower()
    if data_dir is not None:
        text += log_tail(data_dir, since).lower()
    return any(marker in text for marker in _NO_SPACE)


def _log_line(data_dir: Path, since: int | None = None) -> str:
    """The server log's line that says the disk is full, bounded (the log itself is never printed)."""
    for line in reversed(log_tail(data_dir, since).splitlines()):
        if any(marker in line.lower() for marker in _NO_SPACE):
            return f" (server log: {line.strip()[:200]})"
    return ""


def disk_full_error(exc: BaseException, dsn: str | None, since: int | None = None) -> DiskFullError | None:
    """A DiskFullError if `exc` (or, for the embedded server, its log since `since`) says the disk is
    full: one line naming where, and what to do. None otherwise."""
    data_dir = _embedded_dir(dsn)
    if not _disk_full(exc, data_dir, since):
        return None
    if data_dir is not None:
        return DiskFullError(f"no space left on device for the embedded PostgreSQL in {data_dir}"
                             f"{_log_line(data_dir, since)}: free some disk space (or point RAG_PLAYGROUND_HOME at "
                             "a bigger disk) and try again; nothing was written", kind="disk_full",
                             path=str(data_dir))
    return DiskFullError(f"no space left on device for PostgreSQL at {redact_dsn(dsn)}: free some disk space on "
                         "the database server and try again; nothing was written", kind="disk_full")


def stop_embedded(data_dir: Path) -> None:
    """Stop the embedded server this process started for `data_dir` (if no other process uses it)."""
    with _LOCK:
        server = _EMBEDDED.pop(Path(data_dir), None)
    if server is not None:
        forget_pool(server.get_uri())
        server.cleanup()
    pg_owners.leave(Path(data_dir), stop_if_last=True)  # else the reaper stops it once nobody owns it


def resolve_dsn(explicit: str | None = None, credentials=None) -> str:
    return configured_dsn(explicit, credentials) or embedded_dsn()


# ---- connections ---------------------------------------------------------------------


def connect_kwargs() -> dict:
    """How every connection is made: libpq's connect timeout, the server's statement timeout for
    reads, TCP keepalives and tcp_user_timeout (a peer that stops acknowledging ends the connection),
    and the connection class whose every wait has a client-side deadline (pg_wait)."""
    lim = limits()
    return {"connect_timeout": lim.connect_s, "autocommit": True,
            "options": f"-c statement_timeout={lim.statement_ms}", "application_name": "rag-playground",
            "keepalives": 1, "keepalives_idle": 10, "keepalives_interval": 5, "keepalives_count": 3,
            "tcp_user_timeout": lim.tcp_user_timeout_ms}


def deadline(conn, seconds: float, what: str, dsn: str | None, variable: str = pg_wait.READ_VAR):
    """Every statement in the block on `conn` gets `seconds` to answer, or the connection is closed
    and a StoreError (kind "deadline") names the server, what it did not answer and the wait."""
    if dsn:
        pg_wait.set_where(conn, redact_dsn(dsn))
    return pg_wait.rule(conn, seconds, what, variable)


def connection_error(exc: Exception, dsn: str) -> StoreError:
    """A failed connect or query as one line that says what to do, without the password."""
    if isinstance(exc, StoreError):  # a deadline that passed (pg_wait): it names the server already
        return exc
    where = redact_dsn(dsn)
    full = disk_full_error(exc, dsn)
    if full is not None:
        return full
    text = redact_text(str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__, dsn)
    low = str(exc).lower()
    if "statement timeout" in low:
        hint = (f"the query ran longer than the statement timeout ({limits().statement_ms} ms): the server is "
                "overloaded, or the index needs HNSW (pgvector-hnsw); RAG_PG_STATEMENT_TIMEOUT_MS raises it")
    elif "timeout expired" in low:
        hint = (f"no answer within the {limits().connect_s} s connect timeout: is the host right and the server "
                "up? (RAG_PG_CONNECT_TIMEOUT_S raises it)")
    elif "password authentication failed" in low or "no password supplied" in low:
        hint = "the server refused the user or password in the DSN: fix --dsn / RAG_PG_DSN / secrets.toml"
    elif "database" in low and "does not exist" in low:
        hint = "that database does not exist: create it (createdb, or CREATE DATABASE) or fix the DSN"
    elif "role" in low and "does not exist" in low:
        hint = "that user does not exist on the server: fix the DSN's user"
    elif any(s in low for s in ("invalid dsn", "invalid connection option", "missing \"=\"", "invalid uri",
                                "invalid integer value", "invalid sslmode")):
        hint = "the DSN is not valid: use postgresql://user:password@host:5432/dbname"
    else:
        hint = ("is the server running and reachable? start it (e.g. `docker run -p 5432:5432 "
                "-e POSTGRES_PASSWORD=... pgvector/pgvector:pg16`) or fix the host/port in the DSN")
    return StoreError(f"cannot use PostgreSQL at {where}: {text} — {hint}")


def extension_error(exc: Exception, dsn: str, database: str, user: str) -> StoreError:
    if isinstance(exc, StoreError):
        return exc
    where = redact_dsn(dsn)
    low = str(exc).lower()
    if "control file" in low or "is not available" in low:
        return StoreError(f"the PostgreSQL server at {where} has no pgvector extension installed: use the "
                          "pgvector/pgvector:pg16 image or install pgvector on the server, then run "
                          f"`CREATE EXTENSION vector;` in database {database}")
    return StoreError(f"the pgvector extension is not enabled in database {database} at {where}, and user {user} "
                      f"may not enable it: have a superuser run `CREATE EXTENSION vector;` in {database} once, "
                      "then retry")


def _probe(dsn: str) -> None:
    """Connect once (clear errors), enable pgvector if allowed, create the metadata table."""
    import psycopg

    try:
        conn = pg_wait.connection_class().connect(dsn, **connect_kwargs())
    except psycopg.Error as exc:
        raise connection_error(exc, dsn) from None
    pg_wait.set_where(conn, redact_dsn(dsn))
    with conn:
        try:
            has = conn.execute("SELECT 1 FROM pg_extension WHERE extname = 'vector'").fetchone()
            if not has:
                conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
        except psycopg.Error as exc:
            info = conn.info
            raise extension_error(exc, dsn, info.dbname, info.user) from None
        try:
            ensure_metadata(conn)
        except psycopg.errors.InsufficientPrivilege as exc:
            raise StoreError(f"user {conn.info.user} may not create tables in database {conn.info.dbname} at "
                             f"{redact_dsn(dsn)}: GRANT CREATE ON SCHEMA public TO {conn.info.user} "
                             f"({redact_text(exc, dsn)})") from None
        except psycopg.Error as exc:
            raise connection_error(exc, dsn) from None


def _checked(conn) -> None:
    """The pool's check of a connection it hands out, within the connect timeout."""
    with deadline(conn, limits().connect_s, "a connection check", None, "RAG_PG_CONNECT_TIMEOUT_S"):
        conn.execute("")


def _configure(conn, where: str = "") -> None:
    from pgvector.psycopg import register_vector

    pg_wait.set_where(conn, where)
    register_vector(conn)


_POOLS: dict[str, object] = {}


def get_pool(dsn: str):
    """The process-wide pool for `dsn` (created, probed and opened on first use)."""
    with _LOCK:
        pool = _POOLS.get(dsn)
        if pool is not None and not getattr(pool, "closed", False):
            return pool
    _probe(dsn)
    from functools import partial

    from psycopg_pool import ConnectionPool

    with _LOCK:
        pool = _POOLS.get(dsn)
        if pool is None or getattr(pool, "closed", False):
            lim = limits()
            pool = ConnectionPool(dsn, min_size=1, max_size=lim.pool_max, kwargs=connect_kwargs(),
                                  connection_class=pg_wait.connection_class(),
                                  configure=partial(_configure, where=redact_dsn(dsn)),
                                  check=_checked, timeout=lim.pool_wait_s, open=False,
                                  name="rag-pgvector", reconnect_timeout=60)
            pool.open(wait=False)
            _POOLS[dsn] = pool
        return pool


def forget_pool(dsn: str) -> None:
    """Close and drop the pool (tests; a server that went away for good)."""
    with _LOCK:
        pool = _POOLS.pop(dsn, None)
    if pool is not None:
        pool.close()


META_TABLE = "rag_indexes"  # one row per index: manifest, dim, kind, version
_META_LOCK = 0x5241_4749_4E44_5800  # "RAGINDX": serialises creating the metadata table
_META_DDL = f"""CREATE TABLE IF NOT EXISTS {META_TABLE} (
    name text PRIMARY KEY, table_name text NOT NULL UNIQUE, dim integer NOT NULL, kind text NOT NULL,
    hnsw_m integer NOT NULL, ef_construction integer NOT NULL, manifest jsonb, version bigint NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now())"""


def ensure_metadata(conn) -> None:
    """Create `rag_indexes` if missing (a user without CREATE can use one an admin made)."""
    if conn.execute("SELECT to_regclass(%s)", (META_TABLE,)).fetchone()[0] is not None:
        return
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (_META_LOCK,))
        conn.execute(_META_DDL)
