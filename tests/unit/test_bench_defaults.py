"""The rule that re-chooses the default retrieval setting (issue 19 part 2, issue 18): the simplest
candidate demo-hard's best cannot be told apart from (the "held-out" set was looked at before)."""

from __future__ import annotations

from dataclasses import replace

from rag_core.bench import defaults as bd
from rag_core.evaluation.evaluate import EvalResult, QuestionResult
from rag_core.evaluation.significance import Difference
from rag_core.core.types import RetrievalSettings

BASE = RetrievalSettings(top_k=bd.TOP_K)
DENSE, RRF = replace(BASE, mode="dense"), replace(BASE, fusion="rrf")
Z5, Z6, MMR = BASE, replace(BASE, alpha=0.6), replace(BASE, mmr_lambda=0.7)
TIED, WORSE = Difference(-0.01, -0.03, 0.01, 0.4, 100), Difference(-0.05, -0.08, -0.02, 0.001, 100)


def test_simplicity_counts_the_moving_parts():
    assert [bd.simplicity(s) for s in (DENSE, replace(BASE, mode="bm25"), RRF, Z5, MMR)] == [0, 0, 1, 2, 3]
    assert {bd.simplicity(s) for s in bd.CANDIDATES} == {0, 1, 2, 3}
    assert all(s.top_k == bd.TOP_K for s in bd.CANDIDATES) and len(set(bd.CANDIDATES)) == len(bd.CANDIDATES)


def test_the_default_stays_while_it_is_tied_with_demo_hards_best():
    rows = [bd.Row(DENSE, (0.80, 0.89), (WORSE, TIED)),  # resolved as worse on demo-hard: out
            bd.Row(RRF, (0.86, 0.89), (TIED, TIED)),
            bd.Row(Z5, (0.88, 0.92), (TIED, TIED)), bd.Row(Z6, (0.89, 0.93), (None, None))]
    assert bd.choose(rows, incumbent=Z5).settings == Z5  # tied is not evidence for a change
    assert bd.choose(rows, incumbent=replace(Z5, top_k=5)).settings == Z5  # top-k is not part of the match
    assert not rows[0].tied_everywhere and rows[2].tied_everywhere


def test_a_default_resolved_as_worse_gives_way_to_the_simplest_tied():
    rows = [bd.Row(DENSE, (0.80, 0.89), (WORSE, TIED)), bd.Row(RRF, (0.86, 0.89), (TIED, TIED)),
            bd.Row(Z5, (0.84, 0.92), (WORSE, TIED)), bd.Row(Z6, (0.89, 0.93), (None, None)),
            bd.Row(MMR, (0.885, 0.93), (TIED, TIED))]
    assert bd.choose(rows, incumbent=Z5).settings == RRF
    rows[1] = bd.Row(RRF, (0.86, 0.89), (WORSE, TIED))
    assert bd.choose(rows, incumbent=Z5).settings == Z6  # equally simple ties: the higher MRR


def test_the_set_seen_before_does_not_decide():
    rows = [bd.Row(DENSE, (0.88, 0.70), (TIED, WORSE)), bd.Row(Z5, (0.89, 0.92), (None, None))]
    assert bd.choose(rows, incumbent=DENSE).settings == DENSE  # worse on the seen set, tied on demo-hard


def _result(settings: RetrievalSettings, values: list[float]) -> EvalResult:
    qs = tuple(QuestionResult(question=f"q{i}", relevant_sources=("s",), hits=(), hit=float(v > 0), recall=float(v > 0),
                              reciprocal_rank=v, ndcg=v, latency_ms=0.0, embed_ms=0.0) for i, v in enumerate(values))
    mean = sum(values) / len(values)
    return EvalResult(index="i", question_set="t", settings=settings, questions=qs, hit_rate=mean, recall=mean,
                      mrr=mean, ndcg=mean, latency_ms=0.0, embed_ms=0.0)


def test_rows_from_sweeps_compare_each_set_with_its_own_best_and_print_a_table():
    many = 40
    demo = [_result(DENSE, [0.0] * many), _result(RRF, [1.0] * (many - 1) + [0.5]), _result(Z5, [1.0] * many)]
    held = [_result(DENSE, [1.0] * many), _result(RRF, [1.0] * many), _result(Z5, [1.0] * many)]
    rows = bd.rows_from([demo, held])
    assert [r.mrr[0] for r in rows] == [0.0, (many - 0.5) / many, 1.0]
    assert rows[0].vs_best[0].resolved and rows[0].vs_best[1] is None  # held-out: dense is its best (first of equals)
    assert not rows[1].vs_best[0].resolved  # one question in 40 cannot tell RRF from the best
    assert bd.choose(rows).settings == Z5  # the default is the best here: it stays
    chosen = bd.choose(rows, incumbent=DENSE)  # resolved as worse: the simplest tied one
    assert chosen.settings == RRF
    table = bd.markdown(rows, ["demo-hard", "held-out"], chosen)
    assert "**hybrid rrf k=10** (chosen)" in table and "| dense | 0 | 0.000 | -1.000 [-1.000, -1.000], p < 0.001 |" in table
    assert table.count("\n") == 1 + len(rows)


def test_main_without_two_indexes_says_how_to_run_it(capsys):
    assert bd.main([]) == 2
    assert "rag_core.bench.defaults" in capsys.readouterr().err
