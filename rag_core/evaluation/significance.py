"""Whether a difference between two retrieval settings is real.

Two settings evaluated on the same questions give paired per-question values (a reciprocal rank,
a hit, an nDCG). Their mean difference is reported with:

- a paired bootstrap 95% confidence interval: resample the questions with replacement, take the
  mean difference each time, keep the 2.5th and 97.5th percentiles;
- a paired randomisation (sign-flip, Fisher) test: under "no difference" each question's
  difference is as likely to have the other sign; the p-value is the share of random sign flips
  whose mean is at least as far from 0 as the observed one (two-sided, with the observed
  arrangement counted, so p is never 0).

Worked example: A's reciprocal ranks (1, 1, 0.5, 1) against B's (1, 0.5, 0.5, 0.5) differ by
(0, 0.5, 0, 0.5), mean 0.25. Of the 2**4 = 16 sign patterns, those whose |mean| >= 0.25 are the
8 that give both 0.5s the same sign, so the exact p is 8/16 = 0.5; the bootstrap CI is
[0, 0.5]: with four questions nothing can be told apart.

Both are seeded and vectorised; `RESAMPLES` draws bound the work. `sign_test` does the same
for blind votes, `questions_needed` says how many questions would resolve a given difference.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist
from typing import Sequence

import numpy as np

from rag_core.core.errors import ConfigError

RESAMPLES = 10_000
#: below this p-value (and with a CI that excludes 0) a difference is "told apart"
ALPHA = 0.05
#: at most this many paired values per comparison (a question set is far smaller)
MAX_PAIRS = 1_000_000


@dataclass(frozen=True)
class Difference:
    """`mean` of a - b per question, its 95% bootstrap CI (`low`, `high`), the randomisation
    p-value and the number of questions."""

    mean: float
    low: float
    high: float
    p_value: float
    n: int

    @property
    def resolved(self) -> bool:
        """True when the two can be told apart: the CI excludes 0 and p < ALPHA."""
        return self.p_value < ALPHA and (self.low > 0 or self.high < 0)

    def text(self, digits: int = 3) -> str:
        """e.g. "−0.021 [−0.045, +0.003], p = 0.09"."""
        f = f"{{:+.{digits}f}}"
        p = "p < 0.001" if self.p_value < 0.001 else f"p = {self.p_value:.3f}"
        return f"{f.format(self.mean)} [{f.format(self.low)}, {f.format(self.high)}], {p}"


def _pairs(a: Sequence[float], b: Sequence[float]) -> np.ndarray:
    x, y = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if x.shape != y.shape or x.ndim != 1:
        raise ConfigError(f"paired values need the same questions: got {x.shape} and {y.shape}")
    if not len(x):
        raise ConfigError("no questions to compare")
    if len(x) > MAX_PAIRS:
        raise ConfigError(f"{len(x):,} paired values; at most {MAX_PAIRS:,}")
    if not (np.isfinite(x).all() and np.isfinite(y).all()):
        raise ConfigError("paired values must be finite numbers")
    return x - y


def bootstrap_ci(a: Sequence[float], b: Sequence[float], *, resamples: int = RESAMPLES, seed: int = 0,
                 confidence: float = 0.95) -> tuple[float, float]:
    """Percentile bootstrap CI of mean(a - b), resampling questions (pairs stay together).
    Identical runs give (0, 0); swapping a and b gives (-high, -low)."""
    d = _pairs(a, b)
    rng = np.random.default_rng(seed)
    means = np.empty(resamples)
    for start in range(0, resamples, 1000):  # 1,000 resamples at a time: memory stays small
        stop = min(start + 1000, resamples)
        rows = rng.integers(0, len(d), size=(stop - start, len(d)))
        means[start:stop] = d[rows].mean(axis=1)
    tail = (1 - confidence) / 2 * 100
    low, high = np.percentile(means, [tail, 100 - tail])
    return float(low), float(high)


def randomization_p(a: Sequence[float], b: Sequence[float], *, resamples: int = RESAMPLES, seed: int = 0) -> float:
    """Two-sided paired sign-flip test of mean(a - b) = 0. Exact over all 2**n sign patterns when
    n <= 16, else Monte Carlo with the observed arrangement counted ((hits + 1) / (draws + 1))."""
    d = _pairs(a, b)
    observed = abs(d.mean())
    if not np.any(d):
        return 1.0
    tolerance = 1e-12 * max(1.0, observed)
    if len(d) <= 16:
        signs = ((np.arange(2 ** len(d))[:, None] >> np.arange(len(d))) & 1) * 2 - 1
        return float(np.mean(np.abs((signs * d).mean(axis=1)) >= observed - tolerance))
    rng = np.random.default_rng(seed)
    hits = 0
    for start in range(0, resamples, 1000):
        signs = rng.choice((-1.0, 1.0), size=(min(1000, resamples - start), len(d)))
        hits += int(np.sum(np.abs((signs * d).mean(axis=1)) >= observed - tolerance))
    return (hits + 1) / (resamples + 1)


def compare(a: Sequence[float], b: Sequence[float], *, seed: int = 0, resamples: int = RESAMPLES) -> Difference:
    d = _pairs(a, b)
    low, high = bootstrap_ci(a, b, seed=seed, resamples=resamples)
    return Difference(float(d.mean()), low, high, randomization_p(a, b, seed=seed, resamples=resamples), len(d))


def sign_test(wins: int, losses: int) -> float:
    """Two-sided exact binomial test of wins against losses (ties left out), p under "either is
    as likely". Worked example: 7 wins, 2 losses -> 2 * P(X >= 7 | n=9, 1/2) = 2 * 46/512 = 0.18."""
    n = wins + losses
    if wins < 0 or losses < 0:
        raise ConfigError("votes cannot be negative")
    if n == 0:
        return 1.0
    k = max(wins, losses)
    tail = sum(math.comb(n, i) for i in range(k, n + 1)) / 2 ** n
    return min(1.0, 2 * tail)


def questions_needed(differences_sd: float, effect: float = 0.02, power: float = 0.8) -> int | None:
    """Questions a paired comparison needs to resolve a mean difference of `effect` at ALPHA
    (two-sided) with `power`, given the SD of the per-question differences (normal
    approximation): n = ((z_{1-α/2} + z_{power}) * sd / effect) ** 2. None when sd is 0.
    Worked example: sd 0.2, effect 0.02, 80% power: ((1.960 + 0.842) * 0.2 / 0.02) ** 2 = 784.9 -> 785."""
    if differences_sd <= 0 or effect <= 0:
        return None
    z_alpha, z_power = _z(1 - ALPHA / 2), _z(power)
    return math.ceil(((z_alpha + z_power) * differences_sd / effect) ** 2)


def _z(p: float) -> float:
    return NormalDist().inv_cdf(p)


__all__ = ["ALPHA", "RESAMPLES", "Difference", "bootstrap_ci", "compare", "questions_needed", "randomization_p",
           "sign_test"]
