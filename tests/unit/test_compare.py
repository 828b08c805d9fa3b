"""rag_core.evaluation.compare: the diff of two answers' chunks (a partition of their union) and costs."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from rag_core.evaluation.compare import compare, ranked_table, tally
from rag_core.costs import TurnCosts
from rag_core.costs.record import StageCost
from rag_core.core.types import Chunk, Hit


def hit(n: int, rank: int = 1) -> Hit:
    return Hit(Chunk("s.md", "s", f"text {n}", n * 10, n * 10 + 5, "d"), 0.5, "cosine", rank)


def hits_of(ids: list[int]) -> list[Hit]:
    return [hit(i, r) for r, i in enumerate(ids, start=1)]


@given(st.lists(st.integers(0, 30), max_size=25), st.lists(st.integers(0, 30), max_size=25))
def test_both_only_a_and_only_b_partition_the_union(a, b):
    result = compare(hits_of(a), None, hits_of(b), None)
    both = {m.chunk_id for m in result.both}
    only_a = {r.chunk_id for r in result.only_a}
    only_b = {r.chunk_id for r in result.only_b}
    union = {h.chunk.chunk_id for h in hits_of(a) + hits_of(b)}
    assert both | only_a | only_b == union
    assert not (both & only_a) and not (both & only_b) and not (only_a & only_b)
    assert len(result.both) == len(both) and len(result.only_a) == len(only_a)
    for move in result.both:  # ranks are first positions in each list
        assert hits_of(a)[move.rank_a - 1].chunk.chunk_id == move.chunk_id
        assert hits_of(b)[move.rank_b - 1].chunk.chunk_id == move.chunk_id
    assert 0.0 <= result.overlap <= 1.0


def test_rank_moves_and_cost_deltas():
    a = TurnCosts((StageCost("prompt", "m", 100, None, 0.001),), {"search": 10.0, "generate": 30.0,
                                                                   "first_token": 5.0})
    b = TurnCosts((StageCost("prompt", "m", 150, 140, 0.002),), {"search": 20.0, "generate": 50.0})
    result = compare(hits_of([1, 2, 3]), a, hits_of([3, 1, 9]), b)
    moves = {m.chunk_id: m.moved for m in result.both}
    assert moves == {hit(1).chunk.chunk_id: -1, hit(3).chunk.chunk_id: 2}
    assert [r.chunk_id for r in result.only_a] == [hit(2).chunk.chunk_id]
    assert [(r.chunk_id, r.rank) for r in result.only_b] == [(hit(9).chunk.chunk_id, 3)]
    assert result.tokens_delta == 40 and abs(result.usd_delta - 0.001) < 1e-12
    assert result.ms_delta == 30.0  # first_token is inside generate, not added twice


def test_a_failed_side_counts_as_nothing():
    result = compare(hits_of([1]), None, (), None)
    assert len(result.only_a) == 1 and result.b.tokens == 0 and result.overlap == 0.0


def test_tally_counts_wins_losses_and_ties_per_configuration():
    counts = tally([("x", "y", "win"), ("x", "y", "win"), ("y", "x", "win"), ("x", "y", "tie")])
    assert counts == {"x": {"wins": 2, "losses": 1, "ties": 1}, "y": {"wins": 1, "losses": 2, "ties": 1}}
    assert [r[0] for r in ranked_table(counts)] == ["x", "y"]
