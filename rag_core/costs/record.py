"""The per-turn cost record: tokens and dollars per stage of a chat turn (query embedding,
rerank, prompt, completion), each with the API's reported count beside the tiktoken estimate.

Each `StageCost` prices itself from the dated price table (`StageCost.priced`): on the
provider's own model when it is hosted, or, for a free local provider, on what the same tokens
would cost on the default hosted model (`would_cost=True`, so the page can say "would cost").
`CostModels` says which models price a turn and builds its stages. A `TurnCosts` is the one
record of a turn; its `Usage` (the one-line summary on an Answer) is derived from it, and
records add with `+` (stages matched by name), which is how a session total is kept.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Mapping

from rag_core.providers import is_hosted
from rag_core.providers.metering import believable_count, cost_model_of
from rag_core.core.types import TokenUsage, Usage
from rag_core.costs.prices import (DEFAULT_COST_MODEL, DEFAULT_EMBED_COST_MODEL, DEFAULT_PRICES, MTOK,
                     PINECONE_READ_UNITS, PriceTable, is_unpriced, unpriced)

EMBEDDING, RERANK, PROMPT, COMPLETION = "query embedding", "rerank", "prompt", "completion"
#: query rewriting (multi-query, HyDE): the answerer's extra call, its prompt and reply tokens
REWRITE = "rewrite"
#: a hosted vector store's reads (Pinecone read units as the query responses report them; the
#: stage's "tokens" are units)
STORE_READS = "vector store reads"


@dataclass(frozen=True)
class StageCost:
    stage: str  # "query embedding" | "rewrite" | "rerank" | "prompt" | "completion"
    model: str
    estimated_tokens: int
    #: what the API's usage said; None when the provider reports nothing (local, or a silent server)
    reported_tokens: int | None
    cost_usd: float
    would_cost: bool = False
    #: rerank only: search units billed (reported, or estimated)
    searches: int = 0
    #: the server reported a figure that is not a believable count (negative, huge, not a whole
    #: number): it was not used, the estimate was priced instead, and the turn says so
    report_refused: bool = False

    @classmethod
    def priced(cls, stage: str, model: str, table: PriceTable, estimated: int, reported: int | None = None,
               *, would_cost: bool = False, searches: int = 0) -> "StageCost":
        """This stage's dollars from the table's price of `model`: completion tokens at the output
        rate, rerank by searches, the rest at the input rate. A model the table does not list
        costs $0 and is labelled so: pricing never fails a turn (it was already billed)."""
        refused = reported is not None and not believable_count(reported)
        if refused:
            reported = None
        price = table.find(model)
        if price is None:
            return cls(stage, unpriced(model), estimated, reported, 0.0, would_cost, searches, refused)
        tokens = reported if reported is not None else estimated
        if stage == RERANK:
            dollars = searches * price.per_1k_searches / 1000
        else:
            dollars = tokens * (price.output_per_mtok if stage == COMPLETION else price.input_per_mtok) / MTOK
        return cls(stage, model, estimated, reported, dollars, would_cost, searches, refused)

    @property
    def tokens(self) -> int:
        return self.reported_tokens if self.reported_tokens is not None else self.estimated_tokens

    @property
    def source(self) -> str:
        if self.reported_tokens is not None:
            return "reported by API"
        return "tiktoken estimate; the server's figure was not used" if self.report_refused else "tiktoken estimate"

    @property
    def is_cost_model(self) -> bool:
        """A local reranker's stage names the reranker, not a model anything is priced on."""
        return self.stage != RERANK or self.searches > 0 or is_unpriced(self.model)


@dataclass(frozen=True)
class TurnCosts:
    """One turn's (or, summed, a session's) stages and latency per stage in milliseconds."""

    stages: tuple[StageCost, ...] = ()
    latency_ms: Mapping[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "latency_ms", MappingProxyType(dict(self.latency_ms)))

    @property
    def total_usd(self) -> float:
        return sum(s.cost_usd for s in self.stages)

    def stage(self, name: str) -> StageCost | None:
        return next((s for s in self.stages if s.stage == name), None)

    def _tokens(self, name: str) -> int:
        found = self.stage(name)
        return found.tokens if found is not None else 0

    def usage(self) -> Usage:
        """The summary line: tokens per kind, dollars, the models priced on (chat first)."""
        order = {PROMPT: 0, COMPLETION: 1, EMBEDDING: 2, RERANK: 3, REWRITE: 4}
        labels = [s.model for s in sorted(self.stages, key=lambda s: order.get(s.stage, 9)) if s.is_cost_model]
        return Usage(embedding_tokens=self._tokens(EMBEDDING), prompt_tokens=self._tokens(PROMPT),
                     completion_tokens=self._tokens(COMPLETION), cost_usd=self.total_usd,
                     cost_model=" + ".join(dict.fromkeys(m for m in labels if m)), latency_ms=dict(self.latency_ms))

    def __add__(self, other: "TurnCosts") -> "TurnCosts":
        merged: dict[str, StageCost] = {s.stage: s for s in self.stages}
        for s in other.stages:
            mine = merged.get(s.stage)
            merged[s.stage] = s if mine is None else _merge(mine, s)
        latency = dict(self.latency_ms)
        for stage, ms in other.latency_ms.items():
            latency[stage] = latency.get(stage, 0.0) + ms
        return TurnCosts(tuple(merged.values()), latency)


def _merge(mine: StageCost, s: StageCost) -> StageCost:
    reported = (None if mine.reported_tokens is None and s.reported_tokens is None
                else (mine.reported_tokens or 0) + (s.reported_tokens or 0))
    models = " + ".join(dict.fromkeys(m for m in (mine.model, s.model) if m))
    return replace(mine, model=models, estimated_tokens=mine.estimated_tokens + s.estimated_tokens,
                   reported_tokens=reported, cost_usd=mine.cost_usd + s.cost_usd,
                   would_cost=mine.would_cost and s.would_cost, searches=mine.searches + s.searches,
                   report_refused=mine.report_refused or s.report_refused)


def _is_free(name: str) -> bool:
    return not is_hosted(name)


def _would_cost(component: object, model: str) -> bool:
    """Priced on another model than its own (a free local one, or one the table lacks)."""
    return _is_free(getattr(component, "name", "")) or model != cost_model_of(component)


@dataclass(frozen=True)
class CostModels:
    """Which hosted models price a turn, and the stages priced on them. Local models cost
    nothing, so the offline default reports what the same tokens would cost on these."""

    chat: str = DEFAULT_COST_MODEL
    embedding: str = DEFAULT_EMBED_COST_MODEL
    prices: PriceTable = DEFAULT_PRICES
    #: a priced reranker (e.g. cohere:rerank-v3.5); None: reranking costs nothing
    rerank: str | None = None

    def embedding_stage(self, embedder: object, estimated: int, reported: int | None,
                        refused: bool = False) -> StageCost:
        """`refused`: the API reported a figure the meter did not use (the estimate is priced, and said)."""
        stage = StageCost.priced(EMBEDDING, self.embedding, self.prices, estimated, reported,
                                 would_cost=_would_cost(embedder, self.embedding))
        return replace(stage, report_refused=True) if refused and reported is None else stage

    def chat_stages(self, llm: object, prompt_tokens: int, completion_tokens: int,
                    reported: TokenUsage | None) -> tuple[StageCost, StageCost]:
        """Prompt and completion; a local answerer's own counts are ignored (it counts with its
        own tokenizer): the cost model's tiktoken estimate is priced instead."""
        if reported is not None and _is_free(getattr(llm, "name", "")):
            reported = None
        would = _would_cost(llm, self.chat)
        return (StageCost.priced(PROMPT, self.chat, self.prices, prompt_tokens,
                                 reported.prompt_tokens if reported else None, would_cost=would),
                StageCost.priced(COMPLETION, self.chat, self.prices, completion_tokens,
                                 reported.completion_tokens if reported else None, would_cost=would))

    def rewrite_stage(self, llm: object, estimated: TokenUsage, reported: TokenUsage | None) -> StageCost:
        """The rewrite call, priced on the chat model: its prompt at the input rate, its reply at
        the output rate (the server's counts when it reported them; a local answerer's are not
        trusted, as in `chat_stages`). Tokens are the two summed."""
        prompt, completion = self.chat_stages(llm, estimated.prompt_tokens, estimated.completion_tokens, reported)
        return StageCost(REWRITE, prompt.model, prompt.estimated_tokens + completion.estimated_tokens,
                         None if prompt.reported_tokens is None
                         else prompt.reported_tokens + (completion.reported_tokens or 0),
                         prompt.cost_usd + completion.cost_usd, prompt.would_cost,
                         report_refused=prompt.report_refused or completion.report_refused)

    def rerank_stage(self, reranker: object, searches: int) -> StageCost:
        """Priced by search units when the table lists the reranker; a hosted one it does not list
        says so ($0); a local one is named and free."""
        if self.rerank:
            return StageCost.priced(RERANK, self.rerank, self.prices, 0, searches=searches)
        name = getattr(reranker, "name", "")
        label = unpriced(cost_model_of(reranker)) if is_hosted(name) else name
        return StageCost(RERANK, label, 0, None, 0.0)


def store_stage(read_units: int, table: PriceTable = DEFAULT_PRICES) -> StageCost:
    """The read units a hosted store reported for this turn (usage.readUnits), priced per 1M units."""
    return StageCost.priced(STORE_READS, PINECONE_READ_UNITS, table, 0, reported=int(read_units))


def cost_models_for(llm: object | None, embedder: object | None, reranker: object | None = None,
                    prices: PriceTable = DEFAULT_PRICES) -> CostModels:
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
    return CostModels(chat=pick(llm, DEFAULT_COST_MODEL), embedding=pick(embedder, DEFAULT_EMBED_COST_MODEL),
                      prices=prices, rerank=rerank if rerank and not _is_free(rerank) and rerank in prices else None)
