"""`python -m rag_core bench --store pgvector --separated`: HNSW recall on a set whose query top-10s
are well separated, so recall measures the graph and not near-ties among equally close rows.

Points come in groups of 10 around a group centre; groups sit around topic centres. A query is a
group centre plus the same small noise as the members, so its 10 true neighbours are its group's
members, and the 11th (the nearest row of another group of the same topic) is far behind. The gap
between the 10th and 11th true neighbour's cosine is measured per query and reported.
"""

from __future__ import annotations

import sys

import numpy as np

from rag_core.bench.pgvector import hnsw_bench, server
from rag_core.stores import pg_server
from rag_core.core.types import Chunk

GROUP = 10  # members per group: exactly a query's top-10


def _unit(x: np.ndarray) -> np.ndarray:
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def separated_vectors(n: int, n_queries: int, dim: int = 384, seed: int = 0, topic_noise: float = 1.5,
                      member_noise: float = 0.25, topics: int | None = None):
    """(vectors, queries, query_groups): `n` rows in groups of 10. Noise is stated as d*sigma^2, so
    cos(member, its group centre) ~ 1/sqrt(1+member_noise) and cos(group, group of the same topic)
    ~ 1/(1+topic_noise), whatever `dim`."""
    rng = np.random.default_rng(seed)
    n_groups = n // GROUP
    topics = topics or max(1, n_groups // 100)
    topic_c = _unit(rng.standard_normal((topics, dim)))
    group_topic = rng.integers(0, topics, n_groups)
    groups = np.empty((n_groups, dim), dtype=np.float32)
    s_g, s_m = np.sqrt(topic_noise / dim), np.sqrt(member_noise / dim)
    for b in range(0, n_groups, 50_000):  # bounded temporaries at 1M rows
        e = b + 50_000
        groups[b:e] = _unit(topic_c[group_topic[b:e]] + s_g * rng.standard_normal((len(group_topic[b:e]), dim)))
    vectors = np.empty((n_groups * GROUP, dim), dtype=np.float32)
    for b in range(0, n_groups, 20_000):
        g = groups[b:b + 20_000]
        noisy = np.repeat(g, GROUP, axis=0) + s_m * rng.standard_normal((len(g) * GROUP, dim))
        vectors[b * GROUP:(b + len(g)) * GROUP] = _unit(noisy)
    query_groups = rng.choice(n_groups, size=n_queries, replace=False)
    queries = _unit(groups[query_groups] + s_m * rng.standard_normal((n_queries, dim)))
    return vectors, queries, query_groups


def separation(vectors: np.ndarray, queries: np.ndarray, query_groups: np.ndarray) -> dict:
    """The check: per query, the exact cosines of the 10th and 11th neighbour and whether the true
    top-10 is exactly the query's group."""
    gaps, tenth, own = [], [], 0
    for q, g in zip(queries, query_groups):
        scores = vectors @ q
        top = np.argpartition(-scores, 11)[:11]
        top = top[np.argsort(-scores[top])]
        tenth.append(float(scores[top[9]]))
        gaps.append(float(scores[top[9]] - scores[top[10]]))
        own += set(top[:10].tolist()) == set(range(g * GROUP, (g + 1) * GROUP))
    gaps_a = np.asarray(gaps)
    return {"top10_is_own_group": f"{own}/{len(queries)}", "cos_10th_median": round(float(np.median(tenth)), 3),
            "gap_10th_11th_min": round(float(gaps_a.min()), 3),
            "gap_10th_11th_median": round(float(np.median(gaps_a)), 3)}


def _chunks(n: int) -> list[Chunk]:
    """Small rows: the bench measures the graph; `doc_id` is `copy<i>`, as hnsw_bench reads it."""
    return [Chunk(source=f"g{i // GROUP}.txt", section="", text=f"row {i}", start=0, end=6, doc_id=f"copy{i}")
            for i in range(n)]


def run_separated_bench(n: int = 1_000_000, n_queries: int = 100, dsn: str | None = None, hnsw_m: int = 32,
                        ef_construction: int = 200, progress: bool = True) -> dict:
    def log(message: str) -> None:
        if progress:
            print(f"[bench pgvector separated] {message}", flush=True, file=sys.stderr)

    vectors, queries, query_groups = separated_vectors(n, n_queries)
    check = separation(vectors, queries, query_groups)
    log(f"{len(vectors):,} vectors, separation {check}")
    results: dict = {"vectors": len(vectors), "dim": int(vectors.shape[1]), "separation": check}
    with server(dsn) as resolved:
        results["server"] = pg_server.redact_dsn(dsn) if dsn else "embedded (pgserver, temp dir)"
        pg_server.get_pool(resolved)
        results["hnsw"] = hnsw_bench(resolved, _chunks(len(vectors)), vectors, queries, log, hnsw_m, ef_construction)
    return results


if __name__ == "__main__":
    import json

    size = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    print(json.dumps(run_separated_bench(size), indent=1))
