"""Rerankers by name. Offline ones are lexical or fusion methods and say so in their score label;
no cross-encoder model can be fetched here (hosted rerankers plug in as one module each)."""

from __future__ import annotations

from ..registry import Registry
from ..types import Reranker
from .lexical import BM25Reranker, RRFReranker

RERANKERS: Registry[Reranker] = Registry("reranker")


@RERANKERS.register("bm25")
def _bm25(model: str | None = None, **_: object) -> Reranker:
    return BM25Reranker()


@RERANKERS.register("rrf")
def _rrf(model: str | None = None, **_: object) -> Reranker:
    return RRFReranker()


def create_reranker(name: str | None, **options: object) -> Reranker | None:
    """`None` or "none" means no reranking."""
    if not name or name == "none":
        return None
    return RERANKERS.create(name, **options)
