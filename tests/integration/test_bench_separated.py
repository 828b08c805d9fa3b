"""The 1M pgvector benchmark's set (issue 20 item 2): each query's true top-10 is its own group of
10, well ahead of the 11th, so HNSW recall is not blurred by near-ties."""

from __future__ import annotations

import numpy as np

from rag_core.bench.separated import GROUP, separated_vectors, separation


def test_every_query_top10_is_its_group_and_the_11th_is_far_behind():
    vectors, queries, groups = separated_vectors(5_000, 30, seed=1)
    assert vectors.shape == (5_000, 384) and queries.shape == (30, 384)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-5)
    check = separation(vectors, queries, groups)
    assert check["top10_is_own_group"] == "30/30"
    assert check["gap_10th_11th_min"] > 0.2 and 0.7 < check["cos_10th_median"] < 0.9


def test_the_set_is_reproducible_and_groups_are_contiguous_rows():
    a, qa, ga = separated_vectors(1_000, 5, seed=2)
    b, qb, gb = separated_vectors(1_000, 5, seed=2)
    np.testing.assert_array_equal(a, b) and np.testing.assert_array_equal(qa, qb)
    g = int(ga[0])
    members = a[g * GROUP:(g + 1) * GROUP]
    assert float((members @ qa[0]).min()) > float(np.delete(a, range(g * GROUP, (g + 1) * GROUP), 0).dot(qa[0]).max())


def test_the_bench_runs_on_the_embedded_server_with_the_store_defaults(pg_dsn):
    from rag_core.bench.separated import run_separated_bench

    out = run_separated_bench(n=2_000, n_queries=20, dsn=pg_dsn, progress=False)
    hnsw = out["hnsw"]
    assert out["separation"]["top10_is_own_group"] == "20/20"
    assert (hnsw["hnsw_m"], hnsw["ef_construction"], hnsw["rows"]) == (32, 200, 2_000)
    assert [r["ef_search"] for r in hnsw["by_ef_search"]][:2] == [16, 32]
    assert hnsw["by_ef_search"][-1]["recall_at_10"] >= 0.95 and hnsw["hnsw_build_s"] >= 0
