"""Tokens and dollars per stage of a chat turn (query embedding, rerank, prompt, completion),
each with the API's reported count beside the tiktoken estimate, and session totals.

A StageCost is priced on `model` from the dated price table: the provider's own model when
it is hosted, or — for a free local provider — what the same tokens would cost on the default
hosted model (`would_cost=True`, so the page can say "would cost"). Turn costs add with `+`
(stages matched by name), which is how a session total is kept.
"""

from __future__ import annotations

from dataclasses import dataclass, replace


@dataclass(frozen=True)
class StageCost:
    stage: str  # "query embedding" | "rerank" | "prompt" | "completion"
    model: str
    estimated_tokens: int
    #: what the API's usage said; None when the provider reports nothing (local, or a silent server)
    reported_tokens: int | None
    cost_usd: float
    would_cost: bool = False
    #: rerank only: search units billed (reported, or estimated)
    searches: int = 0

    @property
    def tokens(self) -> int:
        return self.reported_tokens if self.reported_tokens is not None else self.estimated_tokens

    @property
    def source(self) -> str:
        return "reported by API" if self.reported_tokens is not None else "tiktoken estimate"


@dataclass(frozen=True)
class TurnCosts:
    stages: tuple[StageCost, ...] = ()

    @property
    def total_usd(self) -> float:
        return sum(s.cost_usd for s in self.stages)

    def stage(self, name: str) -> StageCost | None:
        return next((s for s in self.stages if s.stage == name), None)

    def __add__(self, other: "TurnCosts") -> "TurnCosts":
        merged: dict[str, StageCost] = {s.stage: s for s in self.stages}
        for s in other.stages:
            mine = merged.get(s.stage)
            if mine is None:
                merged[s.stage] = s
                continue
            reported = (None if mine.reported_tokens is None and s.reported_tokens is None
                        else (mine.reported_tokens or 0) + (s.reported_tokens or 0))
            models = " + ".join(dict.fromkeys(m for m in (mine.model, s.model) if m))
            merged[s.stage] = replace(mine, model=models, estimated_tokens=mine.estimated_tokens + s.estimated_tokens,
                                      reported_tokens=reported, cost_usd=mine.cost_usd + s.cost_usd,
                                      would_cost=mine.would_cost and s.would_cost, searches=mine.searches + s.searches)
        return TurnCosts(tuple(merged.values()))
