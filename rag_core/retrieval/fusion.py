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

from ..errors import ConfigError

Ranked = Sequence[tuple[str, float]]
NORMALISERS = ("minmax", "zscore")
DEFAULT_RRF_K = 60


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
    """Sum weighted contributions (floor where absent) and order with the documented tie-break."""
    ranks: dict[str, list[int | None]] = {}
    raw: dict[str, list[float | None]] = {}
    first_seen: dict[str, int] = {}
    for li, ranked in enumerate(lists):
        for rank, (chunk_id, score) in enumerate(ranked, start=1):
            if chunk_id not in ranks:
                ranks[chunk_id] = [None] * len(lists)
                raw[chunk_id] = [None] * len(lists)
                first_seen[chunk_id] = len(first_seen)
            ranks[chunk_id][li] = rank
            raw[chunk_id][li] = score
    fused = {cid: sum(w * contribution[li].get(cid, floors[li]) for li, w in enumerate(weights)) for cid in ranks}

    def best_rank(cid: str) -> tuple[int, int]:
        return min((r, li) for li, r in enumerate(ranks[cid]) if r is not None)

    order = sorted(ranks, key=lambda cid: (-fused[cid], *best_rank(cid), first_seen[cid]))
    return [Fused(cid, fused[cid], tuple(ranks[cid]), tuple(raw[cid])) for cid in order[:k]]


def rrf(lists: Sequence[Ranked], k: int, rrf_k: float = DEFAULT_RRF_K,
        weights: Sequence[float] | None = None) -> list[Fused]:
    """Reciprocal rank fusion of ranked lists; the top `k` fused results."""
    w = _check(lists, weights, k)
    if rrf_k < 0 or not math.isfinite(rrf_k):
        raise ConfigError(f"the RRF constant k must be finite and >= 0, not {rrf_k}")
    clean = [_dedupe(r) for r in lists]
    contribution = [{cid: 1.0 / (rrf_k + rank) for rank, (cid, _) in enumerate(r, start=1)} for r in clean]
    return _combine(clean, contribution, [0.0] * len(clean), w, k)


def normalise(scores: Sequence[float], method: str = "minmax") -> tuple[list[float], float]:
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
                    method: str = "minmax") -> list[Fused]:
    """alpha * normalised dense + (1 - alpha) * normalised sparse (alpha 1: dense only)."""
    if not 0.0 <= alpha <= 1.0:
        raise ConfigError(f"alpha must be between 0 and 1, not {alpha}")
    return weighted([dense, sparse], k, (alpha, 1.0 - alpha), method)


__all__ = ["DEFAULT_RRF_K", "NORMALISERS", "Fused", "hybrid_weighted", "normalise", "rrf", "weighted"]
