"""Offline pool rerankers: they re-order the dense candidates only, never recall more.

`pool-bm25` re-orders the candidates by Okapi BM25 against the question, with BM25 statistics
(IDF, lengths) computed on those 20-40 candidates alone (score label "pool bm25").
`pool-rrf` fuses the dense ranking of the candidates with that pool BM25 ranking by reciprocal
rank fusion (label "pool rrf"). For BM25 over the whole index, and fusion that can find a
chunk dense search missed, use the retrieval modes instead (`--retriever bm25` / `hybrid`,
rag_core/retrieval/). The old names `bm25` and `rrf` still work, with a deprecation note.
"""

from __future__ import annotations

from typing import Sequence

from rank_bm25 import BM25Okapi

from rag_core.core.types import DEFAULT_RRF_K
from rag_core.core.text import words
from rag_core.core.types import Hit

DESCRIPTION = "re-orders the dense candidates only"
#: old name -> new name (the old names overstated what they do)
DEPRECATED = {"bm25": "pool-bm25", "rrf": "pool-rrf"}


def bm25_scores(query: str, hits: Sequence[Hit]) -> list[float]:
    corpus = [words(h.chunk.text) or [""] for h in hits]
    return [float(s) for s in BM25Okapi(corpus).get_scores(words(query))]


def _reorder(hits: Sequence[Hit], scores: Sequence[float], kind: str, top_n: int) -> list[Hit]:
    order = sorted(range(len(hits)), key=lambda i: (-scores[i], hits[i].rank))
    return [hits[i].reranked(scores[i], kind, rank) for rank, i in enumerate(order[:top_n], start=1)]


class BM25Reranker:
    """BM25 over the candidate pool (not the index): re-orders the dense candidates only."""

    name = "pool-bm25"
    score_kind = "pool bm25"
    description = DESCRIPTION

    def rerank(self, query: str, hits: Sequence[Hit], top_n: int) -> list[Hit]:
        if not hits:
            return []
        return _reorder(hits, bm25_scores(query, hits), self.score_kind, top_n)


class RRFReranker:
    """RRF of the dense and pool-BM25 rankings of the candidates: re-orders them only."""

    name = "pool-rrf"
    score_kind = "pool rrf"
    description = DESCRIPTION

    def rerank(self, query: str, hits: Sequence[Hit], top_n: int) -> list[Hit]:
        if not hits:
            return []
        lexical = bm25_scores(query, hits)
        lexical_rank = {i: r for r, i in enumerate(sorted(range(len(hits)), key=lambda i: -lexical[i]), start=1)}
        fused = [1.0 / (DEFAULT_RRF_K + h.rank) + 1.0 / (DEFAULT_RRF_K + lexical_rank[i]) for i, h in enumerate(hits)]
        return _reorder(hits, fused, self.score_kind, top_n)
