"""Who may use a shared server, from `.streamlit/secrets.toml` (read by the app, passed here as a dict).

Two optional, independent gates:
- `[auth]`: Streamlit's OIDC sign-in (`st.login`). It needs `redirect_uri` (ending in
  `/oauth2callback`) and `cookie_secret`, then either `client_id`, `client_secret` and
  `server_metadata_url` in `[auth]` itself, or in exactly one `[auth.<provider>]` section.
- `[room] password = "..."`: a shared password for a room without an identity provider.

`RoomAuth.problems` says what is missing, so a half-written configuration is refused with a
message instead of opening the room to everyone. No network: the provider is not contacted.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from typing import Any, Mapping

PROVIDER_FIELDS = ("client_id", "client_secret", "server_metadata_url")


@dataclass(frozen=True)
class RoomAuth:
    oidc: bool = False
    #: the `[auth.<provider>]` name st.login is called with; None for a bare `[auth]`
    provider: str | None = None
    password: str | None = None
    problems: tuple[str, ...] = ()

    @classmethod
    def from_secrets(cls, secrets: Mapping[str, Any]) -> "RoomAuth":
        problems: list[str] = []
        room = secrets.get("room") or {}
        password = room.get("password") if isinstance(room, Mapping) else None
        if password is not None and (not isinstance(password, str) or len(password) < 8):
            problems.append("[room] password must be a string of at least 8 characters")
            password = None
        auth = secrets.get("auth")
        if auth is None:
            return cls(password=password, problems=tuple(problems))
        if not isinstance(auth, Mapping):
            return cls(oidc=True, password=password, problems=(*problems, "[auth] must be a table"))
        problems += oidc_problems(auth)
        sections = [k for k, v in auth.items() if isinstance(v, Mapping)]
        provider = sections[0] if len(sections) == 1 and not any(f in auth for f in PROVIDER_FIELDS) else None
        return cls(oidc=True, provider=provider, password=password, problems=tuple(problems))


def oidc_problems(auth: Mapping[str, Any]) -> list[str]:
    """What an `[auth]` table lacks for st.login to work (empty when complete)."""
    problems = []
    redirect = auth.get("redirect_uri")
    if not isinstance(redirect, str) or not redirect.startswith(("http://", "https://")) \
            or not redirect.rstrip("/").endswith("/oauth2callback"):
        problems.append("[auth] redirect_uri must be this server's URL ending in /oauth2callback")
    secret = auth.get("cookie_secret")
    if not isinstance(secret, str) or len(secret) < 16:
        problems.append("[auth] cookie_secret must be a random string of at least 16 characters")
    sections = {k: v for k, v in auth.items() if isinstance(v, Mapping)}
    if any(f in auth for f in PROVIDER_FIELDS):
        candidates = {"[auth]": auth}
    elif len(sections) == 1:
        candidates = {f"[auth.{k}]": v for k, v in sections.items()}
    elif sections:
        return problems + [f"[auth] has {len(sections)} provider sections ({', '.join(sorted(sections))}); "
                           "this app signs in with one: keep one"]
    else:
        return problems + ["[auth] needs client_id, client_secret and server_metadata_url (or one [auth.<provider>] "
                           "section with them)"]
    for where, table in candidates.items():
        missing = [f for f in PROVIDER_FIELDS if not (isinstance(table.get(f), str) and table.get(f))]
        if missing:
            problems.append(f"{where} lacks {', '.join(missing)}")
        url = table.get("server_metadata_url")
        if isinstance(url, str) and url and not url.startswith("https://"):
            problems.append(f"{where} server_metadata_url must be https://.../.well-known/openid-configuration")
    return problems


def check_password(typed: str, password: str) -> bool:
    """Constant-time comparison (of digests, so the lengths do not leak either)."""
    return hmac.compare_digest(hashlib.sha256(typed.encode()).digest(), hashlib.sha256(password.encode()).digest())
