"""The answerer threshold measurement: the sweep's arithmetic, the question reader, the CLI."""

import json

import pytest

from helpers import hashing_index
from rag_core.core.errors import ConfigError
from rag_core.evaluation.answerer import (OFF_CORPUS_QUESTIONS, AnswererQuestion, Observation, choose_threshold,
                                        load_answerer_questions, main, report, threshold_rows)


def obs(answerable, score, names=False):
    q = AnswererQuestion("q?", ("a.md",) if answerable else (), answerable, "set")
    return Observation(q, (), score, names)


def test_threshold_rows_count_idk_precision_recall_and_answered():
    observations = [obs(True, 0.8), obs(True, 0.4), obs(False, 0.3), obs(False, 0.6), obs(False, 0.9, names=True)]
    rows = {r.threshold: r for r in threshold_rows(observations, (0.35, 0.5, 0.7))}
    # 0.35: idk = {0.3, names} -> both unanswerable; recall 2/3; both answerable answered
    assert (rows[0.35].idk_precision, rows[0.35].idk_recall, rows[0.35].answered) == (1.0, 2 / 3, 1.0)
    # 0.5: idk = {0.4, 0.3, names}: precision 2/3, recall 2/3, answered 1/2
    assert (rows[0.5].idk_precision, rows[0.5].idk_recall, rows[0.5].answered) == (2 / 3, 2 / 3, 0.5)
    assert rows[0.7].idk_recall == 1.0
    assert choose_threshold(list(rows.values())).threshold == 0.35


def test_question_reader_keeps_answerable_and_rejects_bad_rows(tmp_path):
    assert len(load_answerer_questions(OFF_CORPUS_QUESTIONS)) >= 20
    assert not any(q.answerable for q in load_answerer_questions(OFF_CORPUS_QUESTIONS))
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"question": "Where?", "relevant_sources": []}\n')  # answerable, but no source
    with pytest.raises(ConfigError, match="answerable"):
        load_answerer_questions(bad)
    bad.write_text("not json\n")
    with pytest.raises(ConfigError, match="line 1"):
        load_answerer_questions(bad)


def test_report_on_a_small_index_and_the_cli(tmp_path, capsys):
    index = hashing_index(tmp_path / "idx")
    questions = (AnswererQuestion("What is the capital of Kenya?", ("kenya.md",), True, "mine"),
                 AnswererQuestion("Who is the CEO of Zentrova Dynamics?", (), False, "mine"))
    out = report(index, questions, None, top_k=2)
    assert out["chosen"]["idk_recall"] == 1.0 and out["chosen"]["answered"] == 1.0
    assert out["at_chosen"]["first_citation_relevant"] == 1.0
    qfile = tmp_path / "q.jsonl"
    qfile.write_text("\n".join(json.dumps({"question": q.question, "relevant_sources": list(q.relevant_sources),
                                           "answerable": q.answerable}) for q in questions))
    assert main(["--index", str(tmp_path / "idx"), "--questions", str(qfile), "--embedder", "hashing"]) == 0
    assert "<- chosen" in capsys.readouterr().out
    assert main(["--index", str(tmp_path / "idx"), "--questions", str(tmp_path / "missing.jsonl")]) == 2
    assert capsys.readouterr().err.startswith("error: no question set")
