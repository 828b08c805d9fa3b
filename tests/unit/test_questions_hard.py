"""The hard demo question set: big enough, paraphrased, with questions the corpus cannot answer,
and an evaluator that skips those for retrieval metrics instead of counting them as misses."""

from __future__ import annotations

import json

import pytest
from helpers import hashing_index

from rag_core.ingest.demo import DEMO_FILE
from rag_core.core.errors import ConfigError
from rag_core.evaluation.evaluate import demo_hard_question_set, evaluate, parse_question_set
from rag_core.core.text import words
from rag_core.core.types import RetrievalSettings


def _titles() -> dict[str, str]:
    with open(DEMO_FILE, encoding="utf-8") as handle:
        return {row["url"]: row["title"] for row in map(json.loads, handle)}


def test_hard_set_size_and_unanswerable_share():
    questions = demo_hard_question_set().questions
    assert len(questions) >= 110
    assert sum(not q.answerable for q in questions) >= 15
    assert sum(q.answerable for q in questions) >= 95
    assert len({q.question for q in questions}) == len(questions)


def test_hard_set_names_demo_sources_and_never_uses_their_title_words():
    titles = _titles()
    for q in demo_hard_question_set().questions:
        assert set(q.relevant_sources) <= set(titles), q.question
        for source in q.relevant_sources:
            title = titles[source].replace("(", " ").replace(")", " ")
            assert not set(words(title)) & set(words(q.question)), (q.question, titles[source])


def test_an_empty_source_list_needs_answerable_false():
    with pytest.raises(ConfigError, match='"answerable": false'):
        parse_question_set('{"question": "a", "relevant_sources": []}\n', "q.jsonl")
    qs = parse_question_set('{"question": "a", "relevant_sources": [], "answerable": false}\n', "q.jsonl")
    assert qs.questions[0].relevant_sources == () and not qs.questions[0].answerable


def test_unanswerable_questions_are_run_but_not_scored(tmp_path):
    index = hashing_index(tmp_path / "idx")
    body = "\n".join(json.dumps(row) for row in [
        {"question": "capital of Kenya Nairobi", "relevant_sources": ["kenya.md"]},
        {"question": "Who painted The Starry Night?", "relevant_sources": [], "answerable": False},
    ])
    result = evaluate(index, parse_question_set(body, "q.jsonl"), RetrievalSettings(top_k=1))
    assert len(result.questions) == 2 and result.no_answer == 1
    assert result.hit_rate == 1.0 and result.mrr == 1.0  # the unanswerable one is not a miss
    assert result.misses == () and result.row()["no_answer"] == 1
