"""Paired bootstrap CIs, randomisation p-values and the sign test, checked against scipy.stats on
fixed data and by hypothesis for their invariants (issue 19, part 2)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from rag_core.core.errors import ConfigError
from rag_core.evaluation.significance import (Difference, bootstrap_ci, compare, questions_needed, randomization_p,
                                   sign_test)

RNG = np.random.default_rng(7)
A = RNG.choice([0, 0.25, 0.5, 1.0], size=60, p=[0.2, 0.1, 0.2, 0.5])
B = np.clip(A - RNG.choice([0, 0, 0, 0.5, 0.25], size=60), 0, 1)


def test_the_docstring_example():
    assert randomization_p([1, 1, 0.5, 1], [1, 0.5, 0.5, 0.5]) == 0.5
    assert bootstrap_ci([1, 1, 0.5, 1], [1, 0.5, 0.5, 0.5]) == (0.0, 0.5)


def test_bootstrap_ci_agrees_with_scipy():
    ours = bootstrap_ci(A, B, resamples=20_000)
    theirs = stats.bootstrap((A, B), lambda x, y: np.mean(x - y), paired=True, vectorized=False, n_resamples=20_000,
                             method="percentile", random_state=np.random.default_rng(1)).confidence_interval
    assert ours == pytest.approx((theirs.low, theirs.high), abs=0.015)


def test_randomization_p_agrees_with_scipy():
    ours = randomization_p(A, B, resamples=20_000)
    theirs = stats.permutation_test((A, B), lambda x, y: np.mean(x - y), permutation_type="samples",
                                    n_resamples=20_000, random_state=np.random.default_rng(1)).pvalue
    assert ours == pytest.approx(theirs, abs=0.01)
    small_a, small_b = A[:10], B[:10]  # exact below 17 questions
    exact = stats.permutation_test((small_a, small_b), lambda x, y: np.mean(x - y), permutation_type="samples",
                                   n_resamples=np.inf).pvalue
    assert randomization_p(small_a, small_b) == pytest.approx(exact, abs=1e-9)


def test_sign_test_agrees_with_scipy():
    assert sign_test(7, 2) == pytest.approx(stats.binomtest(7, 9).pvalue)
    assert sign_test(7, 2) == pytest.approx(0.1797, abs=1e-4)
    assert sign_test(0, 0) == 1.0 and sign_test(20, 0) == pytest.approx(stats.binomtest(20, 20).pvalue)


VALUES = st.lists(st.sampled_from([0.0, 0.2, 1 / 3, 0.5, 1.0]), min_size=1, max_size=40)


@settings(max_examples=60, deadline=None)
@given(VALUES)
def test_identical_runs_give_p_one_and_a_zero_ci(values):
    assert randomization_p(values, values) == 1.0
    assert bootstrap_ci(values, values, resamples=500) == (0.0, 0.0)
    assert not compare(values, values, resamples=500).resolved


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 40).flatmap(lambda n: st.tuples(
    st.lists(st.sampled_from([0.0, 0.25, 0.5, 1.0]), min_size=n, max_size=n),
    st.lists(st.sampled_from([0.0, 0.25, 0.5, 1.0]), min_size=n, max_size=n))))
def test_swapping_a_and_b_mirrors_the_ci_and_keeps_p(pair):
    a, b = pair
    low, high = bootstrap_ci(a, b, resamples=500)
    mirrored = bootstrap_ci(b, a, resamples=500)
    assert mirrored == pytest.approx((-high, -low), abs=1e-12)
    assert randomization_p(a, b, resamples=500) == pytest.approx(randomization_p(b, a, resamples=500))
    assert 0 < randomization_p(a, b, resamples=500) <= 1


def test_questions_needed_and_bad_input():
    assert questions_needed(0.2) == 785  # ((1.96 + 0.8416) * 0.2 / 0.02) ** 2 = 784.9
    assert questions_needed(0.0) is None
    with pytest.raises(ConfigError, match="same questions"):
        compare([1, 0], [1])
    with pytest.raises(ConfigError, match="finite"):
        compare([float("nan")], [1])
    assert "p = " in Difference(0.01, -0.01, 0.03, 0.4, 10).text()


def test_eval_json_has_a_ci_and_p_value_against_the_best_and_the_text_marks_ties(tmp_path):
    import json

    from helpers import hashing_index, run_cli

    hashing_index(tmp_path / "idx")
    questions = tmp_path / "q.jsonl"
    questions.write_text("\n".join(json.dumps(q) for q in [
        {"question": "What is the capital of Kenya?", "relevant_sources": ["kenya.md"]},
        {"question": "Which volcano is the highest peak of Japan?", "relevant_sources": ["japan.md"]},
        {"question": "What do chloroplasts absorb?", "relevant_sources": ["photosynthesis.md"]},
        {"question": "Who won the Nobel Prize for the photoelectric effect?", "relevant_sources": ["einstein.md"]}]))
    args = ("eval", "--index", str(tmp_path / "idx"), "--questions", str(questions), "--top-k", "1,3",
            "--retriever", "dense,bm25", "--quiet")
    out = json.loads(run_cli(*args, "--json").stdout)
    marks = [r["vs_best"] for r in out["results"]]
    assert sum(m["is_best"] for m in marks) == 1
    for m in marks:
        if not m["is_best"]:
            low, high = m["ci95"]
            assert low <= m["difference"] <= high and 0 < m["p_value"] <= 1 and m["questions"] == 4
            assert m["tied_with_best"] is True  # four questions cannot tell settings apart
    for r in out["results"]:  # MRR, hit@k and nDCG@k, each against the one best row (by MRR)
        by_metric = r["vs_best_by_metric"]
        assert set(by_metric) == {"mrr", "hit_rate", "ndcg"} and by_metric["mrr"] == r["vs_best"]
        assert {m["is_best"] for m in by_metric.values()} == {r["vs_best"]["is_best"]}
    assert out["questions_to_resolve"] == {"difference": 0.02, "alpha": 0.05, "power": 0.8,
                                           "questions": out["questions_to_resolve_0.02"]}
    text = run_cli(*args).stdout
    assert "ΔMRR vs best [95% CI], p" in text and "cannot be told apart from the best" in text
    assert ", p = " in text or "p < 0.001" in text
    assert "\n= " in text or "\n  =" in text or any(line.startswith("= ") for line in text.splitlines())


def test_the_blind_tally_says_whether_votes_show_a_difference():
    from rag_core.evaluation.compare import tally, verdict

    votes = [("B", "A", "win")] * 7 + [("A", "B", "win")] * 2 + [("A", "B", "tie")]
    assert verdict(tally(votes)) == "B preferred in 7 of 9 decided votes (1 tie), sign test p = 0.18: not yet a difference"
    assert verdict(tally([("B", "A", "win")] * 9)).endswith("p = 0.00: a difference")
    assert verdict({}) == "no votes yet"


def _result(name: str, values, questions=None):
    from rag_core.evaluation.evaluate import EvalResult, QuestionResult
    from rag_core.core.types import RetrievalSettings

    qs = tuple(QuestionResult(question=q, relevant_sources=("s",), hits=(), hit=float(v > 0), recall=float(v > 0),
                              reciprocal_rank=v, ndcg=v, latency_ms=0.0, embed_ms=0.0)
               for q, v in zip(questions or [f"q{i}" for i in range(len(values))], values))
    n = len(values)
    return EvalResult(index=name, settings=RetrievalSettings(), question_set="t", questions=qs,
                      hit_rate=sum(q.hit for q in qs) / n, recall=sum(q.recall for q in qs) / n,
                      mrr=sum(values) / n, ndcg=sum(values) / n, latency_ms=0.0, embed_ms=0.0)


def test_a_row_scored_on_other_questions_is_not_called_the_best():
    from rag_core.evaluation.evaluate import vs_best_json

    results = [_result("a", [1, 1, 0.5]), _result("b", [1, 0.5, 0.5]), _result("c", [0, 0, 0], ["x", "y", "z"])]
    marks = vs_best_json(results)
    assert marks[0] == {"metric": "mrr", "is_best": True}
    assert marks[1]["is_best"] is False and marks[1]["tied_with_best"] is True
    assert marks[2] == {"metric": "mrr", "is_best": False, "compared": False}
