"""Offline rerankers over the first-stage candidates.

`bm25` reorders candidates by Okapi BM25 against the question (score label "bm25").
`rrf` fuses the dense ranking with the BM25 ranking by reciprocal rank fusion (label "rrf"),
which helps when exact terms (names, codes) matter more than the embedding captures.
Both only see the candidates the vector search returned: they reorder, never recall more.
"""

from __future__ import annotations

from typing import Sequence

from rank_bm25 import BM25Okapi

from ..text import words
from ..types import Hit

RRF_K = 60


def bm25_scores(query: str, hits: Sequence[Hit]) -> list[float]:
    corpus = [words(h.chunk.text) or [""] for h in hits]
    return [float(s) for s in BM25Okapi(corpus).get_scores(words(query))]


def _reorder(hits: Sequence[Hit], scores: Sequence[float], kind: str, top_n: int) -> list[Hit]:
    order = sorted(range(len(hits)), key=lambda i: (-scores[i], hits[i].rank))
    return [hits[i].reranked(scores[i], kind, rank) for rank, i in enumerate(order[:top_n], start=1)]


class BM25Reranker:
    name = "bm25"
    score_kind = "bm25"

    def rerank(self, query: str, hits: Sequence[Hit], top_n: int) -> list[Hit]:
        if not hits:
            return []
        return _reorder(hits, bm25_scores(query, hits), self.score_kind, top_n)


class RRFReranker:
    name = "rrf"
    score_kind = "rrf"

    def rerank(self, query: str, hits: Sequence[Hit], top_n: int) -> list[Hit]:
        if not hits:
            return []
        lexical = bm25_scores(query, hits)
        lexical_rank = {i: r for r, i in enumerate(sorted(range(len(hits)), key=lambda i: -lexical[i]), start=1)}
        fused = [1.0 / (RRF_K + h.rank) + 1.0 / (RRF_K + lexical_rank[i]) for i, h in enumerate(hits)]
        return _reorder(hits, fused, self.score_kind, top_n)
