"""Server-side state for a shared playground ("a room"): browser sessions kept across a reload,
and read-only snapshots a stakeholder can open. No Streamlit here; the app passes the directory.

Sessions (`SessionStore`) live under `<home>/sessions/`. A browser holds an unguessable token
(`new_token`, 256 bits); the file is named by sha256(token), so a directory listing is not a
set of credentials. Each file is an HMAC-signed pickle: the key is `<home>/sessions/.key`
(created 0600 on first use) and the MAC covers the token's hash too, so only a file this server
wrote for this very token is ever unpickled (a file copied under another name, or written by
anyone else, is refused and deleted). A session expires `ttl_s` after its last save (24 h by
default) and is at most `max_bytes` (5 MB); beyond `max_sessions` the oldest are removed.

Snapshots (`SnapshotStore`) live under `<home>/snapshots/<id>.json`: plain JSON (never
unpickled), an id of 128 random bits, at most `max_bytes` each (1 MB) and `max_count` in all;
listed and deleted by the operator (`python -m rag_core snapshots`).
"""

from __future__ import annotations

import copyreg
import hashlib
import hmac
import io
import json
import os
import pickle
import re
import secrets
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from types import MappingProxyType
from typing import Any

from rag_core.core.errors import ConfigError

#: a token from new_token(): 32 random bytes, urlsafe base64 without padding
TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{43}$")
#: a snapshot id: 16 random bytes, urlsafe base64 without padding
SNAPSHOT_ID_RE = re.compile(r"^[A-Za-z0-9_-]{22}$")
SESSION_TTL_S = 24 * 3600
SESSION_MAX_BYTES = 5 * 1024 * 1024
MAX_SESSIONS = 500
SNAPSHOT_MAX_BYTES = 1024 * 1024
MAX_SNAPSHOTS = 1000
SNAPSHOT_FORMAT = "rag-playground-snapshot"


def _mappingproxy(items: dict) -> MappingProxyType:
    return MappingProxyType(items)


#: frozen records hold read-only mappings (a turn's latencies): pickled as the dict they wrap
_DISPATCH = copyreg.dispatch_table.copy()
_DISPATCH[MappingProxyType] = lambda m: (_mappingproxy, (dict(m),))


def dumps(state: Any) -> bytes:
    """`state` pickled as a session file holds it (read-only mappings included)."""
    buf = io.BytesIO()
    pickler = pickle.Pickler(buf, protocol=pickle.HIGHEST_PROTOCOL)
    pickler.dispatch_table = _DISPATCH
    pickler.dump(state)
    return buf.getvalue()


def new_token() -> str:
    return secrets.token_urlsafe(32)


def valid_token(token: object) -> bool:
    return isinstance(token, str) and bool(TOKEN_RE.match(token))


def _atomic_write(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _read_at_most(path: Path, limit: int) -> bytes | None:
    """The file's bytes, or None when it is missing or larger than `limit`."""
    try:
        with open(path, "rb") as f:
            data = f.read(limit + 1)
    except OSError:
        return None
    return None if len(data) > limit else data


class TooLarge(ConfigError):
    """A session or snapshot beyond its size cap: nothing was written."""


class SessionStore:
    """Browser sessions by token; see the module docstring for the format and the limits."""

    MAC_BYTES = 32

    def __init__(self, root: str | Path, ttl_s: float = SESSION_TTL_S, max_bytes: int = SESSION_MAX_BYTES,
                 max_sessions: int = MAX_SESSIONS, clock=time.time):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.ttl_s, self.max_bytes, self.max_sessions, self.clock = ttl_s, max_bytes, max_sessions, clock
        self._key = self._load_key()

    def _load_key(self) -> bytes:
        path = self.root / ".key"
        key = _read_at_most(path, 64)
        if key is None or len(key) != 32:
            key = secrets.token_bytes(32)
            _atomic_write(path, key)
        return key

    def _path(self, token: str) -> Path:
        return self.root / (hashlib.sha256(token.encode()).hexdigest() + ".session")

    def _mac(self, token: str, body: bytes) -> bytes:
        return hmac.new(self._key, hashlib.sha256(token.encode()).digest() + body, hashlib.sha256).digest()

    def save(self, token: str, state: dict[str, Any]) -> int:
        """Keep `state` for `token`; returns its size. Raises TooLarge beyond the cap (the
        previous save is kept)."""
        if not valid_token(token):
            raise ConfigError("not a session token")
        body = dumps(state)
        if len(body) > self.max_bytes:
            raise TooLarge(f"this session is {len(body):,} bytes; a kept session is at most {self.max_bytes:,}. "
                           "Clear the chat or the comparisons to keep it across a reload.")
        _atomic_write(self._path(token), self._mac(token, body) + body)
        return len(body)

    def load(self, token: object) -> dict[str, Any] | None:
        """The state saved for `token`, or None (unknown, malformed, expired, oversize or not
        signed by this server for this token: such a file is removed)."""
        if not valid_token(token):
            return None
        path = self._path(token)
        try:
            age = self.clock() - path.stat().st_mtime
        except OSError:
            return None
        data = _read_at_most(path, self.max_bytes + self.MAC_BYTES)
        if age > self.ttl_s or data is None or len(data) < self.MAC_BYTES:
            path.unlink(missing_ok=True)
            return None
        mac, body = data[:self.MAC_BYTES], data[self.MAC_BYTES:]
        if not hmac.compare_digest(mac, self._mac(token, body)):
            path.unlink(missing_ok=True)
            return None
        state = pickle.loads(body)  # noqa: S301 - written and signed by this server for this token
        return state if isinstance(state, dict) else None

    def delete(self, token: str) -> None:
        if valid_token(token):
            self._path(token).unlink(missing_ok=True)

    def sweep(self) -> int:
        """Remove expired sessions, then the oldest beyond `max_sessions`; returns how many."""
        files = []
        for path in self.root.glob("*.session"):
            try:
                files.append((path.stat().st_mtime, path))
            except OSError:
                continue
        files.sort(reverse=True)
        now, removed = self.clock(), 0
        for n, (mtime, path) in enumerate(files):
            if now - mtime > self.ttl_s or n >= self.max_sessions:
                path.unlink(missing_ok=True)
                removed += 1
        return removed


@dataclass(frozen=True)
class SnapshotInfo:
    """One line of the operator's listing."""

    id: str
    kind: str
    title: str
    taken_at: str
    index: str
    generation: str
    bytes: int


class SnapshotStore:
    """Read-only copies of a result; see the module docstring."""

    def __init__(self, root: str | Path, max_bytes: int = SNAPSHOT_MAX_BYTES, max_count: int = MAX_SNAPSHOTS):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.max_bytes, self.max_count = max_bytes, max_count

    def _path(self, snapshot_id: str) -> Path:
        return self.root / f"{snapshot_id}.json"

    def save(self, kind: str, title: str, index: str, generation: str, data: dict[str, Any],
             taken_at: datetime | None = None) -> str:
        """Write a snapshot; returns its id. `data` must already be redacted (the app passes
        rag_core.answer.session_export's redacted dicts). Raises TooLarge beyond the caps."""
        when = (taken_at or datetime.now(timezone.utc)).isoformat(timespec="seconds")
        doc = {"format": SNAPSHOT_FORMAT, "version": 1, "kind": kind, "title": title[:200], "taken_at": when,
               "index": index, "generation": generation, "data": data}
        body = json.dumps(doc, ensure_ascii=False, allow_nan=False, default=str).encode()
        if len(body) > self.max_bytes:
            raise TooLarge(f"this snapshot is {len(body):,} bytes; a snapshot is at most {self.max_bytes:,}. "
                           "Share one turn, or fewer hits.")
        if sum(1 for _ in self.root.glob("*.json")) >= self.max_count:
            raise TooLarge(f"this server already keeps {self.max_count:,} snapshots; ask the operator to delete "
                           "some (python -m rag_core snapshots list / delete)")
        snapshot_id = secrets.token_urlsafe(16)
        _atomic_write(self._path(snapshot_id), body)
        return snapshot_id

    def load(self, snapshot_id: object) -> dict[str, Any] | None:
        """The snapshot, or None for an id that is malformed, unknown, oversize or not a snapshot."""
        if not isinstance(snapshot_id, str) or not SNAPSHOT_ID_RE.match(snapshot_id):
            return None
        data = _read_at_most(self._path(snapshot_id), self.max_bytes)
        if data is None:
            return None
        try:
            doc = json.loads(data)
        except ValueError:
            return None
        return doc if isinstance(doc, dict) and doc.get("format") == SNAPSHOT_FORMAT else None

    def list(self) -> list[SnapshotInfo]:
        out = []
        for path in sorted(self.root.glob("*.json")):
            doc = self.load(path.stem)
            if doc is not None:
                out.append(SnapshotInfo(path.stem, str(doc.get("kind")), str(doc.get("title")),
                                        str(doc.get("taken_at")), str(doc.get("index")),
                                        str(doc.get("generation")), path.stat().st_size))
        return sorted(out, key=lambda s: s.taken_at, reverse=True)

    def delete(self, snapshot_id: str) -> bool:
        if not SNAPSHOT_ID_RE.match(snapshot_id or ""):
            return False
        path = self._path(snapshot_id)
        existed = path.exists()
        path.unlink(missing_ok=True)
        return existed
