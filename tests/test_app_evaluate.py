"""AppTest for the Evaluate page, run directly (pages/evaluate.py) on a small hashing/numpy index
of demo documents, so the bundled demo questions about them can be scored."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import app_errors as errors
from streamlit.testing.v1 import AppTest

from rag_core.demo import demo_documents
from rag_core.embeddings import create_embedder
from rag_core.evaluate import demo_question_set
from rag_core.index import Index
from rag_core.types import ChunkingConfig

ROOT = Path(__file__).resolve().parents[1]
SMALL = "small"


@pytest.fixture
def indexes(app_root):
    root = app_root
    wanted = {s for q in demo_question_set().questions for s in q.relevant_sources}
    docs = [d for d in demo_documents() if d.source in wanted] + demo_documents()[:30]
    for name, size in ((SMALL, 400), ("small-chars", 200)):
        index = Index.create(root / name, create_embedder("hashing"), "numpy", ChunkingConfig(size=size, overlap=20))
        index.ingest(docs)
        index.save()
    return root


def frame(at: AppTest, column: str):
    """The first dataframe on the page with this column (AppTest does not expose dataframe keys)."""
    for df in at.dataframe:
        if column in df.value.columns:
            return df.value
    raise AssertionError(f"no dataframe with a {column!r} column")


def open_page() -> AppTest:
    at = AppTest.from_file(str(ROOT / "pages" / "evaluate.py"), default_timeout=60).run()
    assert not errors(at), errors(at)
    return at


def run_eval(at: AppTest) -> AppTest:
    at.button(key="eval_run_button").click().run()
    assert not errors(at), errors(at)
    return at


def test_runs_the_demo_set_and_shows_table_chart_best_and_drill_down(indexes):
    at = open_page()
    assert at.title[0].value.endswith("Evaluate")
    at.multiselect(key="w:eval_top_ks").set_value([1, 5]).run()
    at.multiselect(key="w:eval_rerankers").set_value(["none", "pool-rrf"]).run()
    at = run_eval(at)
    table = frame(at, "best")
    assert len(table) == 4
    assert list(table["best"]).count("★") == 1
    assert {"hit@k", "recall@k", "MRR", "nDCG@k", "latency ms (search + rerank)"} <= set(table.columns)
    assert table["MRR"].between(0, 1).all() and table["hit@k"].between(0, 1).all()
    assert "Best by MRR" in at.success[0].value
    assert at.get("plotly_chart"), "the metrics chart is drawn"
    questions = frame(at, "first relevant rank")
    assert set(questions["hit"]) <= {"MISS"}  # only misses by default
    at.toggle(key="w:eval_only_misses").set_value(False).run()
    assert not errors(at), errors(at)
    assert len(frame(at, "first relevant rank")) == len(demo_question_set())
    page_html = " ".join(m.value for m in at.markdown)
    assert "relevant" in page_html and "score" in page_html  # hits with relevance tags and labelled scores
    assert "cosine" in page_html or "rrf" in page_html


def test_compares_two_indexes(indexes):
    at = open_page()
    at.multiselect(key="w:eval_indexes").set_value([SMALL, "small-chars"]).run()
    at.multiselect(key="w:eval_top_ks").set_value([5]).run()
    at.multiselect(key="w:eval_rerankers").set_value(["none"]).run()
    at = run_eval(at)
    table = frame(at, "best")
    assert sorted(table["index"]) == [SMALL, "small-chars"]


def test_uploaded_question_set_and_threshold(indexes):
    at = open_page()
    at.radio(key="w:eval_origin").set_value("Upload a question set").run()
    assert not errors(at), errors(at)
    assert at.button(key="eval_run_button").disabled  # nothing uploaded yet
    kenya = "https://en.wikipedia.org/wiki/Kenya|https://en.wikipedia.org/wiki/Nairobi"
    csv = f"question,relevant_sources\nWhat is the capital of Kenya?,{kenya}\n".encode()
    at.file_uploader(key="eval_upload").set_value([("mine.csv", csv, "text/csv")]).run()
    assert not errors(at), errors(at)
    at.checkbox(key="w:eval_use_threshold").check().run()
    at.multiselect(key="w:eval_top_ks").set_value([3]).run()
    at.multiselect(key="w:eval_rerankers").set_value(["none"]).run()
    at = run_eval(at)
    table = frame(at, "best")
    assert list(table["threshold"]) == ["none", "0.30"]


def test_bad_upload_and_empty_grid_are_errors_not_tracebacks(indexes):
    at = open_page()
    at.radio(key="w:eval_origin").set_value("Upload a question set").run()
    at.file_uploader(key="eval_upload").set_value([("bad.jsonl", b'{"question": "x"}\n', "application/json")]).run()
    assert not at.exception
    assert any("relevant_sources" in e.value and "line 1" in e.value for e in at.error)
    at.radio(key="w:eval_origin").set_value("Demo questions (for the demo corpus)").run()
    at.multiselect(key="w:eval_rerankers").set_value([]).run()
    assert not at.exception
    assert any("settings grid is empty" in e.value for e in at.error)
    assert at.button(key="eval_run_button").disabled


def test_question_set_for_another_corpus_is_a_clear_error(indexes):
    at = open_page()
    at.radio(key="w:eval_origin").set_value("Upload a question set").run()
    other = json.dumps({"question": "What is in my notes?", "relevant_sources": ["notes/mine.md"]}).encode()
    at.file_uploader(key="eval_upload").set_value([("other.jsonl", other, "application/json")]).run()
    at.button(key="eval_run_button").click().run()
    assert not at.exception
    assert any("another corpus" in e.value for e in at.error)


def test_no_index_says_what_to_do(tmp_path, monkeypatch):
    monkeypatch.setenv("RAG_PLAYGROUND_INDEXES", str(tmp_path / "empty"))
    monkeypatch.chdir(ROOT)
    at = AppTest.from_file(str(ROOT / "pages" / "evaluate.py"), default_timeout=60).run()
    assert not errors(at)
    assert "no index yet" in at.info[0].value
