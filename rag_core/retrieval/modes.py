"""The first stages the Retriever chooses by `RetrievalSettings.mode`: dense, bm25, hybrid.

Each takes the Retriever (for the index and the query embedding) and the `RetrievalQuery`, and
returns up to `query.pool` hits, best first, ranks from 1, every hit carrying every score it
got (`Hit.scores`): a hybrid hit has its cosine and its BM25 score (each with its rank in that
list, when that list returned it) and the fused score, which is the primary score, labelled
`rrf` or `hybrid z-score` / `hybrid min-max`. BM25 and the vector store each return `depth`
candidates (default 100) before fusing; a hit found by only one list gets that list's floor.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from typing import Protocol

import numpy as np

from rag_core.core.errors import ConfigError
from rag_core.core.types import Hit, RetrievalSettings, Score
from rag_core.index.index import Index
from rag_core.providers.metering import MeterReading
from rag_core.retrieval.fusion import NORMALISERS, hybrid_weighted, rrf


@dataclass
class RetrievalQuery:
    """One question on its way through the steps; stages add their latency here."""

    question: str
    settings: RetrievalSettings
    pool: int
    vector: np.ndarray | None = None
    latency_ms: dict[str, float] = field(default_factory=dict)
    embed_reported: MeterReading | None = None
    rerank_reported: MeterReading | None = None
    #: the rewritten search texts embedded besides the question, and their metered deltas
    extra_texts: list[str] = field(default_factory=list)
    extra_reported: list[MeterReading | None] = field(default_factory=list)


class Retriever(Protocol):
    """What a first stage needs of the Retriever (rag_core/retrieval/retriever.py): its index, its
    query embedding and a sweep's search cache."""

    index: Index
    search_cache: dict | None

    def embed(self, query: RetrievalQuery) -> np.ndarray: ...


FUSIONS = ("weighted", "rrf")
NORMALISE_LABEL = {"zscore": "z-score", "minmax": "min-max"}


def _ms(since: float) -> float:
    return (time.perf_counter() - since) * 1000.0


def fused_kind(fusion: str, normalise: str) -> str:
    """The label of a hybrid hit's primary score."""
    return "rrf" if fusion == "rrf" else f"hybrid {NORMALISE_LABEL[normalise]}"


def check_settings(settings) -> None:
    """Every fusion setting in range, with what to do instead."""
    if settings.fusion not in FUSIONS:
        raise ConfigError(f"unknown fusion {settings.fusion!r}; known: {', '.join(FUSIONS)}")
    if settings.normalise not in NORMALISERS:
        raise ConfigError(f"unknown score normalisation {settings.normalise!r}; known: {', '.join(NORMALISERS)}")
    if not 0.0 <= settings.alpha <= 1.0:
        raise ConfigError(f"alpha (the dense weight) must be between 0 and 1, not {settings.alpha}")
    if not (settings.rrf_k >= 0 and np.isfinite(settings.rrf_k)):
        raise ConfigError(f"the RRF constant k must be a finite number >= 0, not {settings.rrf_k}")
    if not 1 <= settings.depth <= 10_000:
        raise ConfigError(f"candidates depth must be between 1 and 10000, not {settings.depth}")
    if settings.mmr_lambda is not None and not 0.0 <= settings.mmr_lambda <= 1.0:
        raise ConfigError(f"MMR lambda must be between 0 and 1 (or off), not {settings.mmr_lambda}")


def dense(retriever: "Retriever", query: "RetrievalQuery") -> list[Hit]:
    """Embed the question and search the store; each hit records its dense score and rank."""
    found = _dense_hits(retriever, query, query.pool)
    return [h.with_score(Score(h.score_kind, h.score, h.rank)) for h in found]


def _dense_hits(retriever: "Retriever", query: "RetrievalQuery", k: int) -> list[Hit]:
    """The store's top k; with `retriever.search_cache` (a sweep), once per question: a deeper
    list already fetched for the same question and sources is cut to k (same order)."""
    cache, want = retriever.search_cache, k
    key = (query.question, query.settings.sources)
    if cache is not None and key in cache:
        depth, found, ms = cache[key]
        if depth >= k or len(found) < depth:
            query.latency_ms["search"] = ms  # what the search took when it ran
            return found[:k]
    if cache is not None:  # fetch the hybrid depth once, so the sweep's other settings reuse it
        k = max(k, query.settings.depth)
    vector = retriever.embed(query)
    t0 = time.perf_counter()
    found = retriever.index.store.search(vector, k, sources=query.settings.sources)
    query.latency_ms["search"] = _ms(t0)
    if cache is not None:
        cache[key] = (k, found, query.latency_ms["search"])
        return found[:want]
    return found


def _bm25_ranked(retriever: "Retriever", query: "RetrievalQuery", k: int) -> list[tuple[str, float]]:
    """The whole-index BM25 top k as (chunk id, score), restricted to the chosen sources."""
    index = retriever.index
    t0 = time.perf_counter()
    allowed = None
    if query.settings.sources is not None:
        allowed = np.isin(index.lookup("sources"), list(query.settings.sources))
    ids, scores = index.bm25.search(query.question, k, allowed)
    query.latency_ms["bm25"] = _ms(t0)
    return list(zip(ids, scores.tolist()))


def bm25(retriever: "Retriever", query: "RetrievalQuery") -> list[Hit]:
    """Whole-index BM25 alone (no embedding needed)."""
    chunks, rows = retriever.index.lookup("chunks"), retriever.index.lookup("rows")
    ranked = _bm25_ranked(retriever, query, query.pool)
    return [Hit(chunks[rows[cid]], score, "bm25", rank, scores=(Score("bm25", score, rank),))
            for rank, (cid, score) in enumerate(ranked, start=1)]


#: the label a hybrid hit carries when BM25 matched nothing and dense ranked alone
BM25_NOTHING = "BM25 matched nothing: dense alone"


def hybrid(retriever: "Retriever", query: "RetrievalQuery") -> list[Hit]:
    """Dense top `depth` and BM25 top `depth`, fused by RRF or a weighted sum of normalised scores."""
    s = query.settings
    depth = max(s.depth, query.pool)
    dense_hits = _dense_hits(retriever, query, depth)
    sparse = _bm25_ranked(retriever, query, depth)
    t0 = time.perf_counter()
    if not sparse:  # no query word is in the index (or the corpus has none): say so, rank by dense alone
        query.latency_ms["fuse"] = _ms(t0)
        return [replace(h, score_kind=f"{h.score_kind} ({BM25_NOTHING})") for h in dense_hits[:query.pool]]
    dense_ranked = [(h.chunk.chunk_id, h.score) for h in dense_hits]
    if s.fusion == "rrf":
        fused = rrf([dense_ranked, sparse], query.pool, rrf_k=s.rrf_k)
    else:
        fused = hybrid_weighted(dense_ranked, sparse, query.pool, s.alpha, s.normalise)
    kind = fused_kind(s.fusion, s.normalise)
    dense_kind = dense_hits[0].score_kind if dense_hits else retriever.index.store.metric
    by_id = {h.chunk.chunk_id: h.chunk for h in dense_hits}
    chunks, rows = retriever.index.lookup("chunks"), retriever.index.lookup("rows")
    hits = []
    for rank, f in enumerate(fused, start=1):
        scores = []
        if f.ranks[0] is not None:
            scores.append(Score(dense_kind, float(f.scores[0]), f.ranks[0]))
        if f.ranks[1] is not None:
            scores.append(Score("bm25", float(f.scores[1]), f.ranks[1]))
        scores.append(Score(kind, f.score, rank))
        chunk = by_id.get(f.chunk_id) or chunks[rows[f.chunk_id]]
        hits.append(Hit(chunk, f.score, kind, rank, scores=tuple(scores)))
    query.latency_ms["fuse"] = _ms(t0)
    return hits


__all__ = ["FUSIONS", "bm25", "check_settings", "dense", "fused_kind", "hybrid"]
