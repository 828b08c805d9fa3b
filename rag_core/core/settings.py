"""What the operator configured, read once at an entry point and passed down.

The CLI's `main` and the app's start call `OperatorSettings.load(os.environ, secrets_path, flags)`
and `configure(...)` it; modules ask `current()` for a value by its variable's name
(`RAG_PLAYGROUND_HOME`, `RAG_PG_DSN`, `OPENAI_API_KEY`, ...). A flag beats the environment, which
beats `.streamlit/secrets.toml`. Nothing else reads the environment or parses the secrets file,
and nothing writes the environment: a `--dsn` is a flag here, not an environment variable.

Library use with no entry point (a notebook, a test) gets the process's environment and secrets
file as they are at the call, so `monkeypatch.setenv` keeps working.
"""

from __future__ import annotations

import os
import threading
import tomllib
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any, Iterator, Mapping

from rag_core.core.errors import ConfigError

DEFAULT_SECRETS_PATH = Path(".streamlit/secrets.toml")
#: a secrets file is a page of keys; a bigger one is refused unread
MAX_SECRETS_BYTES = 1_000_000
_TRUE = ("1", "true", "yes", "on")


def read_secrets(path: str | Path | None) -> Mapping[str, Any]:
    """The one parser of `.streamlit/secrets.toml`: a missing file is empty; a file that is not
    TOML (or is over 1 MB) is a ConfigError that never quotes it (it holds keys)."""
    if path is None:
        return MappingProxyType({})
    path = Path(path)
    try:
        if not path.is_file():
            return MappingProxyType({})
        with open(path, "rb") as handle:
            raw = handle.read(MAX_SECRETS_BYTES + 1)
    except OSError as exc:
        raise ConfigError(f"{path} could not be read ({exc.strerror or exc}); fix its permissions or remove it") from None
    if len(raw) > MAX_SECRETS_BYTES:
        raise ConfigError(f"{path} is over {MAX_SECRETS_BYTES:,} bytes; a secrets file holds a few keys")
    try:
        return MappingProxyType(tomllib.loads(raw.decode("utf-8")))
    except (ValueError, UnicodeDecodeError):
        raise ConfigError(f"{path} is not valid TOML; fix it or remove it") from None


@dataclass(frozen=True)
class OperatorSettings:
    """The environment, the secrets file and the flags, merged once. `secrets` keeps the file's
    nested tables (e.g. `[pgvector] dsn`); `environ` is what the process was started with."""

    environ: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    secrets: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    flags: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    @classmethod
    def load(cls, environ: Mapping[str, str], secrets_path: str | Path | None = DEFAULT_SECRETS_PATH,
             flags: Mapping[str, str | None] | None = None) -> "OperatorSettings":
        given = {k: str(v) for k, v in (flags or {}).items() if v not in (None, "")}
        return cls(MappingProxyType(dict(environ)), read_secrets(secrets_path), MappingProxyType(given))

    def get(self, name: str, default: str | None = None) -> str | None:
        """A flag, else the environment, else a top-level string in the secrets file."""
        for source in (self.flags, self.environ):
            value = source.get(name)
            if value is not None and str(value).strip():
                return str(value).strip()
        value = self.secrets.get(name)
        if isinstance(value, (str, int, float, bool)) and str(value).strip():
            return str(value).strip()
        return default

    def enabled(self, name: str) -> bool:
        """A yes/no setting (1, true, yes, on)."""
        return str(self.get(name, "") or "").lower() in _TRUE

    def table(self, name: str) -> Mapping[str, Any]:
        """A `[name]` table of the secrets file ({} when absent)."""
        value = self.secrets.get(name)
        return value if isinstance(value, Mapping) else {}

    def with_flags(self, **flags: str | None) -> "OperatorSettings":
        merged = {**self.flags, **{k: str(v) for k, v in flags.items() if v not in (None, "")}}
        return replace(self, flags=MappingProxyType(merged))


_CONFIGURED: list[OperatorSettings] = []
_PINNED: list[bool] = [False]
_LOCK = threading.Lock()


def configure(settings: OperatorSettings | None, pinned: bool = False) -> None:
    """Set (or, with None, clear) the settings every module reads: called by an entry point.
    `pinned`: an outer entry point (a benchmark driving the app in-process) chose them, and the
    app's own start keeps them (`is_pinned`)."""
    with _LOCK:
        _CONFIGURED[:] = [settings] if settings is not None else []
        _PINNED[0] = pinned and settings is not None


def is_pinned() -> bool:
    with _LOCK:
        return _PINNED[0]


@contextmanager
def using(settings: OperatorSettings) -> Iterator[OperatorSettings]:
    """`configure(settings)` for a block, then whatever was configured before (the CLI's `main`,
    which tests call many times in one process)."""
    with _LOCK:
        before = list(_CONFIGURED)
        _CONFIGURED[:] = [settings]
    try:
        yield settings
    finally:
        with _LOCK:
            _CONFIGURED[:] = before


def current() -> OperatorSettings:
    """The configured settings; with no entry point, the environment and the secrets file as they
    are now."""
    with _LOCK:
        if _CONFIGURED:
            return _CONFIGURED[0]
    return OperatorSettings.load(os.environ)


__all__ = ["DEFAULT_SECRETS_PATH", "MAX_SECRETS_BYTES", "OperatorSettings", "configure", "current", "is_pinned", "read_secrets", "using"]
