"""The reference vector store: every chunk and vector in memory, exact brute-force search.

It is the oracle the other stores are tested against, so it stays obviously correct:
scores are dot products of normalised vectors (= cosine), ties go to the chunk added
first. The JSONL chunk (de)serialisation below is shared with the FAISS store.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from ..errors import IndexMismatchError, StoreError
from ..types import Chunk, Hit

CHUNKS_FILE = "chunks.jsonl"
VECTORS_FILE = "vectors.npy"
_FIELDS = ("source", "section", "text", "start", "end", "doc_id")


# ---- shared helpers ------------------------------------------------------------------


def write_chunks(path: str | Path, chunks: Iterable[Chunk]) -> None:
    """One JSON object per line; fsynced because the index module renames the directory next."""
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        for c in chunks:
            f.write(json.dumps({k: getattr(c, k) for k in _FIELDS}, ensure_ascii=False))
            f.write("\n")
        f.flush()
        os.fsync(f.fileno())


def read_chunks(path: str | Path) -> list[Chunk]:
    try:
        with open(path, encoding="utf-8") as f:
            return [Chunk(**{k: row[k] for k in _FIELDS}) for row in map(json.loads, f) if row]
    except FileNotFoundError:
        raise StoreError(f"no chunks file at {path}; the index is incomplete, rebuild it") from None
    except (ValueError, KeyError, TypeError) as exc:
        raise StoreError(f"unreadable chunks file {path} ({exc}); rebuild the index") from exc


def as_matrix(vectors: np.ndarray, dim: int | None) -> np.ndarray:
    """float32, C-contiguous, 2-D; checks the dimension against the store's."""
    matrix = np.ascontiguousarray(vectors, dtype=np.float32)
    if matrix.ndim == 1:
        matrix = matrix.reshape(1, -1)
    if matrix.ndim != 2:
        raise ValueError(f"expected a (n, dim) array of vectors, got shape {matrix.shape}")
    if dim is not None and matrix.shape[1] != dim:
        raise IndexMismatchError(
            f"vectors have dimension {matrix.shape[1]} but the store holds {dim}-d vectors; "
            "use the embedder the index was built with, or rebuild the index"
        )
    return matrix


def check_lengths(chunks: Sequence[Chunk], matrix: np.ndarray) -> None:
    if len(chunks) != matrix.shape[0]:
        raise ValueError(f"{len(chunks)} chunks but {matrix.shape[0]} vectors")


def ids_for_sources(chunks: Sequence[Chunk], sources: Sequence[str]) -> np.ndarray:
    wanted = {sources} if isinstance(sources, str) else set(sources)
    return np.fromiter((i for i, c in enumerate(chunks) if c.source in wanted), dtype=np.int64)


def top_k(scores: np.ndarray, k: int) -> np.ndarray:
    """Positions of the k best scores, best first, ties to the lower position."""
    n = scores.shape[0]
    if k <= 0 or n == 0:
        return np.empty(0, dtype=np.int64)
    if k < n:
        kth = np.partition(scores, n - k)[n - k]  # the k-th best value
        candidates = np.flatnonzero(scores >= kth)  # keeps every tie at the boundary
    else:
        candidates = np.arange(n)
    order = np.lexsort((candidates, -scores[candidates]))
    return candidates[order[:k]]


class ChunkListStore:
    """What every store with its chunks in one list (row i = vector i) shares."""

    _chunks: list[Chunk]

    def count(self) -> int:
        return len(self._chunks)

    def chunks(self) -> list[Chunk]:
        return list(self._chunks)


def keep_mask(chunks: Sequence[Chunk], sources: str | Iterable[str]) -> tuple[np.ndarray, int]:
    """For `delete` in every store: which chunks stay (bool mask), and how many go."""
    doomed = {sources} if isinstance(sources, str) else set(sources)
    keep = np.array([c.source not in doomed for c in chunks], dtype=bool)
    return keep, int((~keep).sum()) if len(keep) else 0


def make_hits(chunks: Sequence[Chunk], ids: Iterable[int], scores: Iterable[float]) -> list[Hit]:
    return [
        Hit(chunk=chunks[int(i)], score=float(s), score_kind="cosine", rank=r)
        for r, (i, s) in enumerate(zip(ids, scores), start=1)
    ]


# ---- the store -----------------------------------------------------------------------


class NumpyStore(ChunkListStore):
    """Exact cosine search over an in-memory float32 matrix (vectors must be normalised)."""

    name = "numpy"
    metric = "cosine"

    def __init__(self, dim: int | None = None) -> None:
        self.dim = dim
        self._chunks: list[Chunk] = []
        self._matrix = np.zeros((0, dim or 0), dtype=np.float32)

    def add(self, chunks: Sequence[Chunk], vectors: np.ndarray) -> None:
        matrix = as_matrix(vectors, self.dim)
        check_lengths(chunks, matrix)
        if self.dim is None:
            self.dim = matrix.shape[1]
            self._matrix = self._matrix.reshape(0, self.dim)
        self._matrix = np.concatenate([self._matrix, matrix]) if len(self._chunks) else matrix.copy()
        self._chunks.extend(chunks)

    def search(self, vector: np.ndarray, k: int, sources: Sequence[str] | None = None) -> list[Hit]:
        if not self._chunks or k <= 0:
            return []
        query = as_matrix(vector, self.dim)[0]
        if sources is None:
            scores = self._matrix @ query
            best = top_k(scores, k)
            return make_hits(self._chunks, best, scores[best])
        ids = ids_for_sources(self._chunks, sources)
        scores = self._matrix[ids] @ query
        best = top_k(scores, k)
        return make_hits(self._chunks, ids[best], scores[best])

    def delete(self, sources: str | Iterable[str]) -> int:
        keep, removed = keep_mask(self._chunks, sources)
        if removed:
            self._chunks = [c for c, kept in zip(self._chunks, keep) if kept]
            self._matrix = self._matrix[keep]
        return removed

    def vectors(self) -> np.ndarray:
        return self._matrix.copy()

    def save(self, directory: str) -> None:
        path = Path(directory)
        path.mkdir(parents=True, exist_ok=True)
        write_chunks(path / CHUNKS_FILE, self._chunks)
        with open(path / VECTORS_FILE, "wb") as f:
            np.save(f, self._matrix)
            f.flush()
            os.fsync(f.fileno())

    def load(self, directory: str) -> None:
        path = Path(directory)
        chunks = read_chunks(path / CHUNKS_FILE)
        try:
            matrix = np.load(path / VECTORS_FILE)
        except FileNotFoundError:
            raise StoreError(f"no vectors file in {path}; the index is incomplete, rebuild it") from None
        except ValueError as exc:
            raise StoreError(f"unreadable vectors file in {path} ({exc}); rebuild the index") from exc
        matrix = as_matrix(matrix, self.dim) if len(chunks) else matrix.astype(np.float32)
        if matrix.shape[0] != len(chunks):
            raise StoreError(f"{path} holds {len(chunks)} chunks but {matrix.shape[0]} vectors; rebuild the index")
        self._chunks, self._matrix = chunks, matrix
        if self.dim is None and matrix.shape[1]:
            self.dim = matrix.shape[1]
