"""Vector stores by name: `numpy` (exact, the reference), `faiss` (flat, exact), `faiss-hnsw`,
`pgvector` (exact, in PostgreSQL) and `pgvector-hnsw`.

`create_store(name, dim)`; a database store also takes the index's name and where the server is
(`index_name`, `dsn`, `credentials`), which file stores do not need and never see.
"""

from __future__ import annotations

from rag_core.core.registry import Registry
from rag_core.core.types import VectorStore
from rag_core.stores.faiss_store import FaissStore
from rag_core.stores.numpy_store import NumpyStore

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


@STORES.register("pgvector", hosted=False,
                 description="PostgreSQL + pgvector, exact search: one index shared by many app instances.")
def _pgvector(_model: str | None, *, dim: int, **options) -> VectorStore:
    from rag_core.stores.pgvector_store import PgVectorStore  # psycopg is imported only when a pgvector store is used

    return PgVectorStore("exact", dim, **options)


@STORES.register("pgvector-hnsw", hosted=False,
                 description="PostgreSQL + pgvector HNSW graph: approximate, fast on big shared indexes.")
def _pgvector_hnsw(_model: str | None, *, dim: int, **options) -> VectorStore:
    from rag_core.stores.pgvector_store import PgVectorStore

    return PgVectorStore("hnsw", dim, **options)


DATABASE_STORES = ("pgvector", "pgvector-hnsw")
_LOCATION_OPTIONS = ("index_name", "dsn", "credentials")


def create_store(name: str, dim: int, **options) -> VectorStore:
    if name.partition(":")[0] not in DATABASE_STORES:
        options = {k: v for k, v in options.items() if k not in _LOCATION_OPTIONS}
    return STORES.create(name, dim=dim, **options)


__all__ = ["STORES", "DEFAULT_STORE", "DATABASE_STORES", "create_store", "NumpyStore", "FaissStore"]
