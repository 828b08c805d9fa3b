"""An on-disk cache in front of any embedder, so re-ingesting unchanged text costs nothing.

Keyed by (namespace, sha256(text)) in one sqlite file (WAL) under
`paths.cache_dir("embeddings")`; vectors are raw float32 blobs, so a hit returns exactly
the vector that was computed. The namespace is the inner embedder's `cache_namespace` when it
has one (a compatible server's embedder adds its base URL, so two servers exposing the same model
name never share vectors; it never holds a key), else its name. Lookups and writes go in chunks of `_CHUNK` keys, one
transaction per call, so a cache write costs milliseconds per few hundred vectors.

A cache that cannot be used (disk full, unwritable, a corrupt file) is switched off with one
warning and the embedder keeps going without it: the cache only saves time, while the vectors
at hand may have been paid for, and the index itself is saved (or refused clearly) elsewhere.
Only finite vectors are written, and a cached NaN row counts as a miss.
"""

from __future__ import annotations

import hashlib
import logging
import sqlite3
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from rag_core.core.paths import cache_dir as default_cache_dir
from rag_core.core.types import Embedder

_CHUNK = 500  # below sqlite's default host-parameter limit, big enough to amortise a query
_QUERY_LRU = 256
DB_NAME = "embeddings.sqlite3"
_FAILURES = (sqlite3.Error, OSError)
log = logging.getLogger(__name__)


@dataclass
class CacheStats:
    """`hits`: texts served without calling the model; `misses`: texts sent to the model;
    `query_hits`/`query_misses` the same for queries (the in-memory LRU)."""

    hits: int = 0
    misses: int = 0
    query_hits: int = 0
    query_misses: int = 0


class CachedEmbedder:
    """Wraps `inner`; same `name`, `dim` and vectors, but only cache misses reach it.

    Queries are not written to disk: one takes ~3 ms to embed and is rarely asked twice
    across sessions, so instead a small in-memory LRU absorbs repeats within a session
    (Streamlit reruns ask the same question again).
    """

    def __init__(self, inner: Embedder, cache_dir: str | Path | None = None) -> None:
        self.inner = inner
        self.name = inner.name
        self.dim = inner.dim
        #: the `model` column of the cache: which vectors are interchangeable with this embedder's
        self.namespace = getattr(inner, "cache_namespace", None) or inner.name
        self.stats = CacheStats()
        self._queries: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None
        #: called once with a one-line message when the cache is switched off (default: the log)
        self.on_warning: Callable[[str], None] = log.warning
        self.disabled = False
        try:
            directory = Path(cache_dir) if cache_dir is not None else default_cache_dir("embeddings")
            directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            directory = Path(cache_dir or ".")
            self._disable(exc, directory)
        self.path = directory / DB_NAME

    def _disable(self, exc: BaseException, where: Path | None = None) -> None:
        """Switch the cache off for this embedder's lifetime, warning once."""
        if self.disabled:
            return
        self.disabled = True
        reason = str(exc) or type(exc).__name__
        full = "full" in reason.lower() or getattr(exc, "errno", None) == 28
        place = where or getattr(self, "path", "the cache directory")
        state = "on a full disk" if full else "unusable"
        self.on_warning(f"embedding cache at {place} is {state} ({reason}): "
                        "continuing without it (text is embedded again next time); free space or set "
                        "RAG_PLAYGROUND_HOME to a writable disk")
        if self._conn is not None:
            try:
                self._conn.close()
            except _FAILURES:
                pass
            self._conn = None

    def _db(self) -> sqlite3.Connection:
        if self._conn is None:
            conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None, timeout=30)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")  # a lost cache row is only a recompute
            conn.execute(
                "CREATE TABLE IF NOT EXISTS vectors (model TEXT NOT NULL, key BLOB NOT NULL, "
                "vec BLOB NOT NULL, PRIMARY KEY (model, key)) WITHOUT ROWID"
            )
            self._conn = conn
        return self._conn

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def _lookup(self, keys: list[bytes]) -> dict[bytes, np.ndarray]:
        found: dict[bytes, np.ndarray] = {}
        nbytes = self.dim * 4
        db = self._db()
        for i in range(0, len(keys), _CHUNK):
            part = keys[i : i + _CHUNK]
            marks = ",".join("?" * len(part))
            rows = db.execute(f"SELECT key, vec FROM vectors WHERE model = ? AND key IN ({marks})", [self.namespace, *part])
            for key, blob in rows:
                if len(blob) == nbytes:  # a different dim under the same name is a miss
                    vector = np.frombuffer(blob, dtype=np.float32)
                    if np.isfinite(vector).all():
                        found[key] = vector
        return found

    def _store(self, keys: list[bytes], vectors: np.ndarray) -> None:
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        finite = np.isfinite(vectors).all(axis=1)
        rows = [(self.namespace, key, vectors[i].tobytes()) for i, key in enumerate(keys) if finite[i]]
        db = self._db()
        db.execute("BEGIN")
        try:
            for i in range(0, len(rows), _CHUNK):
                db.executemany("INSERT OR REPLACE INTO vectors (model, key, vec) VALUES (?, ?, ?)", rows[i : i + _CHUNK])
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise

    def _cached(self, keys: list[bytes]) -> dict[bytes, np.ndarray]:
        with self._lock:
            if self.disabled:
                return {}
            try:
                return self._lookup(keys)
            except _FAILURES as exc:
                self._disable(exc)
                return {}

    def _remember(self, keys: list[bytes], vectors: np.ndarray) -> None:
        with self._lock:
            if self.disabled:
                return
            try:
                self._store(keys, vectors)
            except _FAILURES as exc:
                self._disable(exc)

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        texts = list(texts)
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        keys = [hashlib.sha256(t.encode("utf-8")).digest() for t in texts]
        unique = list(dict.fromkeys(keys))
        found = self._cached(unique)
        missing = [k for k in unique if k not in found]
        if missing:
            first_text = {}
            for key, text in zip(keys, texts):
                first_text.setdefault(key, text)
            fresh = np.asarray(self.inner.embed_documents([first_text[k] for k in missing]), dtype=np.float32)
            self._remember(missing, fresh)
            found.update(zip(missing, fresh))
        for i, key in enumerate(keys):
            out[i] = found[key]
        self.stats.misses += len(missing)
        self.stats.hits += len(texts) - len(missing)
        return out

    def embed_query(self, text: str) -> np.ndarray:
        with self._lock:
            cached = self._queries.get(text)
            if cached is not None:
                self._queries.move_to_end(text)
                self.stats.query_hits += 1
                return cached.copy()
        vector = np.asarray(self.inner.embed_query(text), dtype=np.float32)
        with self._lock:
            self.stats.query_misses += 1
            self._queries[text] = vector.copy()
            if len(self._queries) > _QUERY_LRU:
                self._queries.popitem(last=False)
        return vector

    def count_tokens(self, texts: Sequence[str]) -> int:
        return self.inner.count_tokens(texts)
