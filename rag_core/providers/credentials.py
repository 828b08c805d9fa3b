"""API keys and base URLs for hosted providers, held so they never leak.

`Credentials` is frozen and its repr masks every key, so printing or logging it is safe.
Build it with `load_credentials(environ, secrets_path, typed)` — typed-in values beat the
environment, which beats `.streamlit/secrets.toml`. Every error path passes its text through
`redact(text, credentials)` before it reaches a message, a log or the page.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Mapping

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
MASK = "***"


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

    def __repr__(self) -> str:
        parts = []
        for f in fields(self):
            value = getattr(self, f.name)
            parts.append(f"{f.name}={mask(value) if f.name in SECRET_FIELDS else value!r}")
        return f"Credentials({', '.join(parts)})"

    __str__ = __repr__

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> "Credentials":
        env = os.environ if environ is None else environ
        return cls(**{name: (env.get(var) or None) for name, var in ENV_VARS.items()})

    @classmethod
    def from_mapping(cls, values: Mapping[str, object]) -> "Credentials":
        """From a dict keyed by field name or environment-variable name (secrets.toml style)."""
        out = {}
        for name, var in ENV_VARS.items():
            value = values.get(name, values.get(var))
            if isinstance(value, str) and value.strip():
                out[name] = value.strip()
        return cls(**out)

    @classmethod
    def from_secrets_file(cls, path: str | Path) -> "Credentials":
        """Read `.streamlit/secrets.toml` (top-level keys like OPENAI_API_KEY); missing file -> empty."""
        import tomllib

        path = Path(path)
        if not path.is_file():
            return cls()
        try:
            data = tomllib.loads(path.read_text())
        except (OSError, ValueError):  # never echo the file: it holds keys
            from ..errors import ConfigError

            raise ConfigError(f"{path} is not valid TOML; fix it or remove it") from None
        return cls.from_mapping(data)

    def merged(self, override: "Credentials") -> "Credentials":
        """`override`'s set fields win."""
        return replace(self, **{f.name: getattr(override, f.name) for f in fields(self) if getattr(override, f.name)})

    def with_values(self, **values: str | None) -> "Credentials":
        return replace(self, **values)

    def secrets(self) -> tuple[str, ...]:
        return tuple(v for v in (getattr(self, n) for n in SECRET_FIELDS) if v)

    def status(self) -> dict[str, str]:
        """For a Settings page: which keys are set, never their values."""
        return {ENV_VARS[n]: mask(getattr(self, n)) for n in SECRET_FIELDS}


def load_credentials(
    environ: Mapping[str, str] | None = None,
    secrets_path: str | Path | None = ".streamlit/secrets.toml",
    typed: Credentials | None = None,
) -> Credentials:
    """secrets.toml, overridden by the environment, overridden by what was typed this session."""
    creds = Credentials.from_secrets_file(secrets_path) if secrets_path else Credentials()
    creds = creds.merged(Credentials.from_env(environ))
    return creds.merged(typed) if typed else creds


# Things that look like keys even when we were not told them (a key in a base URL, a header echo).
_KEYLIKE = re.compile(r"(sk-[A-Za-z0-9_\-]{8,}|(?i:bearer)\s+[A-Za-z0-9._\-]{8,})")


def redact(text: object, credentials: Credentials | None = None) -> str:
    """`text` with every known secret (and anything shaped like an API key) replaced by ***."""
    out = str(text)
    for secret in sorted(credentials.secrets() if credentials else (), key=len, reverse=True):
        out = out.replace(secret, MASK)
    return _KEYLIKE.sub(MASK, out)
