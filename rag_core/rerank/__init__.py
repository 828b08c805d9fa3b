"""Rerankers by name. Offline ones are lexical or fusion methods and say so in their score label;
no cross-encoder model can be fetched here (hosted rerankers plug in as one module each)."""

from __future__ import annotations

from ..registry import Registry
from ..types import Reranker
from .lexical import BM25Reranker, RRFReranker

RERANKERS: Registry[Reranker] = Registry("reranker")


@RERANKERS.register("bm25", hosted=False,
                    description="Reorders the retrieved chunks by word overlap (BM25): offline, free.")
def _bm25(model: str | None = None, **_: object) -> Reranker:
    return BM25Reranker()


@RERANKERS.register("rrf", hosted=False,
                    description="Fuses the dense and BM25 rankings (reciprocal rank fusion): offline, free.")
def _rrf(model: str | None = None, **_: object) -> Reranker:
    return RRFReranker()


@RERANKERS.register("cohere", hosted=True, credential="cohere", takes_model=True, models=("rerank-v3.5",),
                    example="cohere:rerank-v3.5",
                    description="Cohere's hosted reranker: key in Settings, paid per search.")
def _cohere(model: str | None = None, **options: object) -> Reranker:
    from .cohere_rerank import CohereReranker

    return CohereReranker(model, **options)


def create_reranker(name: str | None, credentials: object = None, **options: object) -> Reranker | None:
    """`None` or "none" means no reranking. `credentials` reaches hosted rerankers only."""
    if not name or name == "none":
        return None
    return RERANKERS.create(name, credentials=credentials, **options)
