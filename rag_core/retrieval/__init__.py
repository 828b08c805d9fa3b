"""Retrieval, separate from generation: `Retriever` turns an index and `RetrievalSettings` into a
`RetrievalResult` (hits with every score, latency per stage, the query embedding's tokens)."""

from rag_core.retrieval.retriever import (MODES, RERANK_POOL_FACTOR, RERANK_POOL_MIN, EmbeddingUsage, MMRStep, RerankStep, RetrievalQuery,
                        RetrievalResult, Retriever, Step, register_mode)

__all__ = ["MODES", "RERANK_POOL_FACTOR", "RERANK_POOL_MIN", "EmbeddingUsage", "MMRStep", "RerankStep", "RetrievalQuery",
           "RetrievalResult", "Retriever", "Step", "register_mode"]
