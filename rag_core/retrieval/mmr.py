"""Maximal marginal relevance: pick k of the candidates, trading relevance against redundancy.

Each step picks the candidate with the highest
    lambda * relevance(c) - (1 - lambda) * max(similarity(c, already picked)),
so lambda 1 is plain relevance order and lower lambdas push near-duplicates (the same fact in
overlapping chunks, or the same article twice) down. Relevance defaults to the cosine of the
query vector with each candidate; pass `relevance` to diversify any ranking (e.g. fused scores
rescaled to 0..1). Vectors are L2-normalised, so a dot product is the cosine.

The returned marginal scores never increase: each pick can only raise the redundancy of what is
left (a negative similarity counts as 0, never as a bonus). Work is O(k * n * dim) in numpy (n = candidates, a few dozen), never a Python loop over n.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rag_core.core.errors import ConfigError


@dataclass(frozen=True)
class Pick:
    """Candidate `index` picked at this step, with its marginal score when it was picked."""

    index: int
    score: float


def mmr(candidates: np.ndarray, k: int, lambda_: float = 0.5, query: np.ndarray | None = None,
        relevance: np.ndarray | None = None) -> list[Pick]:
    """Indices into `candidates` (n, dim), in pick order, at most k. Give `query` (dim,) or
    `relevance` (n,). Ties go to the lower index (the better first-stage rank)."""
    if k < 1:
        raise ConfigError(f"k must be at least 1, not {k}")
    if not 0.0 <= lambda_ <= 1.0:
        raise ConfigError(f"MMR lambda must be between 0 and 1, not {lambda_}")
    vectors = np.asarray(candidates, dtype=np.float64)
    if vectors.ndim != 2:
        raise ConfigError(f"MMR candidates must be a (n, dim) matrix, not shape {vectors.shape}")
    n = vectors.shape[0]
    if relevance is None:
        if query is None:
            raise ConfigError("MMR needs the query vector or a relevance score per candidate")
        relevance = vectors @ np.asarray(query, dtype=np.float64)
    relevance = np.asarray(relevance, dtype=np.float64)
    if relevance.shape != (n,):
        raise ConfigError(f"MMR needs one relevance score per candidate: {relevance.shape} for {n}")
    if not (np.isfinite(relevance).all() and np.isfinite(vectors).all()):
        raise ConfigError("MMR got a NaN or infinite score or vector; re-embed the index")
    if n == 0:
        return []
    redundancy = np.zeros(n)  # similarity below 0 counts as no redundancy, not as a bonus
    taken = np.zeros(n, dtype=bool)
    picks: list[Pick] = []
    for _ in range(min(k, n)):
        marginal = lambda_ * relevance - (1.0 - lambda_) * redundancy
        marginal[taken] = -np.inf
        best = int(np.argmax(marginal))  # argmax returns the first maximum: lower index wins ties
        picks.append(Pick(best, float(marginal[best])))
        taken[best] = True
        redundancy = np.maximum(redundancy, vectors @ vectors[best])
    return picks


__all__ = ["Pick", "mmr"]
