"""`bench --answerer` reproduces the "I don't know" threshold measurement in one command: chosen on
one seeded half of the demo's questions, precision and recall with CIs on the other (issue 19, part 4)."""

from __future__ import annotations

import json

import pytest

from rag_core.bench.answerer import DEMO_SETS, run
from rag_core.evaluation.answerer import load_answerer_questions
from rag_core.core.text import terms


def test_the_sets_hold_at_least_60_new_unanswerable_questions_none_seen_before():
    new = load_answerer_questions(DEMO_SETS[-1])
    older = {q.question.lower() for path in DEMO_SETS[:-1] for q in load_answerer_questions(path)}
    assert len(new) >= 60 and not any(q.answerable for q in new)
    assert not {q.question.lower() for q in new} & older and len({q.question for q in new}) == len(new)
    for q in new:  # nor a light rewording of one ("Who wrote the novel X?" after "Who wrote X?")
        mine = set(terms(q.question))
        closest = max(len(mine & set(terms(o))) / len(mine | set(terms(o))) for o in older)
        assert closest < 0.5, q.question


@pytest.mark.slow
def test_bench_answerer_chooses_on_one_half_and_reports_cis_on_the_other(capsys):
    from rag_core.cli import main

    assert main(["bench", "--answerer", "--json", "--quiet"]) == 0
    out = json.loads(capsys.readouterr().out)
    seed0 = out["held_out_seed_0"]
    assert out["questions"] == seed0["tuned_on"] + seed0["tested_on"] and out["unanswerable"] >= 100
    for key in ("idk_precision", "idk_recall"):
        low, high = seed0[f"{key}_ci95"]
        assert 0 <= low <= seed0[key] <= high <= 1
    assert seed0["threshold"] == out["answerer_threshold"]  # the shipped threshold is the one chosen
    assert sum(out["over_20_splits"]["threshold_chosen"].values()) == 20
