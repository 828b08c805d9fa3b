"""Vector stores by name: `numpy` (exact, the reference), `faiss` (flat, exact), `faiss-hnsw`,
`pgvector` (exact, in PostgreSQL), `pgvector-hnsw` and `pinecone` (hosted).

`create_store(name, dim)`; a database store also takes the index's name and where the server is
(`index_name`, `dsn`, `credentials`), which file stores do not need and never see.
"""

from __future__ import annotations

from rag_core.core.catalog import STORES
from rag_core.core.types import VectorStore
from rag_core.stores.faiss_store import FaissStore
from rag_core.stores.numpy_store import NumpyStore

DEFAULT_STORE = "faiss"
DATABASE_STORES = ("pgvector", "pgvector-hnsw")
#: stores that live on a server and take the index's name and where the server is
REMOTE_STORES = (*DATABASE_STORES, "pinecone")
_LOCATION_OPTIONS = ("index_name", "dsn", "credentials", "pinecone")


def is_database(name: str) -> bool:
    """A store whose rows live on a server (its location is a DSN, not a directory)."""
    return name.partition(":")[0] in DATABASE_STORES


def create_store(name: str, dim: int, **options) -> VectorStore:
    base = name.partition(":")[0]
    if base not in REMOTE_STORES:
        options = {k: v for k, v in options.items() if k not in _LOCATION_OPTIONS}
    elif base == "pinecone":
        options.pop("dsn", None)
    else:
        options.pop("pinecone", None)
    return STORES.create(name, dim=dim, **options)


__all__ = ["STORES", "DEFAULT_STORE", "DATABASE_STORES", "REMOTE_STORES", "create_store", "is_database", "NumpyStore",
           "FaissStore"]
