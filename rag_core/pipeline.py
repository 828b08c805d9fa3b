"""The one place that wires an index, a reranker and an answerer into a question -> Answer turn.

`Pipeline.ask` returns a `Turn`: iterate it for the streamed answer text, then read
`turn.answer` for everything that explains it (hits with labelled scores, the exact
prompt, tokens, dollars and latency per stage), and `turn.costs` for tokens and dollars per
stage, reported by the API beside the tiktoken estimate. `cost_models_for` prices hosted
providers on their own models and free local ones on what they would cost.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable, Iterator

from . import costs
from .errors import ConfigError
from .index import Index
from .prompts import DEFAULT_TEMPLATE, BuiltPrompt, build_prompt, validate_template
from .providers import is_hosted
from .providers.metering import MeterReading, cost_model_of, meter_of, reading
from .stage_costs import StageCost, TurnCosts
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
    #: a priced reranker (e.g. cohere:rerank-v3.5); None: reranking costs nothing
    rerank: str | None = None


def _is_free(name: str) -> bool:
    return not is_hosted(name)


def cost_models_for(llm: LLM | None, embedder: object | None, reranker: Reranker | None = None,
                    prices: costs.PriceTable = costs.DEFAULT_PRICES) -> CostModels:
    """Hosted providers are priced on their own model (e.g. openai:gpt-4o-mini,
    openai:text-embedding-3-large for ...@256); free local ones, and compatible models with no
    price in the table, on the would-cost defaults — but only when the table still lists them
    (the person may have deleted them): otherwise the turn names the model and says it is
    unpriced ($0), it never fails. A reranker is priced only if listed."""

    def pick(component: object | None, default: str) -> str:
        name = cost_model_of(component) if component is not None else ""
        if name and not _is_free(name) and name in prices:
            return name
        if default in prices:
            return default
        # nothing to price on: name the hosted model itself (unpriced), else the would-cost default
        return name if name and not _is_free(name) else default

    rerank = cost_model_of(reranker) if reranker is not None else None
    return CostModels(chat=pick(llm, costs.DEFAULT_COST_MODEL),
                      embedding=pick(embedder, costs.DEFAULT_EMBED_COST_MODEL),
                      prices=prices, rerank=rerank if rerank and not _is_free(rerank) and rerank in prices else None)


def _price(model: str, table: costs.PriceTable, dollars: Callable[[], float]) -> tuple[float, str]:
    """(USD, label) for `model`: `dollars()` (the costs.py arithmetic) when the table prices it,
    else $0 and a label saying so. Pricing never fails a turn: the answer has already been
    streamed (and billed)."""
    if table.find(model) is None:
        return 0.0, costs.unpriced(model)
    return dollars(), model


@dataclass(frozen=True)
class Retrieval:
    hits: tuple[Hit, ...]
    below_threshold: tuple[Hit, ...]
    query_tokens: int
    latency_ms: dict[str, float]
    #: API-reported usage of this turn's query embedding and rerank calls (meter deltas)
    embed_reported: MeterReading | None = None
    rerank_reported: MeterReading | None = None


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
        embed_before = reading(self.index.embedder)
        vector = self.index.embedder.embed_query(question)
        latency["embed_query"] = _ms(t0)
        embed_reported = reading(self.index.embedder) - embed_before if meter_of(self.index.embedder) else None
        rerank_reported = None
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
            rerank_before = reading(self.reranker)
            kept = self.reranker.rerank(question, kept, settings.top_k)
            latency["rerank"] = _ms(t0)
            rerank_reported = reading(self.reranker) - rerank_before if meter_of(self.reranker) else None
        query_tokens = costs.count_tokens(question, costs.encoding_for_model(self.cost_models.embedding))
        return Retrieval(tuple(kept[: settings.top_k]), below, query_tokens, latency, embed_reported, rerank_reported)

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
    #: per-stage tokens and dollars; set with `answer`
    costs: TurnCosts | None = None
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

    def _reports(self, delta: MeterReading) -> bool:
        """A hosted embedder's delta counts if it made a call that reported usage, or made no call
        at all (a cache hit: nothing was billed)."""
        meter = meter_of(self.pipeline.index.embedder)
        return delta.requests == 0 or (meter is not None and meter.reported and delta.tokens > 0)

    def _finish(self, reported: TokenUsage | None, latency: dict[str, float]) -> Answer:
        text = "".join(self._parts)
        models = self.pipeline.cost_models
        encoding = costs.encoding_for_model(models.chat)
        if reported and _is_free(self.pipeline.llm.name):
            reported = None  # a local answerer counts with its own tokenizer; price the cost model's
        estimated_completion = costs.count_tokens(text, encoding)
        prompt_tokens = reported.prompt_tokens if reported else self.prompt.prompt_tokens
        completion_tokens = reported.completion_tokens if reported else estimated_completion
        embed_rep = self.retrieval.embed_reported
        embed_reported_tokens = embed_rep.tokens if embed_rep is not None and self._reports(embed_rep) else None
        embed_tokens = embed_reported_tokens if embed_reported_tokens is not None else self.retrieval.query_tokens
        table = models.prices
        chat_would = _is_free(self.pipeline.llm.name) or models.chat != cost_model_of(self.pipeline.llm)
        embedder = self.pipeline.index.embedder
        embed_would = _is_free(embedder.name) or models.embedding != cost_model_of(embedder)
        embed_usd, embed_label = _price(models.embedding, table,
                                        lambda: costs.embedding_cost(models.embedding, embed_tokens, table))
        prompt_usd, chat_label = _price(models.chat, table,
                                        lambda: costs.chat_cost(models.chat, prompt_tokens, 0, table))
        completion_usd, _ = _price(models.chat, table, lambda: costs.chat_cost(models.chat, 0, completion_tokens, table))
        stages = [
            StageCost("query embedding", embed_label, self.retrieval.query_tokens, embed_reported_tokens,
                      embed_usd, embed_would),
            StageCost("prompt", chat_label, self.prompt.prompt_tokens, reported.prompt_tokens if reported else None,
                      prompt_usd, chat_would),
            StageCost("completion", chat_label, estimated_completion,
                      reported.completion_tokens if reported else None, completion_usd, chat_would),
        ]
        rerank_label = None
        if self.pipeline.reranker is not None and "rerank" in self.retrieval.latency_ms:
            rr = self.retrieval.rerank_reported
            searches = rr.search_units if rr is not None and rr.search_units else 1
            if models.rerank:
                dollars, rerank_label = _price(models.rerank, table,
                                               lambda: costs.rerank_cost(models.rerank, searches, table))
            else:
                dollars, rerank_label = 0.0, self.pipeline.reranker.name
                if is_hosted(self.pipeline.reranker.name):  # a paid reranker the table does not list
                    rerank_label = costs.unpriced(cost_model_of(self.pipeline.reranker))
            stages.insert(1, StageCost("rerank", rerank_label, 0, None, dollars,
                                       searches=searches if models.rerank else 0))
            if not models.rerank and not is_hosted(self.pipeline.reranker.name):
                rerank_label = None  # a local reranker is not a cost model
        self.costs = TurnCosts(tuple(stages))
        cost_model = " + ".join(dict.fromkeys(m for m in (chat_label, embed_label, rerank_label) if m))
        usage = Usage(
            embedding_tokens=embed_tokens,
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            cost_usd=self.costs.total_usd,
            cost_model=cost_model,
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
