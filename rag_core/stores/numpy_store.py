"""The reference vector store: every chunk and vector in memory, exact brute-force search.

It is the oracle the other stores are tested against, so it stays obviously correct:
scores are dot products of normalised vectors (= cosine), ties go to the chunk added
first. The JSONL chunk (de)serialisation below is shared with the FAISS store.
"""

from __future__ import annotations

import io
import json
import re
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from rag_core.core.errors import IndexMismatchError, StoreError
from rag_core.core.types import Chunk, Hit
from rag_core.core.files import MB, file_size, open_regular, tampered, write_file

CHUNKS_FILE = "chunks.jsonl"
VECTORS_FILE = "vectors.npy"
#: bounds on what a load reads: the chunks' text, a .npy header, a vector's width
CHUNKS_MAX_BYTES = 2048 * MB
_MAX_HEADER = 10_000
_MAX_DIM = 65_536
_FIELDS = ("source", "section", "text", "start", "end", "doc_id")


# ---- shared helpers ------------------------------------------------------------------


def write_chunks(path: str | Path, chunks: Iterable[Chunk]) -> None:
    """One JSON object per line; fsynced because the index module renames the directory next."""

    def write(handle) -> None:
        for c in chunks:
            handle.write(json.dumps({k: getattr(c, k) for k in _FIELDS}, ensure_ascii=False).encode("utf-8"))
            handle.write(b"\n")

    write_file(path, write)


def read_chunks(path: str | Path, limit: int = CHUNKS_MAX_BYTES) -> list[Chunk]:
    """Every chunk, each row checked field by field: a tampered row is a StoreError, never a
    Chunk holding a number where text belongs."""
    chunks, total = [], 0
    with open_regular(path, limit) as raw, io.TextIOWrapper(raw, encoding="utf-8", errors="strict") as handle:
        try:
            for number, line in enumerate(handle, start=1):
                total += len(line)
                if total > limit:
                    raise tampered(path, f"more than {limit} bytes")
                if line.strip():
                    chunks.append(_chunk_from_line(path, number, line))
        except UnicodeDecodeError:
            raise tampered(path, "not UTF-8 text") from None
    return chunks


#: control characters and bidi overrides: the loaders escape them out of sources and sections
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def _chunk_from_line(path: str | Path, number: int, line: str) -> Chunk:
    """Explicit checks, no generators: this runs once per chunk on every load."""
    try:
        row = json.loads(line)
    except (ValueError, RecursionError):
        raise tampered(path, f"line {number} is not JSON") from None
    if type(row) is not dict:
        raise tampered(path, f"line {number} is not a JSON object")
    try:
        source, section, text, doc_id = row["source"], row["section"], row["text"], row["doc_id"]
        start, end = row["start"], row["end"]
    except KeyError:
        raise tampered(path, f"line {number} lacks one of the fields {', '.join(_FIELDS)}") from None
    if not (type(source) is str and type(section) is str and type(text) is str and type(doc_id) is str
            and type(start) is int and type(end) is int and 0 <= start <= end):
        raise tampered(path, f"line {number} has a field of the wrong type or range")
    if _CONTROL.search(source) or _CONTROL.search(section):  # loaders never store these: tampered
        raise tampered(path, f"line {number} has control characters in its source or section")
    return Chunk(source, section, text, start, end, doc_id)


def check_finite(matrix: np.ndarray) -> None:
    """A NaN or infinite vector matches nothing and poisons nothing visibly: refuse to store it."""
    if matrix.size and not np.isfinite(matrix).all():
        bad = int((~np.isfinite(matrix).all(axis=1)).sum())
        raise StoreError(f"refusing to store {bad} vector(s) with NaN or infinite values: the embedder "
                         "returned broken vectors; check the embedding model or server")


def write_matrix(path: str | Path, matrix: np.ndarray) -> None:
    write_file(path, lambda handle: np.save(handle, np.ascontiguousarray(matrix, dtype="<f4")))


def read_matrix(path: str | Path, rows: int, dim: int | None) -> np.ndarray:
    """A (rows, dim) float32 .npy file; the header is checked against the file size before a
    byte is allocated for the data, so a header claiming terabytes is refused, not obeyed."""
    from numpy.lib import format as npy

    width = dim if dim is not None else _MAX_DIM
    with open_regular(path, _MAX_HEADER + rows * width * 4) as handle:
        try:
            version = npy.read_magic(handle)
            readers = {(1, 0): npy.read_array_header_1_0, (2, 0): npy.read_array_header_2_0}
            if version not in readers:
                raise ValueError(f"format version {version}")
            shape, fortran, dtype = readers[version](handle, max_header_size=_MAX_HEADER)
        except (ValueError, SyntaxError, TypeError, EOFError) as exc:
            raise tampered(path, f"bad .npy header: {exc}") from None
        cols = shape[1] if len(shape) == 2 else -1
        if dtype != np.dtype("<f4") or fortran or len(shape) != 2 or shape[0] != rows:
            raise tampered(path, f"holds {dtype} {shape}, expected float32 ({rows}, {dim})")
        if dim is not None and cols != dim and not (rows == 0 and cols == 0):
            raise tampered(path, f"holds {cols}-d vectors, expected {dim}")
        if handle.tell() + rows * cols * 4 != file_size(handle):
            raise tampered(path, "its header does not match its size")
        matrix = np.fromfile(handle, dtype="<f4", count=rows * cols).reshape(rows, cols)
    if not np.isfinite(matrix).all():
        raise tampered(path, "it holds NaN or infinite vectors")
    return matrix.astype(np.float32, copy=False)


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

    def attach_manifest(self, manifest_json: str) -> None:
        """A file store keeps no manifest: the index generation's manifest.json is the one."""

    def stored_manifest(self) -> str | None:
        return None

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
        check_finite(matrix)
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

    def vectors_at(self, rows: np.ndarray) -> np.ndarray:
        return self._matrix[np.asarray(rows, dtype=np.int64)]

    def save(self, directory: str) -> None:
        path = Path(directory)
        path.mkdir(parents=True, exist_ok=True)
        write_chunks(path / CHUNKS_FILE, self._chunks)
        write_matrix(path / VECTORS_FILE, self._matrix)

    def load(self, directory: str) -> None:
        path = Path(directory)
        chunks = read_chunks(path / CHUNKS_FILE)
        matrix = read_matrix(path / VECTORS_FILE, len(chunks), self.dim)
        self._chunks, self._matrix = chunks, matrix
        if self.dim is None and matrix.shape[1]:
            self.dim = matrix.shape[1]
