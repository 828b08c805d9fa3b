"""Vector stores by name: `numpy` (exact, the reference), `faiss` (flat, exact), `faiss-hnsw`.

`create_store(name, dim)`; a pgvector store registers itself from its own module.
"""

from __future__ import annotations

from ..registry import Registry
from ..types import VectorStore
from .faiss_store import FaissStore
from .numpy_store import NumpyStore

STORES: Registry[VectorStore] = Registry("store")
DEFAULT_STORE = "faiss"


@STORES.register("numpy", hosted=False,
                 description="Exact search in plain numpy: the reference; fine up to ~100k chunks.")
def _numpy(_model: str | None, *, dim: int | None = None, **options) -> VectorStore:
    return NumpyStore(dim, **options)


@STORES.register("faiss", hosted=False, description="FAISS flat index: exact search, fast; the default.")
def _faiss(_model: str | None, *, dim: int, **options) -> VectorStore:
    return FaissStore("flat", dim, **options)


@STORES.register("faiss-hnsw", hosted=False,
                 description="FAISS HNSW graph: approximate, fastest on big indexes (may miss a neighbour).")
def _faiss_hnsw(_model: str | None, *, dim: int, **options) -> VectorStore:
    return FaissStore("hnsw", dim, **options)


def create_store(name: str, dim: int, **options) -> VectorStore:
    return STORES.create(name, dim=dim, **options)


__all__ = ["STORES", "DEFAULT_STORE", "create_store", "NumpyStore", "FaissStore"]
