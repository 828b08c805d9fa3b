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


@STORES.register("numpy", description="Exact search in plain numpy, all in memory: the reference the other "
                                       "stores are tested against; fine up to tens of thousands of chunks.")
def _numpy(_model: str | None, *, dim: int | None = None, **options) -> VectorStore:
    return NumpyStore(dim, **options)


@STORES.register("faiss", description="FAISS flat index: exact search (every chunk scored), fast to build; "
                                       "the default.")
def _faiss(_model: str | None, *, dim: int, **options) -> VectorStore:
    return FaissStore("flat", dim, **options)


@STORES.register("faiss-hnsw", description="FAISS HNSW graph: approximate search, fastest on large indexes "
                                            "(100k+ chunks); may miss a few of the true nearest chunks.")
def _faiss_hnsw(_model: str | None, *, dim: int, **options) -> VectorStore:
    return FaissStore("hnsw", dim, **options)


def create_store(name: str, dim: int, **options) -> VectorStore:
    return STORES.create(name, dim=dim, **options)


__all__ = ["STORES", "DEFAULT_STORE", "create_store", "NumpyStore", "FaissStore"]
