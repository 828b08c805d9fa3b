"""FAISS-backed vector stores: `flat` (exact inner product) and `hnsw` (approximate graph).

Vectors are normalised, so inner product is cosine. Source filters go into the search via
an IDSelector (post-filtering a top-k loses results). HNSW cannot remove vectors, so
`delete` rebuilds from the kept ones. faiss is imported on first construction, and its
OpenMP pool is set to 1 thread by default: on 2 cores it otherwise fights onnxruntime
(DESIGN.md measured embed + search at 100k chunks going from ~20 ms to ~9.5 ms).
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from rag_core.core.errors import ConfigError, ProviderError, StoreError
from rag_core.core.settings import current
from rag_core.core.types import Chunk, Hit
from rag_core.stores.faiss_file import check_faiss_file
from rag_core.core.files import MB, open_regular, tampered, write_file
from rag_core.stores.numpy_store import (
    CHUNKS_FILE,
    ChunkListStore,
    as_matrix,
    check_finite,
    check_lengths,
    keep_mask,
    make_hits,
    read_chunks,
    top_k,
    write_chunks,
)

INDEX_FILE = "index.faiss"
#: Below this many allowed ids a filtered HNSW search is done exactly on those vectors:
#: cheaper than walking the graph, and a very selective filter can starve the graph walk.
EXACT_FILTER_MAX = 2048


def _import_faiss(omp_threads: int | None):
    try:
        import faiss
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ProviderError("faiss is not installed; run `pip install faiss-cpu` or use the `numpy` store") from exc
    if omp_threads is not None:
        faiss.omp_set_num_threads(int(omp_threads))
    return faiss


def _omp_threads(requested: int | None) -> int | None:
    """`requested`, else `RAG_FAISS_OMP_THREADS`, else 1; `0` leaves faiss's own default alone."""
    value = requested if requested is not None else int(current().get("RAG_FAISS_OMP_THREADS", "1"))
    return value if value > 0 else None


class FaissStore(ChunkListStore):
    """`kind="flat"`: IndexFlatIP. `kind="hnsw"`: IndexHNSWFlat with METRIC_INNER_PRODUCT."""

    metric = "cosine"

    def __init__(self, kind: str = "flat", dim: int = 384, *, hnsw_m: int = 32, ef_construction: int = 200,
                 ef_search: int = 64, omp_threads: int | None = None) -> None:
        if kind not in ("flat", "hnsw"):
            raise ConfigError(f"unknown faiss index kind {kind!r}; known: flat, hnsw")
        self.kind = kind
        self.name = "faiss" if kind == "flat" else "faiss-hnsw"
        self.dim = int(dim)
        self.hnsw_m, self.ef_construction, self.ef_search = hnsw_m, ef_construction, ef_search
        self._faiss = _import_faiss(_omp_threads(omp_threads))
        self._chunks: list[Chunk] = []
        self._by_source: dict[str, np.ndarray] | None = None  # built on the first filtered search
        self._index = self._new_index()

    def _new_index(self):
        faiss = self._faiss
        if self.kind == "flat":
            return faiss.IndexFlatIP(self.dim)
        index = faiss.IndexHNSWFlat(self.dim, self.hnsw_m, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = self.ef_construction
        index.hnsw.efSearch = self.ef_search
        return index

    def add(self, chunks: Sequence[Chunk], vectors: np.ndarray) -> None:
        matrix = as_matrix(vectors, self.dim)
        check_lengths(chunks, matrix)
        check_finite(matrix)
        if len(chunks):
            self._index.add(matrix)
            self._chunks.extend(chunks)
            self._by_source = None

    def search(self, vector: np.ndarray, k: int, sources: Sequence[str] | None = None) -> list[Hit]:
        if not self._chunks or k <= 0:
            return []
        query = as_matrix(vector, self.dim)[:1]
        params = None
        if sources is not None:
            allowed = self._allowed(sources)
            if len(allowed) == 0:
                return []
            if self.kind == "hnsw" and len(allowed) <= EXACT_FILTER_MAX:
                return self._exact(query[0], allowed, k)
            params = self._params(allowed)
        scores, labels = self._index.search(query, min(k, len(self._chunks)), params=params)
        found = labels[0] >= 0
        ids, scores = labels[0][found], scores[0][found]
        order = np.lexsort((ids, -scores))  # deterministic order for ties
        return make_hits(self._chunks, ids[order], scores[order])

    def _allowed(self, sources: Sequence[str]) -> np.ndarray:
        """Ids of the chunks from `sources`, ascending; the map saves a pass over every chunk."""
        if self._by_source is None:
            groups: dict[str, list[int]] = {}
            for i, c in enumerate(self._chunks):
                groups.setdefault(c.source, []).append(i)
            self._by_source = {src: np.array(ids, dtype=np.int64) for src, ids in groups.items()}
        if isinstance(sources, str):
            sources = [sources]
        parts = [self._by_source[s] for s in dict.fromkeys(sources) if s in self._by_source]
        return np.sort(np.concatenate(parts)) if parts else np.empty(0, dtype=np.int64)

    def _params(self, allowed: np.ndarray):
        faiss = self._faiss
        selector = faiss.IDSelectorBatch(allowed)
        if self.kind == "hnsw":
            return faiss.SearchParametersHNSW(sel=selector, efSearch=self.ef_search)
        return faiss.SearchParameters(sel=selector)

    def _exact(self, query: np.ndarray, allowed: np.ndarray, k: int) -> list[Hit]:
        vectors = self._index.reconstruct_batch(allowed)
        scores = vectors @ query
        best = top_k(scores, k)
        return make_hits(self._chunks, allowed[best], scores[best])

    def delete(self, sources: str | Iterable[str]) -> int:
        keep, removed = keep_mask(self._chunks, sources)
        if removed:
            kept_vectors = self.vectors()[keep]
            self._chunks = [c for c, kept in zip(self._chunks, keep) if kept]
            self._by_source = None
            self._index = self._new_index()
            if len(self._chunks):
                self._index.add(kept_vectors)
        return removed

    def vectors(self) -> np.ndarray:
        if self._index.ntotal == 0:
            return np.zeros((0, self.dim), dtype=np.float32)
        return self._index.reconstruct_n(0, self._index.ntotal)

    def vectors_at(self, rows: np.ndarray) -> np.ndarray:
        """Reconstructed rows (flat and HNSW both keep the full vectors)."""
        rows = np.asarray(rows, dtype=np.int64)
        if rows.size == 0:
            return np.zeros((0, self.dim), dtype=np.float32)
        return self._index.reconstruct_batch(rows)

    def save(self, directory: str) -> None:
        """Written through Python's file object: faiss's own writer reports a full disk only as
        a warning on close (measured: a silently truncated file), Python raises ENOSPC."""
        path = Path(directory)
        path.mkdir(parents=True, exist_ok=True)
        write_chunks(path / CHUNKS_FILE, self._chunks)
        faiss = self._faiss
        index = self._index
        try:
            write_file(path / INDEX_FILE, lambda handle: faiss.write_index(index, faiss.PyCallbackIOWriter(handle.write)))
        except RuntimeError as exc:  # faiss's own failure (a disk error arrives as OSError, mapped above)
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise StoreError(f"faiss could not write the index to {path} ({reason}); nothing on disk was changed") from None

    def load(self, directory: str) -> None:
        path = Path(directory)
        chunks = read_chunks(path / CHUNKS_FILE)
        # the file's size bound: the vectors, plus a graph of at most a few KB per vector for hnsw
        limit = MB + len(chunks) * (self.dim * 4 + (4096 if self.kind == "hnsw" else 0))
        with open_regular(path / INDEX_FILE, limit) as handle:
            check_faiss_file(handle, path / INDEX_FILE, self.kind, self.dim, len(chunks))
            handle.seek(0)
            try:
                index = self._faiss.read_index(self._faiss.PyCallbackIOReader(handle.read))
            except RuntimeError as exc:
                reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
                raise tampered(path / INDEX_FILE, f"faiss could not read it: {reason}") from None
        if index.d != self.dim or index.ntotal != len(chunks):
            raise StoreError(f"{path} holds {index.ntotal} {index.d}-d vectors for {len(chunks)} chunks, "
                             f"expected {self.dim}-d; rebuild the index")
        for begin in range(0, index.ntotal, 8192):  # bounded memory: 8192 rows at a time
            if not np.isfinite(index.reconstruct_n(begin, min(8192, index.ntotal - begin))).all():
                raise tampered(path / INDEX_FILE, "it holds NaN or infinite vectors")
        if self.kind == "hnsw":
            index.hnsw.efSearch = self.ef_search
        self._chunks, self._index, self._by_source = chunks, index, None
