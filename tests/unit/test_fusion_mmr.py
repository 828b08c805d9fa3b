"""Fusion, MMR and neighbour expansion: invariants (hypothesis) and worked examples."""

from __future__ import annotations

import numpy as np
import pytest

from rag_core.core.types import RetrievalSettings
from hypothesis import given, settings
from hypothesis import strategies as st

from rag_core.core.errors import ConfigError
from rag_core.retrieval.fusion import hybrid_weighted, normalise, rrf, weighted
from rag_core.retrieval.mmr import mmr
from rag_core.index.neighbours import expand, reading_order
from rag_core.core.types import Chunk

IDS = st.sampled_from([f"c{i}" for i in range(12)])
SCORES = st.floats(-5, 5, allow_nan=False, allow_infinity=False)


@st.composite
def ranked(draw):
    """A ranked list: unique ids, scores best first (as a search returns them)."""
    ids = draw(st.lists(IDS, unique=True, max_size=10))
    scores = sorted(draw(st.lists(SCORES, min_size=len(ids), max_size=len(ids))), reverse=True)
    return list(zip(ids, scores))


FUSERS = [
    lambda lists, k: rrf(lists, k),
    lambda lists, k: rrf(lists, k, rrf_k=1),
    lambda lists, k: weighted(lists, k, method="minmax"),
    lambda lists, k: weighted(lists, k, method="zscore"),
]


@pytest.mark.parametrize("fuse", FUSERS, ids=["rrf60", "rrf1", "minmax", "zscore"])
@settings(max_examples=150, deadline=None)
@given(lists=st.lists(ranked(), min_size=1, max_size=3), k=st.integers(1, 15))
def test_fusion_is_sorted_unique_within_k_and_complete(fuse, lists, k):
    out = fuse(lists, k)
    ids = [f.chunk_id for f in out]
    union = {cid for r in lists for cid, _ in r}
    assert len(ids) == len(set(ids)) == min(k, len(union))
    assert set(ids) <= union
    assert all(a.score >= b.score for a, b in zip(out, out[1:]))
    for f in out:  # every input rank and raw score is kept
        for li, r in enumerate(lists):
            where = [i for i, (cid, _) in enumerate(r) if cid == f.chunk_id]
            assert f.ranks[li] == (where[0] + 1 if where else None)
            assert f.scores[li] == (r[where[0]][1] if where else None)
    assert fuse(lists, k) == out  # deterministic


@pytest.mark.parametrize("fuse", FUSERS, ids=["rrf60", "rrf1", "minmax", "zscore"])
@given(single=ranked(), k=st.integers(1, 15))
def test_one_list_keeps_its_order_including_ties(fuse, single, k):
    """Stable ties: fusing one list changes nothing (equal scores keep the list's order)."""
    assert [f.chunk_id for f in fuse([single], k)] == [cid for cid, _ in single][:k]


def test_rrf_worked_example_and_tie_break():
    dense = [("a", 0.9), ("b", 0.8), ("c", 0.7)]
    sparse = [("b", 12.0), ("a", 9.0), ("d", 1.0)]
    out = rrf([dense, sparse], k=4, rrf_k=60)
    # a and b tie (1/61 + 1/62 each): a wins on its best rank in the earlier list
    assert [f.chunk_id for f in out] == ["a", "b", "c", "d"]
    assert out[0].score == pytest.approx(1 / 61 + 1 / 62)
    assert out[0].ranks == (1, 2) and out[3].ranks == (None, 3)


def test_weighted_fusion_normalises_before_adding():
    """Raw BM25 (tens) would swamp cosine (< 1); normalised, alpha decides."""
    dense = [("a", 0.90), ("b", 0.10)]
    sparse = [("b", 40.0), ("a", 39.0)]
    assert hybrid_weighted(dense, sparse, k=2, alpha=0.7)[0].chunk_id == "a"
    assert hybrid_weighted(dense, sparse, k=2, alpha=0.3)[0].chunk_id == "b"
    assert [f.chunk_id for f in hybrid_weighted(dense, sparse, k=2, alpha=1.0)] == ["a", "b"]
    assert normalise([3.0, 1.0, 2.0], "minmax") == ([1.0, 0.0, 0.5], 0.0)
    assert normalise([1.0, 2.0, 3.0]) == normalise([1.0, 2.0, 3.0], RetrievalSettings().normalise)  # one default
    z, floor = normalise([1.0, 2.0, 3.0], "zscore")
    assert z[1] == 0 and floor == z[0] < 0


@pytest.mark.parametrize("call", [
    lambda: rrf([[("a", 1)]], k=0),
    lambda: rrf([[("a", 1)]], k=1, rrf_k=-1),
    lambda: weighted([[("a", 1)]], k=1, weights=(1, 2)),
    lambda: weighted([[("a", 1)]], k=1, method="raw"),
    lambda: hybrid_weighted([], [], k=1, alpha=1.5),
])
def test_bad_fusion_settings_are_config_errors(call):
    with pytest.raises(ConfigError):
        call()


# ---- MMR ----------------------------------------------------------------------------------------

@st.composite
def candidates(draw):
    n = draw(st.integers(0, 12))
    dim = draw(st.integers(2, 6))
    raw = np.array(draw(st.lists(st.floats(-1, 1, allow_nan=False), min_size=n * dim, max_size=n * dim)))
    matrix = raw.reshape(n, dim) + 1e-3
    matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)
    query = np.array(draw(st.lists(st.floats(-1, 1, allow_nan=False), min_size=dim, max_size=dim))) + 1e-3
    return matrix, query / np.linalg.norm(query)


@settings(max_examples=150, deadline=None)
@given(data=candidates(), k=st.integers(1, 15), lam=st.floats(0, 1))
def test_mmr_is_unique_within_k_and_its_marginal_scores_never_increase(data, k, lam):
    matrix, query = data
    picks = mmr(matrix, k, lam, query=query)
    idx = [p.index for p in picks]
    assert len(idx) == len(set(idx)) == min(k, len(matrix))
    assert all(0 <= i < len(matrix) for i in idx)
    assert all(a.score >= b.score - 1e-9 for a, b in zip(picks, picks[1:]))


@settings(max_examples=100, deadline=None)
@given(data=candidates(), k=st.integers(1, 15))
def test_mmr_lambda_one_is_relevance_order(data, k):
    matrix, query = data
    relevance = matrix @ query
    expected = sorted(range(len(matrix)), key=lambda i: (-relevance[i], i))[:k]
    assert [p.index for p in mmr(matrix, k, 1.0, query=query)] == expected


def test_mmr_pushes_a_near_duplicate_down():
    a = np.array([1.0, 0.0, 0.0])
    near_a = np.array([0.99, 0.141, 0.0])
    other = np.array([0.6, 0.0, 0.8])
    matrix = np.stack([a, near_a / np.linalg.norm(near_a), other])
    query = np.array([1.0, 0.0, 0.0])
    assert [p.index for p in mmr(matrix, 2, 1.0, query=query)] == [0, 1]
    assert [p.index for p in mmr(matrix, 2, 0.3, query=query)] == [0, 2]


def test_mmr_rejects_bad_input():
    with pytest.raises(ConfigError, match="lambda"):
        mmr(np.eye(2), 1, 1.5, query=np.ones(2))
    with pytest.raises(ConfigError, match="query vector"):
        mmr(np.eye(2), 1, 0.5)
    with pytest.raises(ConfigError, match="one relevance"):
        mmr(np.eye(2), 1, 0.5, relevance=np.ones(3))


# ---- neighbours ---------------------------------------------------------------------------------

def _chunks(source: str, n: int, ordinal: int = 0) -> list[Chunk]:
    return [Chunk(source, "s", f"{source} part {i}", i * 10, i * 10 + 9, f"{source}-{ordinal}") for i in range(n)]


def test_neighbours_are_added_around_each_hit_once_and_marked():
    a, b = _chunks("a", 5), _chunks("b", 3)
    ordered = reading_order(b + list(reversed(a)))
    assert ordered[:5] == a
    out = expand([a[2].chunk_id, a[3].chunk_id, b[0].chunk_id], ordered, n=1)
    assert [(c.chunk.chunk_id, c.neighbour_of) for c in out] == [
        (a[1].chunk_id, a[2].chunk_id), (a[2].chunk_id, None),  # a[3] is a hit: not a neighbour
        (a[3].chunk_id, None), (a[4].chunk_id, a[3].chunk_id),
        (b[0].chunk_id, None), (b[1].chunk_id, b[0].chunk_id),  # never crosses into source a
    ]
    assert expand([a[0].chunk_id], ordered, n=0) == [expand([a[0].chunk_id], ordered, 0)[0]]


@given(n_chunks=st.integers(1, 8), hits=st.lists(st.integers(0, 7), max_size=5), n=st.integers(0, 3))
def test_neighbours_invariants(n_chunks, hits, n):
    ordered = _chunks("a", n_chunks) + _chunks("b", 3)
    hit_ids = [ordered[h].chunk_id for h in hits if h < n_chunks]
    out = expand(hit_ids, ordered, n)
    ids = [c.chunk.chunk_id for c in out]
    assert len(ids) == len(set(ids))
    assert [c.chunk.chunk_id for c in out if not c.is_neighbour] == list(dict.fromkeys(hit_ids))
    assert len(out) <= len(set(hit_ids)) * (2 * n + 1)
    assert all(c.chunk.source == "a" for c in out)


def test_neighbours_reject_unknown_hits_and_too_many():
    ordered = _chunks("a", 2)
    with pytest.raises(ConfigError, match="not in the chunk list"):
        expand(["zzz"], ordered, 1)
    with pytest.raises(ConfigError, match="between 0"):
        expand([], ordered, 99)
