"""The one place that wires an index, a reranker and an answerer into a question -> Answer turn.

`Pipeline.ask` returns a `Turn`: iterate it for the streamed answer text, then read
`turn.answer` for everything that explains it (hits with labelled scores, the exact
prompt, tokens, dollars and latency per stage).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Iterator

from . import costs
from .errors import ConfigError
from .index import Index
from .prompts import DEFAULT_TEMPLATE, BuiltPrompt, build_prompt, validate_template
from .types import LLM, Answer, GenerationRequest, Hit, Reranker, RetrievalSettings, TokenUsage, Usage

#: How many first-stage candidates a reranker sees per final hit.
RERANK_POOL_FACTOR = 4
RERANK_POOL_MIN = 20


@dataclass(frozen=True)
class CostModels:
    """Which hosted models price a turn. Local models cost nothing, so the offline default
    reports what the same tokens would cost on these."""

    chat: str = costs.DEFAULT_COST_MODEL
    embedding: str = costs.DEFAULT_EMBED_COST_MODEL
    prices: costs.PriceTable = costs.DEFAULT_PRICES


@dataclass(frozen=True)
class Retrieval:
    hits: tuple[Hit, ...]
    below_threshold: tuple[Hit, ...]
    query_tokens: int
    latency_ms: dict[str, float]


def _ms(since: float) -> float:
    return (time.perf_counter() - since) * 1000.0


class Pipeline:
    def __init__(
        self,
        index: Index,
        llm: LLM,
        reranker: Reranker | None = None,
        template: str = DEFAULT_TEMPLATE,
        cost_models: CostModels = CostModels(),
    ) -> None:
        validate_template(template)
        self.index = index
        self.llm = llm
        self.reranker = reranker
        self.template = template
        self.cost_models = cost_models

    def retrieve(self, question: str, settings: RetrievalSettings) -> Retrieval:
        """Embed, search, threshold on the first-stage score, then (optionally) rerank."""
        if not question.strip():
            raise ConfigError("the question is empty: type a question")
        if settings.top_k < 1:
            raise ConfigError(f"top_k must be at least 1, not {settings.top_k}")
        latency: dict[str, float] = {}
        t0 = time.perf_counter()
        vector = self.index.embedder.embed_query(question)
        latency["embed_query"] = _ms(t0)
        pool = settings.top_k
        if self.reranker is not None:
            pool = max(settings.top_k * RERANK_POOL_FACTOR, RERANK_POOL_MIN)
        t0 = time.perf_counter()
        found = self.index.store.search(vector, pool, sources=settings.sources)
        latency["search"] = _ms(t0)
        threshold = settings.score_threshold
        kept = [h for h in found if threshold is None or h.score >= threshold]
        below = tuple(h for h in found[: settings.top_k] if threshold is not None and h.score < threshold)
        if self.reranker is not None and kept:
            t0 = time.perf_counter()
            kept = self.reranker.rerank(question, kept, settings.top_k)
            latency["rerank"] = _ms(t0)
        query_tokens = costs.count_tokens(question, costs.encoding_for_model(self.cost_models.embedding))
        return Retrieval(tuple(kept[: settings.top_k]), below, query_tokens, latency)

    def prepare(self, question: str, settings: RetrievalSettings) -> tuple[Retrieval, BuiltPrompt]:
        """Everything before the answerer: what the chat-turn overhead budget covers."""
        retrieval = self.retrieve(question, settings)
        t0 = time.perf_counter()
        prompt = build_prompt(
            question,
            retrieval.hits,
            template=self.template,
            context_window=self.llm.context_window,
            max_answer_tokens=self.llm.max_answer_tokens,
            encoding=costs.encoding_for_model(self.cost_models.chat),
        )
        retrieval.latency_ms["build_prompt"] = _ms(t0)
        return retrieval, prompt

    def ask(self, question: str, settings: RetrievalSettings) -> "Turn":
        retrieval, prompt = self.prepare(question, settings)
        return Turn(self, question, settings, retrieval, prompt)

    def answer(self, question: str, settings: RetrievalSettings) -> Answer:
        turn = self.ask(question, settings)
        for _ in turn:
            pass
        return turn.answer


@dataclass
class Turn:
    """Iterate for text deltas; `answer` is set once the stream is exhausted."""

    pipeline: Pipeline
    question: str
    settings: RetrievalSettings
    retrieval: Retrieval
    prompt: BuiltPrompt
    answer: Answer | None = None
    _parts: list[str] = field(default_factory=list)

    def __iter__(self) -> Iterator[str]:
        request = GenerationRequest(prompt=self.prompt.text, question=self.question, hits=self.prompt.hits)
        reported: TokenUsage | None = None
        t0 = time.perf_counter()
        first_token_ms: float | None = None
        for item in self.pipeline.llm.stream(request):
            if isinstance(item, TokenUsage):
                reported = item
                continue
            if first_token_ms is None:
                first_token_ms = _ms(t0)
            self._parts.append(item)
            yield item
        latency = dict(self.retrieval.latency_ms)
        latency["generate"] = _ms(t0)
        if first_token_ms is not None:
            latency["first_token"] = first_token_ms
        self.answer = self._finish(reported, latency)

    def _finish(self, reported: TokenUsage | None, latency: dict[str, float]) -> Answer:
        text = "".join(self._parts)
        models = self.pipeline.cost_models
        encoding = costs.encoding_for_model(models.chat)
        if reported and self.pipeline.llm.name.partition(":")[0] in costs.FREE_PROVIDERS:
            reported = None  # a local answerer counts with its own tokenizer; price the cost model's
        prompt_tokens = reported.prompt_tokens if reported else self.prompt.prompt_tokens
        completion_tokens = reported.completion_tokens if reported else costs.count_tokens(text, encoding)
        embed_tokens = self.retrieval.query_tokens
        dollars = costs.chat_cost(models.chat, prompt_tokens, completion_tokens, models.prices)
        dollars += costs.embedding_cost(models.embedding, embed_tokens, models.prices)
        usage = Usage(
            embedding_tokens=embed_tokens,
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            cost_usd=dollars,
            cost_model=f"{models.chat} + {models.embedding}",
            latency_ms=latency,
        )
        return Answer(
            question=self.question,
            text=text,
            hits=self.prompt.hits,
            prompt=self.prompt.text,
            usage=usage,
            settings=self.settings,
            below_threshold=self.retrieval.below_threshold,
        )
