"""The Retriever: an index + RetrievalSettings -> a RetrievalResult, with no answerer in sight.

Read it as a short chain of steps over one `RetrievalQuery` (question, settings, query vector):

1. a first stage chosen by `settings.mode` (`MODES`: name -> function returning candidates,
   best first: "dense" (the vector store), "bm25" (whole-index BM25), "hybrid" (both, fused;
   see modes.py)),
   With query rewriting (`settings.rewrite`, a `QueryRewriter` passed to `retrieve`), the
   first stage runs once per search text (the question and the model's rewrites, or the HyDE
   passage) and the lists are fused by RRF (`fuse_rewrites`); the steps then see the question.
2. the score threshold (on the cosine when a hit has one, else on its primary score),
3. post-steps in order (`Step`: query, hits -> hits): the reranker, MMR when `settings.mmr_lambda`
   is set, then any steps given to the constructor,
4. the top k,
5. neighbour expansion when `settings.neighbours` > 0: `RetrievalResult.context` is the hits
   with up to n same-source chunks either side (marked `Hit.neighbour_of`); they go to the
   answerer and count in its prompt tokens, but are not retrieved hits (not in the metrics).

Every hit keeps every score it got (`Hit.scores`: kind, value, rank). Chat, Evaluate, Explore
and the CLI all retrieve through here; the Pipeline adds a prompt and an answerer on top.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Callable, Mapping, Protocol, Sequence

import numpy as np

from rag_core.costs import count_tokens
from rag_core.core.errors import ConfigError
from rag_core.index.index import Index
from rag_core.providers.metering import MeterReading, meter_of, reading
from rag_core.core.types import Hit, Reranker, RetrievalSettings, Score
from rag_core.retrieval import modes
from rag_core.retrieval.modes import RetrievalQuery
from rag_core.retrieval.mmr import mmr
from rag_core.index.neighbours import MAX_NEIGHBOURS, expand
from rag_core.retrieval.rewrite import HYDE, QueryRewriter, Rewrite, fuse_rewrites

#: How many first-stage candidates a reranker sees per final hit.
RERANK_POOL_FACTOR = 4
RERANK_POOL_MIN = 20
#: MMR chooses among at least this many candidates (and 3 per final hit)
MMR_POOL_MIN = 30
THRESHOLD_KINDS = ("cosine", "l2")


@dataclass(frozen=True)
class EmbeddingUsage:
    """The query embedding's tokens: the tiktoken estimate, and what the API reported (None when
    it reported nothing trustworthy; 0 when the vector came from the cache, nothing billed)."""

    estimated_tokens: int
    reported_tokens: int | None = None
    #: the API reported a figure that is not a believable count: not used, and the turn says so
    refused: bool = False

    @property
    def tokens(self) -> int:
        return self.reported_tokens if self.reported_tokens is not None else self.estimated_tokens


@dataclass(frozen=True)
class RetrievalResult:
    """What retrieval found for one question, and what it took."""

    question: str
    settings: RetrievalSettings
    hits: tuple[Hit, ...]
    #: hits in the top k that fell under the score threshold (shown to explain "No context.")
    below_threshold: tuple[Hit, ...]
    #: milliseconds per stage: embed_query, search, rerank (when one ran)
    latency_ms: Mapping[str, float]
    embedding: EmbeddingUsage
    #: rerank search units billed (reported, else 1); None when no reranker ran
    rerank_searches: int | None = None
    query_vector: np.ndarray | None = field(default=None, compare=False, repr=False)
    #: what the answerer gets: the hits with their neighbours (empty: the hits alone)
    context: tuple[Hit, ...] = ()
    #: the query rewrite that ran (its queries, tokens, latency); None when rewriting is off
    rewrite: Rewrite | None = None

    @property
    def for_prompt(self) -> tuple[Hit, ...]:
        return self.context or self.hits


class Step(Protocol):
    """A post-step: reorders, filters or extends the candidates (rerank today; MMR, neighbours next)."""

    def __call__(self, query: RetrievalQuery, hits: list[Hit]) -> list[Hit]: ...


FirstStage = Callable[["Retriever", RetrievalQuery], list[Hit]]


def _ms(since: float) -> float:
    return (time.perf_counter() - since) * 1000.0


_MODES: dict[str, FirstStage] = {"dense": modes.dense, "bm25": modes.bm25, "hybrid": modes.hybrid}
#: retrieval mode -> its first stage (read-only view; add one with `register_mode`)
MODES: Mapping[str, FirstStage] = MappingProxyType(_MODES)


def register_mode(name: str, first_stage: FirstStage) -> None:
    """Make `RetrievalSettings(mode=name)` start with `first_stage` (bm25 and hybrid go here)."""
    if name in _MODES:
        raise ConfigError(f"retrieval mode {name!r} is already registered")
    _MODES[name] = first_stage


class RerankStep:
    """The reranker as a step: reorders the pool, timed and metered (Cohere bills search units)."""

    def __init__(self, reranker: Reranker) -> None:
        self.reranker = reranker

    def __call__(self, query: RetrievalQuery, hits: list[Hit]) -> list[Hit]:
        if not hits:
            return hits
        t0 = time.perf_counter()
        before = reading(self.reranker)
        hits = self.reranker.rerank(query.question, hits, query.settings.top_k)
        query.latency_ms["rerank"] = _ms(t0)
        query.rerank_reported = reading(self.reranker) - before if meter_of(self.reranker) else None
        return hits


class MMRStep:
    """Maximal marginal relevance over the top candidates: relevance is the primary score
    min-max scaled, similarity the cosine between stored vectors (`store.vectors_at`)."""

    def __init__(self, index: Index) -> None:
        self.index = index

    def __call__(self, query: RetrievalQuery, hits: list[Hit]) -> list[Hit]:
        lam = query.settings.mmr_lambda
        if lam is None or not hits:
            return hits
        t0 = time.perf_counter()
        head = hits[: max(query.pool, MMR_POOL_MIN)]
        rows = self.index.lookup("rows")
        vectors = self.index.store.vectors_at(np.array([rows[h.chunk.chunk_id] for h in head], dtype=np.int64))
        scores = np.array([h.score for h in head], dtype=np.float64)
        span = scores.max() - scores.min()
        relevance = (scores - scores.min()) / span if span > 0 else np.ones_like(scores)
        picks = mmr(vectors, min(query.settings.top_k, len(head)), lam, relevance=relevance)
        kind = f"mmr λ={lam:g}"
        query.latency_ms["mmr"] = _ms(t0)
        return [head[p.index].reranked(p.score, kind, rank) for rank, p in enumerate(picks, start=1)]


def neighbour_context(index: Index, hits: Sequence[Hit], n: int) -> tuple[Hit, ...]:
    """The hits with up to n same-source chunks either side, in reading order per hit; a
    neighbour is a Hit with score 0 (kind "neighbour"), the hit's rank, and `neighbour_of`."""
    if n == 0 or not hits:
        return ()
    by_id = {h.chunk.chunk_id: h for h in hits}
    out = []
    for item in expand(list(by_id), index.lookup("reading"), n):
        if item.neighbour_of is None:
            out.append(by_id[item.chunk.chunk_id])
        else:
            rank = by_id[item.neighbour_of].rank
            out.append(Hit(item.chunk, 0.0, "neighbour", rank, neighbour_of=item.neighbour_of))
    return tuple(out)


def _threshold_score(hit: Hit) -> float | None:
    """The cosine when the hit has one; a hybrid hit found by BM25 alone has none (None: kept)."""
    for score in hit.all_scores:
        if score.kind in THRESHOLD_KINDS:
            return score.value
    return hit.score if hit.score_kind == "bm25" else None


def _below(hit: Hit, threshold: float | None) -> bool:
    value = _threshold_score(hit)
    return threshold is not None and value is not None and value < threshold


class Retriever:
    """index + settings -> RetrievalResult. `reranker` (optional) becomes the first post-step;
    `steps` run after it. `token_encoding` counts the query's tokens for the cost record."""

    def __init__(self, index: Index, reranker: Reranker | None = None, *, steps: Sequence[Step] = (),
                 token_encoding: str = "cl100k_base", search_cache: dict | None = None) -> None:
        self.index = index
        #: question -> its dense candidates, shared by the settings of one sweep (None: no cache)
        self.search_cache = search_cache
        self.reranker = reranker
        self.steps: tuple[Step, ...] = ((RerankStep(reranker),) if reranker is not None else ()) + tuple(steps)
        self.token_encoding = token_encoding

    def embed(self, query: RetrievalQuery) -> np.ndarray:
        """The query vector (once per query), timed and metered."""
        if query.vector is None:
            embedder = self.index.embedder
            t0 = time.perf_counter()
            before = reading(embedder)
            query.vector = embedder.embed_query(query.question)
            query.latency_ms["embed_query"] = _ms(t0)
            query.embed_reported = reading(embedder) - before if meter_of(embedder) else None
        return query.vector

    def retrieve(self, question: str, settings: RetrievalSettings,
                 rewriter: QueryRewriter | None = None) -> RetrievalResult:
        """First stage by mode (per rewritten query, fused, when `settings.rewrite` is on: then
        `rewriter` is required), threshold on its score, the steps, then the top k."""
        query = self._query(question, settings)
        rewrite = None
        if settings.rewrite:
            if rewriter is None:
                raise ConfigError(f"query rewriting ({settings.rewrite}) needs a generative answerer to write "
                                  "the rewrites: choose a chat model, or turn query rewriting off")
            rewrite, found = self._rewritten(query, rewriter)
        else:
            found = MODES[settings.mode](self, query)
        threshold = settings.score_threshold
        kept = [h for h in found if not _below(h, threshold)]
        below = tuple(h for h in found[: settings.top_k] if _below(h, threshold))
        steps = self.steps[:1] if self.reranker is not None else ()
        extra = (MMRStep(self.index),) if settings.mmr_lambda is not None else ()
        for step in (*steps, *extra, *self.steps[len(steps):]):
            kept = step(query, kept)
        hits = tuple(kept[: settings.top_k])
        context = neighbour_context(self.index, hits, settings.neighbours)
        return RetrievalResult(question, settings, hits, below, dict(query.latency_ms),
                               self._embedding_usage(query), self._searches(query), query.vector, context,
                               rewrite)

    def _rewritten(self, query: RetrievalQuery, rewriter: QueryRewriter) -> tuple[Rewrite, list[Hit]]:
        """Rewrite the question (one model call), run the first stage once per search text
        (the question's own list first, unless HyDE searches with the passage alone), fuse by RRF.
        The extra texts' embedding time and tokens add to the question's."""
        rw = rewriter.rewrite(query.question)
        query.latency_ms["rewrite"] = rw.latency_ms
        lists = []
        for text in rw.search_texts(with_question=rw.strategy != HYDE):
            if text == query.question:
                lists.append(MODES[query.settings.mode](self, query))
                continue
            sub = RetrievalQuery(text, query.settings, query.pool)
            lists.append(MODES[query.settings.mode](self, sub))
            query.extra_texts.append(text)
            query.extra_reported.append(sub.embed_reported)
            for stage, ms in sub.latency_ms.items():
                query.latency_ms[stage] = query.latency_ms.get(stage, 0.0) + ms
            if query.vector is None and sub.vector is not None:
                query.vector = sub.vector  # HyDE without the question: the passage's vector
        if len(lists) == 1:
            return rw, lists[0]
        t0 = time.perf_counter()
        fused = fuse_rewrites(lists, k=query.pool, rrf_k=query.settings.rrf_k)
        query.latency_ms["fuse_rewrites"] = _ms(t0)
        return rw, [f.hit for f in fused]

    def _query(self, question: str, settings: RetrievalSettings) -> RetrievalQuery:
        if not question.strip():
            raise ConfigError("the question is empty: type a question")
        if settings.top_k < 1:
            raise ConfigError(f"top_k must be at least 1, not {settings.top_k}")
        if settings.mode not in MODES:
            raise ConfigError(f"unknown retrieval mode {settings.mode!r}; known: {', '.join(MODES)}")
        if not 0 <= settings.neighbours <= MAX_NEIGHBOURS:
            raise ConfigError(f"neighbours must be between 0 and {MAX_NEIGHBOURS}, not {settings.neighbours}")
        modes.check_settings(settings)
        pool = max(settings.top_k * RERANK_POOL_FACTOR, RERANK_POOL_MIN) if self.steps else settings.top_k
        if settings.mmr_lambda is not None:
            pool = max(pool, settings.top_k * 3, MMR_POOL_MIN)
        return RetrievalQuery(question, settings, pool)

    def _embedding_usage(self, query: RetrievalQuery) -> EmbeddingUsage:
        """A hosted embedder's delta counts if it made a call that reported usage, or made no call
        at all (a cache hit: nothing was billed)."""
        estimated = sum(count_tokens(t, self.token_encoding) for t in [query.question, *query.extra_texts])
        deltas = [query.embed_reported, *query.extra_reported]
        if any(d is None for d in deltas):
            return EmbeddingUsage(estimated)
        meter = meter_of(self.index.embedder)
        trusted = all(d.requests == 0 or (meter is not None and meter.reported and d.tokens > 0)
                      for d in deltas if d is not None)
        refused = any(d.refused for d in deltas if d is not None)
        return EmbeddingUsage(estimated, sum(d.tokens for d in deltas if d is not None) if trusted else None,
                              refused and not trusted)

    def _searches(self, query: RetrievalQuery) -> int | None:
        if "rerank" not in query.latency_ms:
            return None
        rr = query.rerank_reported
        return rr.search_units if rr is not None and rr.search_units else 1
