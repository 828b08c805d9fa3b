"""API keys and base URLs for hosted providers, held so they never leak.

`Credentials` is frozen and its repr masks every key, so printing or logging it is safe.
Build it with `load_credentials(environ, secrets_path, typed)`: the environment beats
`.streamlit/secrets.toml` (both are the operator's), and what a visitor typed in the browser
(`typed`) is applied by one rule, `session_view`: the operator's keys go only to the base URLs
configured beside them (or the official endpoint when none is); a base URL typed in the
browser is used only with a key typed in the same session, and is marked in `visitor_urls`
so its connections go through the crawler's address guard (unless the operator allows local
model servers: RAG_ALLOW_LOCAL_MODEL_SERVERS=1 in the environment or secrets.toml).
Every text that leaves the process passes through `redact(text, credentials)`, which also
removes every key the operator configured and user:password parts of URLs.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Mapping, Sequence
from rag_core.core.settings import current, read_secrets
from rag_core.core.errors import ConfigError

#: environment variable for each field
ENV_VARS: Mapping[str, str] = {
    "openai_api_key": "OPENAI_API_KEY",
    "openai_base_url": "OPENAI_BASE_URL",
    "cohere_api_key": "COHERE_API_KEY",
    "cohere_base_url": "COHERE_BASE_URL",
    "compatible_base_url": "COMPATIBLE_BASE_URL",
    "compatible_api_key": "COMPATIBLE_API_KEY",
}
SECRET_FIELDS = ("openai_api_key", "cohere_api_key", "compatible_api_key")
#: `password=...` in a key/value DSN (its value, quoted or not)
_DSN_PASSWORD = re.compile(r"password\s*=\s*'?([^'\s]+)")
URL_FIELDS = ("openai_base_url", "cohere_base_url", "compatible_base_url")
#: provider -> (key field, base-URL field)
PROVIDER_FIELDS: Mapping[str, tuple[str, str]] = {
    "openai": ("openai_api_key", "openai_base_url"),
    "cohere": ("cohere_api_key", "cohere_base_url"),
    "compatible": ("compatible_api_key", "compatible_base_url"),
}
#: where an operator's key goes when no base URL is configured beside it (compatible has none)
DEFAULT_BASE_URLS: Mapping[str, str] = {"openai": "https://api.openai.com/v1", "cohere": "https://api.cohere.com"}
#: the operator's switch that lets a base URL typed in the browser reach loopback/private addresses
ALLOW_LOCAL_VAR = "RAG_ALLOW_LOCAL_MODEL_SERVERS"
DEFAULT_SECRETS_PATH = ".streamlit/secrets.toml"
MASK = "***"
#: configured values shorter than this are not treated as secrets when redacting implicitly
MIN_SECRET = 8


def _truthy(value: object) -> bool:
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in ("1", "true", "yes", "on")


def mask(secret: str | None) -> str:
    """`sk-…abcd`-style hint that a key is set, revealing at most its last 4 characters of 20+."""
    if not secret:
        return "not set"
    return f"set (…{secret[-4:]})" if len(secret) >= 20 else "set"


@dataclass(frozen=True, repr=False)
class Credentials:
    openai_api_key: str | None = None
    openai_base_url: str | None = None
    cohere_api_key: str | None = None
    cohere_base_url: str | None = None
    compatible_base_url: str | None = None
    compatible_api_key: str | None = None
    #: providers whose base URL was typed in the browser: their connections are address-guarded
    visitor_urls: tuple[str, ...] = ()
    #: the operator lets those base URLs reach loopback and private networks (e.g. Ollama)
    allow_local_servers: bool = False
    #: the operator's keys this view does not use, kept only so they are still redacted
    withheld: tuple[str, ...] = field(default=(), repr=False)
    #: a PostgreSQL DSN typed in this session, already address-checked and pinned (pg_server.guard_typed_dsn)
    pg_dsn: str | None = field(default=None, repr=False)

    def __repr__(self) -> str:
        parts = []
        for f in fields(self):
            if f.name in ("withheld", "pg_dsn"):
                continue
            value = getattr(self, f.name)
            parts.append(f"{f.name}={mask(value) if f.name in SECRET_FIELDS else _public(value)!r}")
        return f"Credentials({', '.join(parts)})"

    __str__ = __repr__

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> "Credentials":
        env = current().environ if environ is None else environ
        return cls(**{name: (env.get(var) or None) for name, var in ENV_VARS.items()},
                   allow_local_servers=_truthy(env.get(ALLOW_LOCAL_VAR, "")))

    @classmethod
    def from_mapping(cls, values: Mapping[str, object]) -> "Credentials":
        """From a dict keyed by field name or environment-variable name (secrets.toml style)."""
        out = {}
        for name, var in ENV_VARS.items():
            value = values.get(name, values.get(var))
            if isinstance(value, str) and value.strip():
                out[name] = value.strip()
        return cls(**out, allow_local_servers=_truthy(values.get(ALLOW_LOCAL_VAR, False)))

    @classmethod
    def from_secrets_file(cls, path: str | Path) -> "Credentials":
        """Read `.streamlit/secrets.toml` (top-level keys like OPENAI_API_KEY); missing file -> empty;
        a broken one is a ConfigError that never quotes it (core/settings.py: the one reader)."""
        return cls.from_mapping(read_secrets(path))

    def merged(self, override: "Credentials") -> "Credentials":
        """`override`'s set fields win."""
        return replace(self, **{f.name: getattr(override, f.name) for f in fields(self) if getattr(override, f.name)})

    def with_values(self, **values: str | None) -> "Credentials":
        return replace(self, **values)

    def secrets(self) -> tuple[str, ...]:
        """Every key this object knows, and the user:password parts of its base URLs."""
        keys = [v for v in (getattr(self, n) for n in SECRET_FIELDS) if v]
        for url in (getattr(self, n) for n in URL_FIELDS):
            keys += userinfo_secrets(url)
        if self.pg_dsn:
            keys += [self.pg_dsn, *userinfo_secrets(self.pg_dsn), *_dsn_passwords(self.pg_dsn)]
        return tuple(dict.fromkeys([*keys, *self.withheld]))

    def status(self) -> dict[str, str]:
        """For a Settings page: which keys are set, never their values."""
        return {ENV_VARS[n]: mask(getattr(self, n)) for n in SECRET_FIELDS}


def _dsn_passwords(dsn: str) -> list[str]:
    """The password in a DSN as libpq reads it (quotes, backslash escapes, URL encoding), else
    what the pattern finds: the whole password, never the part before a space or a quote."""
    from psycopg.conninfo import conninfo_to_dict

    try:
        password = conninfo_to_dict(dsn).get("password")
    except Exception:  # noqa: BLE001 - not a DSN libpq parses: the pattern's best guess
        return _DSN_PASSWORD.findall(dsn)
    return [str(password)] if password else []


def load_credentials(
    environ: Mapping[str, str] | None = None,
    secrets_path: str | Path | None = DEFAULT_SECRETS_PATH,
    typed: Credentials | None = None,
) -> Credentials:
    """The operator's secrets.toml overridden by the environment; with `typed` (what a visitor
    typed in the browser), the session's view of them by the rule in `session_view`."""
    if secrets_path is None:
        secrets: Mapping = {}
    elif Path(secrets_path) == Path(DEFAULT_SECRETS_PATH):
        secrets = current().secrets  # the operator settings' file, read once at the entry point
    else:
        secrets = read_secrets(secrets_path)
    creds = Credentials.from_mapping(secrets).merged(Credentials.from_env(environ))
    return session_view(creds, typed) if typed is not None else creds


def same_url(a: str | None, b: str | None) -> bool:
    """Same scheme, host, port and path (case of scheme/host and a trailing / ignored)."""
    from urllib.parse import urlsplit

    if not a or not b:
        return False
    try:
        pa, pb = urlsplit(a.strip()), urlsplit(b.strip())
        return ((pa.scheme.lower(), pa.hostname, pa.port, pa.username, pa.password, pa.path.rstrip("/"))
                == (pb.scheme.lower(), pb.hostname, pb.port, pb.username, pb.password, pb.path.rstrip("/")))
    except ValueError:
        return False


def session_view(operator: Credentials, typed: Credentials) -> Credentials:
    """What one browser session may use. Per provider: a typed base URL other than the one the
    operator configured (or the official default) is used with the typed key only (None if
    none was typed) and is marked in `visitor_urls`; otherwise the operator's base URL is used,
    with the typed key if one was typed, else the operator's key. The operator's unused keys
    stay in `withheld`, so redaction still removes them."""
    values: dict[str, str | None] = {}
    visitor: list[str] = []
    withheld: list[str] = []
    for provider, (key_field, url_field) in PROVIDER_FIELDS.items():
        op_key, op_url = getattr(operator, key_field), getattr(operator, url_field)
        typed_key, typed_url = getattr(typed, key_field), getattr(typed, url_field)
        if typed_url and not same_url(typed_url, op_url or DEFAULT_BASE_URLS.get(provider)):
            values[url_field], values[key_field] = typed_url, typed_key
            visitor.append(provider)
            if op_key and op_key != typed_key:
                withheld.append(op_key)
        else:
            values[url_field], values[key_field] = op_url, typed_key or op_key
            if typed_key and op_key and op_key != typed_key:
                withheld.append(op_key)
    return Credentials(**values, visitor_urls=tuple(visitor), allow_local_servers=operator.allow_local_servers,
                       withheld=tuple(withheld), pg_dsn=typed.pg_dsn)


# ---- user:password in URLs -------------------------------------------------------------------


def userinfo_secrets(url: str | None) -> list[str]:
    """The user-info of `url` (`user:key` before the @) and its parts: never to be shown."""
    if not url or "@" not in url:
        return []
    netloc = url.partition("://")[2].partition("/")[0].partition("?")[0].partition("#")[0]
    info = netloc.rpartition("@")[0]
    if not info:
        return []
    user, _, password = info.partition(":")
    from urllib.parse import unquote

    parts = [info, user, password, unquote(user), unquote(password)]
    return [p for p in dict.fromkeys(parts) if p and (p == info or len(p) >= MIN_SECRET)]


def has_userinfo(url: str | None) -> bool:
    return bool(userinfo_secrets(url))


def strip_userinfo(url: str) -> str:
    """`https://user:key@host/v1` -> `https://host/v1` (text without a scheme is left as it is)."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url
    netloc, slash, tail = rest.partition("/")
    return f"{scheme}{sep}{netloc.rpartition('@')[2]}{slash}{tail}"


def _public(value: object) -> object:
    return strip_userinfo(value) if isinstance(value, str) else value


# ---- redaction -------------------------------------------------------------------------------

# Things that look like keys even when we were not told them (a header echo, a key in a URL).
_KEYLIKE = re.compile(r"(sk-[A-Za-z0-9_\-]{8,}|(?i:bearer|basic)\s+[A-Za-z0-9._\-+/=]{8,})")
_URL_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.\-]{0,20}://)[^/@\s?#]{1,2000}@")
_TOML_SECRET = re.compile(r"""^[ \t]*["']?([A-Za-z_]{1,64})["']?[ \t]*=[ \t]*["']([^"'\r\n]{1,4000})["']""", re.M)


def _file_secrets(path: Path) -> list[str]:
    """Secrets in a secrets.toml even when it is not valid TOML (read line by line, bounded)."""
    try:
        if not path.is_file():  # a regular file only: a FIFO would block this error path
            return []
        with path.open("rb") as handle:
            text = handle.read(1_000_000).decode("utf-8", "replace")
    except OSError:
        return []
    secret_vars = {ENV_VARS[n] for n in (*SECRET_FIELDS, *URL_FIELDS)} | set(SECRET_FIELDS) | set(URL_FIELDS)
    out: list[str] = []
    for name, value in _TOML_SECRET.findall(text):
        if name in secret_vars:
            out += userinfo_secrets(value) if ("url" in name.lower()) else [value.strip()]
    return out


def configured_secrets(environ: Mapping[str, str] | None = None,
                       secrets_path: str | Path | None = DEFAULT_SECRETS_PATH) -> tuple[str, ...]:
    """Every key the operator configured (environment and secrets.toml, user-info of their base
    URLs included): what `redact` always removes. Never raises: it runs on error paths."""
    found = list(Credentials.from_env(environ).secrets())
    if secrets_path:
        found += _file_secrets(Path(secrets_path))
    return tuple(s for s in dict.fromkeys(found) if len(s) >= MIN_SECRET or "@" in s or ":" in s)


def redact(text: object, credentials: Credentials | None = None) -> str:
    """`text` with every secret replaced by ***: the keys in `credentials`, every key the operator
    configured (environment, secrets.toml), user:password in URLs, and anything key-shaped."""
    return redact_with(str(text), [*(credentials.secrets() if credentials else ()), *configured_secrets()])


def redact_with(text: str, secrets: Sequence[str]) -> str:
    """`text` with each of `secrets` (longest first), URL user-info and key-shaped strings masked."""
    for secret in sorted(set(s for s in secrets if s), key=len, reverse=True):
        text = text.replace(secret, MASK)
    text = _URL_USERINFO.sub(lambda m: f"{m.group(1)}{MASK}@", text)
    return _KEYLIKE.sub(MASK, text)


class StreamRedactor:
    """Redacts a text that arrives in pieces (a streamed answer): a key split across two pieces
    is still caught, because the word in progress is held back until whitespace ends it (at
    most `max_hold` characters, then it is flushed, redacted)."""

    def __init__(self, secrets: Sequence[str], max_hold: int = 512) -> None:
        self.secrets = [s for s in dict.fromkeys(secrets) if s]
        self.max_hold = max(max_hold, 2 * max((len(s) for s in self.secrets), default=0))
        self.pending = ""

    def feed(self, piece: str) -> str:
        """The redacted text that is safe to show now (possibly ""); the rest waits."""
        text = self.pending + piece
        cut = len(text)
        while cut > 0 and not text[cut - 1].isspace() and len(text) - cut <= self.max_hold:
            cut -= 1
        if len(text) - cut > self.max_hold:  # a "word" longer than any key: nothing to wait for
            cut = len(text)
        out, self.pending = text[:cut], text[cut:]
        return redact_with(out, self.secrets) if out else ""

    def flush(self) -> str:
        out, self.pending = self.pending, ""
        return redact_with(out, self.secrets) if out else ""
