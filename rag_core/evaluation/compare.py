"""Two answers to one question, side by side: which chunks both found, which only one did, how
the shared ones moved in rank, and what each cost in tokens, dollars and time.

`compare(hits_a, costs_a, hits_b, costs_b)` returns a frozen `Comparison`. A chunk is the same
chunk in both when its `chunk_id` is (source, document and span); its rank in a list is its
position there from 1, the number the prompt gives it ([n]). The three groups `both`,
`only_a`, `only_b` partition the union of the two lists' chunks. `tally(votes)` counts blind
votes per configuration.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Mapping, Sequence

from rag_core.costs import TurnCosts
from rag_core.evaluation.significance import ALPHA, sign_test
from rag_core.core.types import Hit


@dataclass(frozen=True)
class RankMove:
    """A chunk both sides found, with its rank in A and in B (from 1)."""

    chunk_id: str
    rank_a: int
    rank_b: int

    @property
    def moved(self) -> int:
        """Places it went up in B (positive) or down (negative)."""
        return self.rank_a - self.rank_b


@dataclass(frozen=True)
class Ranked:
    """A chunk only one side found, with its rank there."""

    chunk_id: str
    rank: int


@dataclass(frozen=True)
class CostSide:
    tokens: int
    usd: float
    ms: float


@dataclass(frozen=True)
class Comparison:
    both: tuple[RankMove, ...]
    only_a: tuple[Ranked, ...]
    only_b: tuple[Ranked, ...]
    a: CostSide
    b: CostSide

    @property
    def tokens_delta(self) -> int:
        """B minus A (positive: B used more)."""
        return self.b.tokens - self.a.tokens

    @property
    def usd_delta(self) -> float:
        return self.b.usd - self.a.usd

    @property
    def ms_delta(self) -> float:
        return self.b.ms - self.a.ms

    @property
    def overlap(self) -> float:
        """Shared chunks over the union (Jaccard), 1.0 when both found nothing."""
        union = len(self.both) + len(self.only_a) + len(self.only_b)
        return len(self.both) / union if union else 1.0


def ranks(hits: Sequence[Hit]) -> dict[str, int]:
    """chunk_id -> its first position (from 1); a repeated chunk keeps its best rank."""
    out: dict[str, int] = {}
    for n, hit in enumerate(hits, start=1):
        out.setdefault(hit.chunk.chunk_id, n)
    return out


def latency_ms(costs: TurnCosts | None) -> float:
    """Wall time of the turn's stages (first_token is inside generate, so it is left out)."""
    if costs is None:
        return 0.0
    return sum(v for k, v in costs.latency_ms.items() if k != "first_token")


def side(costs: TurnCosts | None) -> CostSide:
    if costs is None:
        return CostSide(0, 0.0, 0.0)
    return CostSide(costs.usage().total_tokens, costs.total_usd, latency_ms(costs))


def compare(hits_a: Sequence[Hit], costs_a: TurnCosts | None,
            hits_b: Sequence[Hit], costs_b: TurnCosts | None) -> Comparison:
    """The diff of two turns (a failed side has no hits and no costs)."""
    ra, rb = ranks(hits_a), ranks(hits_b)
    both = tuple(RankMove(c, ra[c], rb[c]) for c in ra if c in rb)
    only_a = tuple(Ranked(c, r) for c, r in ra.items() if c not in rb)
    only_b = tuple(Ranked(c, r) for c, r in rb.items() if c not in ra)
    return Comparison(both, only_a, only_b, side(costs_a), side(costs_b))


def tally(votes: Iterable[tuple[str, str, str]]) -> dict[str, dict[str, int]]:
    """Blind votes -> configuration -> {"wins", "losses", "ties"}. A vote is (configuration of
    the side picked or of A on a tie, the other configuration, "win" | "tie")."""
    out: dict[str, dict[str, int]] = {}

    def row(config: str) -> dict[str, int]:
        return out.setdefault(config, {"wins": 0, "losses": 0, "ties": 0})

    for first, second, outcome in votes:
        if outcome == "tie":
            row(first)["ties"] += 1
            row(second)["ties"] += 1
        else:
            row(first)["wins"] += 1
            row(second)["losses"] += 1
    return out


def verdict(counts: Mapping[str, Mapping[str, int]]) -> str:
    """The leading configuration's record with an exact sign test (ties left out), e.g.
    "dense preferred in 7 of 9 decided votes (1 tie), p = 0.18: not yet a difference"."""
    table = ranked_table(counts)
    if not table:
        return "no votes yet"
    config, wins, losses, ties = table[0]
    p = sign_test(wins, losses)
    said = "a difference" if p < ALPHA else "not yet a difference"
    tie_text = f" ({ties} tie{'s' if ties != 1 else ''})" if ties else ""
    return (f"{config} preferred in {wins} of {wins + losses} decided vote{'s' if wins + losses != 1 else ''}"
            f"{tie_text}, sign test p = {p:.2f}: {said}")


def ranked_table(counts: Mapping[str, Mapping[str, int]]) -> list[tuple[str, int, int, int]]:
    """(configuration, wins, losses, ties), most wins first, then fewest losses."""
    rows = [(c, v["wins"], v["losses"], v["ties"]) for c, v in counts.items()]
    return sorted(rows, key=lambda r: (-r[1], r[2], r[0]))
