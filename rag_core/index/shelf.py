"""Opened indexes shared by many threads (a server's sessions): each directory's live generation
is opened once, and a newer generation replaces the older one on the shelf.

Why not a plain cache keyed by (directory, generation): every rebuild would leave the previous
generation's vectors and BM25 in memory until the cache evicts it. Here a directory holds one
Index; sessions still reading the replaced one keep their reference (it stays valid, see
rag_core/index/index.py) and Python frees it when the last of them lets go. Opening happens outside
the shelf's lock, under a per-directory lock, so a slow open of one index never blocks queries
on another, and two sessions asking for the same new generation open it once.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Callable, Generic, TypeVar

T = TypeVar("T")


class IndexShelf(Generic[T]):
    """directory -> (generation, opened object), at most `max_entries` directories (LRU)."""

    def __init__(self, max_entries: int = 8) -> None:
        self.max_entries = max(1, int(max_entries))
        self._lock = threading.Lock()
        self._entries: OrderedDict[str, tuple[str, T]] = OrderedDict()
        self._opening: dict[str, threading.Lock] = {}
        self.opens = 0  # how many times `open` was called: a test and the bench read it

    def _get(self, directory: str, generation: str) -> T | None:
        with self._lock:
            entry = self._entries.get(directory)
            if entry is None or entry[0] != generation:
                return None
            self._entries.move_to_end(directory)
            return entry[1]

    def get(self, directory: str, generation: str, open: Callable[[], T]) -> T:
        """The object for (directory, generation); `open()` runs at most once per pair at a time."""
        found = self._get(directory, generation)
        if found is not None:
            return found
        with self._lock:
            gate = self._opening.setdefault(directory, threading.Lock())
        with gate:
            found = self._get(directory, generation)  # another thread opened it while we waited
            if found is not None:
                return found
            opened = open()
            with self._lock:
                self.opens += 1
                self._entries[directory] = (generation, opened)  # drops the older generation
                self._entries.move_to_end(directory)
                while len(self._entries) > self.max_entries:
                    self._entries.popitem(last=False)
            return opened

    def drop(self, directory: str) -> None:
        """Forget `directory` (deleted or renamed)."""
        with self._lock:
            self._entries.pop(directory, None)

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)
