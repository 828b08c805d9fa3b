"""Fuse ranked lists (dense, BM25, rewrites ...) into one: pure functions, no index needed.

Input: ranked lists of (chunk_id, score), best first. Output: `Fused` items, best first, at most
k, each id once, carrying the score and rank it had in every input list (None where absent), so
the app can show why a chunk was retrieved.

- `rrf`: reciprocal rank fusion, sum of weight / (k_rrf + rank). Uses ranks only, so the scales
  of cosine and BM25 never meet. Smaller k_rrf trusts the top of each list more.
- `weighted`: sum of weight * normalised score, normalised per list by min-max (0..1) or
  z-score. A chunk missing from a list gets that list's floor (0 for min-max, the list's lowest
  z for z-score): it is no better than the worst chunk the list did return. Raw BM25 and cosine
  are never added unnormalised (BM25 would swamp cosine).
- `hybrid_weighted(dense, sparse, alpha)`: alpha * dense + (1 - alpha) * sparse.

Ties in the fused score go to the better best rank in any list, then to the earlier list, then
to first appearance: the same input always gives the same order.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from rag_core.core.types import DEFAULT_NORMALISE, DEFAULT_RRF_K
from rag_core.core.errors import ConfigError

Ranked = Sequence[tuple[str, float]]
NORMALISERS = ("minmax", "zscore")


@dataclass(frozen=True)
class Fused:
    """One fused result: `score` is the fused score; `ranks[i]`/`scores[i]` are its rank (from 1)
    and raw score in input list i, or None when list i did not return it."""

    chunk_id: str
    score: float
    ranks: tuple[int | None, ...]
    scores: tuple[float | None, ...]


def _dedupe(ranked: Ranked) -> list[tuple[str, float]]:
    """The first (best) occurrence of each id."""
    seen: set[str] = set()
    out = []
    for chunk_id, score in ranked:
        if chunk_id not in seen:
            seen.add(chunk_id)
            out.append((chunk_id, float(score)))
    return out


def _check(lists: Sequence[Ranked], weights: Sequence[float] | None, k: int) -> list[float]:
    if k < 1:
        raise ConfigError(f"k must be at least 1, not {k}")
    weights = [1.0] * len(lists) if weights is None else [float(w) for w in weights]
    if len(weights) != len(lists):
        raise ConfigError(f"one weight per ranked list: got {len(weights)} weights for {len(lists)} lists")
    if any(w < 0 or not math.isfinite(w) for w in weights):
        raise ConfigError(f"fusion weights must be finite and >= 0, not {weights}")
    return weights


def _combine(lists: list[list[tuple[str, float]]], contribution: list[dict[str, float]],
             floors: list[float], weights: list[float], k: int) -> list[Fused]:
    """Sum weighted contributions (floor where absent) and order with the documented tie-break.
    numpy over the union of ids (a few hundred): no per-item Python sort key."""
    position: dict[str, int] = {}
    for ranked in lists:
        for chunk_id, _ in ranked:
            position.setdefault(chunk_id, len(position))  # first appearance
    n, width = len(position), len(lists)
    ranks = np.zeros((n, width), dtype=np.int64)  # 0 = absent
    raw = np.zeros((n, width), dtype=np.float64)
    fused = np.zeros(n, dtype=np.float64)
    for li, ranked in enumerate(lists):
        rows = np.fromiter((position[cid] for cid, _ in ranked), dtype=np.int64, count=len(ranked))
        ranks[rows, li] = np.arange(1, len(ranked) + 1)
        raw[rows, li] = [score for _, score in ranked]
        column = np.full(n, floors[li], dtype=np.float64)
        column[rows] = [contribution[li][cid] for cid, _ in ranked]
        fused = fused + weights[li] * column  # list by list, as the plain sum adds them
    best = np.where(ranks > 0, ranks * width + np.arange(width), np.iinfo(np.int64).max).min(axis=1)
    order = np.lexsort((np.arange(n), best, -fused))[:k]
    ids = list(position)
    return [Fused(ids[i], float(fused[i]), tuple(int(r) or None for r in ranks[i]),
                  tuple(float(v) if r else None for v, r in zip(raw[i], ranks[i]))) for i in order]


def rrf(lists: Sequence[Ranked], k: int, rrf_k: float = DEFAULT_RRF_K,
        weights: Sequence[float] | None = None) -> list[Fused]:
    """Reciprocal rank fusion of ranked lists; the top `k` fused results."""
    w = _check(lists, weights, k)
    if rrf_k < 0 or not math.isfinite(rrf_k):
        raise ConfigError(f"the RRF constant k must be finite and >= 0, not {rrf_k}")
    clean = [_dedupe(r) for r in lists]
    contribution = [{cid: 1.0 / (rrf_k + rank) for rank, (cid, _) in enumerate(r, start=1)} for r in clean]
    return _combine(clean, contribution, [0.0] * len(clean), w, k)


def normalise(scores: Sequence[float], method: str = DEFAULT_NORMALISE) -> tuple[list[float], float]:
    """(normalised scores, floor for an absent item). A list whose scores are all equal maps to
    1.0 (min-max) or 0.0 (z-score): every item it returned is equally good."""
    if method not in NORMALISERS:
        raise ConfigError(f"unknown score normalisation {method!r}; known: {', '.join(NORMALISERS)}")
    values = [float(s) for s in scores]
    if not values:
        return [], 0.0
    if method == "minmax":
        low, high = min(values), max(values)
        span = high - low
        return ([1.0] * len(values) if span <= 0 else [(v - low) / span for v in values]), 0.0
    mean = sum(values) / len(values)
    std = math.sqrt(sum((v - mean) ** 2 for v in values) / len(values))
    z = [0.0] * len(values) if std <= 0 else [(v - mean) / std for v in values]
    return z, min(z)


def weighted(lists: Sequence[Ranked], k: int, weights: Sequence[float] | None = None,
             method: str = "minmax") -> list[Fused]:
    """Weighted sum of per-list normalised scores; the top `k` fused results."""
    w = _check(lists, weights, k)
    clean = [_dedupe(r) for r in lists]
    contribution, floors = [], []
    for ranked in clean:
        values, floor = normalise([s for _, s in ranked], method)
        contribution.append({cid: v for (cid, _), v in zip(ranked, values)})
        floors.append(floor)
    return _combine(clean, contribution, floors, w, k)


def hybrid_weighted(dense: Ranked, sparse: Ranked, k: int, alpha: float = 0.5,
                    method: str = DEFAULT_NORMALISE) -> list[Fused]:
    """alpha * normalised dense + (1 - alpha) * normalised sparse (alpha 1: dense only)."""
    if not 0.0 <= alpha <= 1.0:
        raise ConfigError(f"alpha must be between 0 and 1, not {alpha}")
    return weighted([dense, sparse], k, (alpha, 1.0 - alpha), method)


__all__ = ["DEFAULT_RRF_K", "NORMALISERS", "Fused", "hybrid_weighted", "normalise", "rrf", "weighted"]
