"""How Evaluate and the experiment show whether a difference to the best is real (issue 19 part 2).

Display helpers only; the statistics live in rag_core.evaluation.significance and rag_core.evaluation.evaluate
(`against_best`, `questions_to_resolve`). A row "cannot be told apart" from the best when the
paired bootstrap 95% CI of its difference includes 0 or the randomisation p-value is >= 0.05
(`Difference.resolved` is False): both must agree before a difference is called real.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from rag_core.evaluation.evaluate import METRICS, EvalResult, questions_to_resolve
from rag_core.evaluation.significance import Difference


def tied(d: Difference | None) -> bool:
    return d is not None and not d.resolved


def mark(is_best: bool, d: Difference | None) -> str:
    """★ for the best row, = for a row that cannot be told apart from it, else nothing."""
    return "★" if is_best else ("=" if tied(d) else "")


def ci_text(d: Difference | None) -> str:
    return "" if d is None else f"[{d.low:+.3f}, {d.high:+.3f}]"


def split_ci(frame: pd.DataFrame, diffs: Sequence[Difference | None]) -> pd.DataFrame:
    """`frame` (one row per difference, in the same order) with its "95% CI" text column replaced,
    in place, by the numeric columns "95% CI low" and "95% CI high", for a download."""
    at = list(frame.columns).index("95% CI")
    out = frame.drop(columns=["95% CI"])
    out.insert(at, "95% CI high", [None if d is None else round(d.high, 4) for d in diffs])
    out.insert(at, "95% CI low", [None if d is None else round(d.low, 4) for d in diffs])
    return out


def caption(results: Sequence[EvalResult], diffs: Sequence[Difference | None], metric: str) -> str:
    """What the Δ, CI and = columns mean, and how many questions a 0.02 difference would need."""
    ties = sum(1 for d in diffs if tied(d))
    needed = questions_to_resolve(results, diffs, metric)
    return (f"Δ is each row's {METRICS[metric]} minus the best's on the same questions (each row at its own k), "
            "with a paired bootstrap 95% CI (10,000 resamples of the questions) and a paired randomisation "
            f"p-value. = marks the {ties} row(s) that cannot be told apart from the best (the CI includes 0 or "
            "p ≥ 0.05)."
            + (f" At this variance, about {needed:,} questions would resolve a difference of 0.02 "
               "(80% power, two-sided α = 0.05)." if needed else ""))


__all__ = ["caption", "ci_text", "mark", "split_ci", "tied"]
