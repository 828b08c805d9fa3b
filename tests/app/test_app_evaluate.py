"""AppTest for the Evaluate page, run directly (pages/evaluate.py) on a small hashing/numpy index
of demo documents, so the bundled demo questions about them can be scored."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pandas as pd

import pytest
from helpers import app_errors as errors
from streamlit.testing.v1 import AppTest

from rag_core.ingest.demo import demo_documents
from rag_core.embeddings import create_embedder
from rag_core.evaluation.evaluate import demo_question_set
from rag_core.index.index import Index
from rag_core.core.types import ChunkingConfig
from rag_core.rerank import RERANKERS
from ui import evaluate as ui_evaluate

ROOT = Path(__file__).resolve().parents[2]
SMALL = "small"
#: the offered rerankers' names (`bm25`/`rrf`, or `pool-bm25`/`pool-rrf` where renamed)
BM25 = next(c for c in RERANKERS.choices() if c.endswith("bm25"))
RRF = next(c for c in RERANKERS.choices() if c.endswith("rrf"))


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
    at.radio(key="w:eval_origin").set_value(ui_evaluate.DEMO_SET).run()
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


def test_many_settings_stay_readable_every_row_reachable_best_pinned(indexes):
    at = open_page()
    at.multiselect(key="w:eval_indexes").set_value([SMALL, "small-chars"]).run()
    at.multiselect(key="w:eval_top_ks").set_value([1, 2, 3, 5, 10, 20]).run()
    at.multiselect(key="w:eval_rerankers").set_value(["none", BM25]).run()
    at = run_eval(at)
    table = frame(at, "best")
    assert len(table) == 24  # 2 indexes x 6 k x 2 rerankers: every row in the table
    assert table["best"].iloc[0] == "★" and list(table["best"]).count("★") == 1  # the best pinned on top
    assert table["MRR"].iloc[0] == table["MRR"].max()
    assert list(table["MRR"].iloc[1:]) == sorted(table["MRR"].iloc[1:], reverse=True)
    assert table["setting"].is_unique
    charts = at.get("plotly_chart")
    bars = json.loads(charts[0].proto.spec)["data"][0]
    assert bars["orientation"] == "h" and len(bars["y"]) == 24  # labels read horizontally
    assert bars["y"][-1].startswith("★")  # the best on top
    assert "heatmap" in {json.loads(c.proto.spec)["data"][0]["type"] for c in charts}


def test_drill_down_follows_the_chosen_index_and_setting_across_runs(indexes):
    """It remembered a position: after another run the same position was another index or setting."""
    at = open_page()
    at.multiselect(key="w:eval_indexes").set_value([SMALL, "small-chars"]).run()
    at.multiselect(key="w:eval_top_ks").set_value([5]).run()
    at.multiselect(key="w:eval_rerankers").set_value(["none"]).run()
    at = run_eval(at)
    table = frame(at, "best")
    key = next(ui_evaluate.result_key(r) for r in at.session_state["eval_run"].results if r.index == SMALL)
    at.selectbox(key="eval_drill_setting").set_value(key).run()
    at.multiselect(key="w:eval_indexes").set_value(["small-chars", SMALL]).run()  # same grid, other order
    at = run_eval(at)
    assert at.selectbox(key="eval_drill_setting").value == key
    assert any(f"index **{SMALL}**" in c.value for c in at.caption)
    misses = int(table.loc[table["index"] == SMALL, "misses"].iloc[0])
    assert len(frame(at, "first relevant rank")) == misses  # the chosen index's own misses
    # a run without the chosen setting shows the new best, never whatever sits at that position
    at.multiselect(key="w:eval_indexes").set_value(["small-chars"]).run()
    at = run_eval(at)
    assert at.selectbox(key="eval_drill_setting").value.startswith("small-chars\x1f")
    assert any("index **small-chars**" in c.value for c in at.caption)


def test_downloads_hold_every_row_best_first(indexes):
    at = open_page()
    at.multiselect(key="w:eval_top_ks").set_value([1, 5]).run()
    at.multiselect(key="w:eval_rerankers").set_value(["none", RRF]).run()
    at = run_eval(at)
    buttons = {b.proto.label: b.proto.url for b in at.get("download_button")}
    assert buttons["Download CSV"].endswith(".csv") and buttons["Download JSON"].endswith(".json")
    run = at.session_state["eval_run"]
    with ui_evaluate_session(at):
        csv_text, json_text = ui_evaluate.results_csv(run), ui_evaluate.results_json(run)
    shown = frame(at, "best")
    csv_frame = pd.read_csv(io.StringIO(csv_text))
    ci_at = list(shown.columns).index("95% CI")  # the CI text becomes two numeric columns
    expected = [*shown.columns[:ci_at], "95% CI low", "95% CI high", *shown.columns[ci_at + 1:]]
    assert list(csv_frame.columns) == expected and len(csv_frame) == 4
    assert list(csv_frame["setting"]) == list(shown["setting"]) and csv_frame["best"].iloc[0] == "★"
    others = csv_frame.iloc[1:]
    assert (others["95% CI low"] <= others["Δ MRR vs best"]).all() and (others["Δ MRR vs best"] <= others["95% CI high"]).all()
    assert csv_frame.iloc[0][["95% CI low", "95% CI high"]].isna().all() and csv_frame.iloc[0]["p"] == 1.0  # the best row
    payload = json.loads(json_text)
    assert payload["best_by"] == "MRR" and len(payload["results"]) == 4
    assert payload["results"][0]["MRR"] == max(r["MRR"] for r in payload["results"])
    assert len(payload["results"][0]["per_question"]) == len(demo_question_set())
    assert payload["results"][0]["vs_best"] == {"metric": "mrr", "is_best": True}
    for row in payload["results"][1:]:
        vs = row["vs_best"]
        assert vs["ci95"][0] <= vs["difference"] <= vs["ci95"][1] and 0 < vs["p_value"] <= 1
    ties = [r["vs_best"].get("tied_with_best", False) for r in payload["results"]]
    assert ties == list(csv_frame["best"] == "'=")  # "=" quoted against spreadsheet formulas
    assert payload["questions_to_resolve"]["power"] == 0.8 and payload["questions_to_resolve"]["difference"] == 0.02


class ui_evaluate_session:
    """Run ui.evaluate's pure formatters outside a script run: best_by() reads the session."""

    def __init__(self, at: AppTest) -> None:
        self.best_by = at.session_state["w:eval_best_by"]

    def __enter__(self):
        self._old = ui_evaluate.best_by
        ui_evaluate.best_by = lambda: ui_evaluate.BEST_BY[self.best_by]

    def __exit__(self, *exc):
        ui_evaluate.best_by = self._old


def test_query_embedding_column_says_cached_not_zero(indexes):
    at = open_page()
    at.multiselect(key="w:eval_top_ks").set_value([5]).run()
    at.multiselect(key="w:eval_rerankers").set_value(["none"]).run()
    at = run_eval(at)
    first = frame(at, "query embed ms")["query embed ms"].iloc[0]
    assert first != "cached" and float(first) > 0
    at = run_eval(at)  # same index, same questions: the query cache serves every vector
    assert list(frame(at, "query embed ms")["query embed ms"]) == ["cached"]


def test_bundled_sets_offered_by_name(indexes):
    at = open_page()
    assert at.radio(key="w:eval_origin").options == [ui_evaluate.DEMO_SET, ui_evaluate.HARD_SET,
                                                     ui_evaluate.UPLOAD_SET, ui_evaluate.GENERATED_SET]
    at.radio(key="w:eval_origin").set_value(ui_evaluate.HARD_SET).run()
    assert not errors(at), errors(at)
    assert any("questions in demo questions (hard)" in e.label for e in at.expander)


def test_results_say_when_the_choices_changed_since_the_run(indexes):
    at = open_page()
    at.multiselect(key="w:eval_top_ks").set_value([5]).run()
    at.multiselect(key="w:eval_rerankers").set_value(["none"]).run()
    at = run_eval(at)
    assert not any("from the last run" in i.value for i in at.info)
    at.multiselect(key="w:eval_top_ks").set_value([1, 5]).run()
    assert any("from the last run" in i.value and "press Run evaluation" in i.value for i in at.info)


def test_every_row_shows_its_difference_to_the_best_with_a_ci(indexes):
    """Issue 19 part 2: Δ to the best with a 95% CI and p, = for rows that cannot be told apart,
    whiskers on the chart, and how many questions would resolve 0.02."""
    import json as _json

    at = open_page()
    at.multiselect(key="w:eval_top_ks").set_value([1, 5]).run()
    at = run_eval(at)
    table = frame(at, "best")
    assert {"Δ MRR vs best", "95% CI", "p"} <= set(table.columns)
    best_row = table[table["best"] == "★"].iloc[0]
    assert best_row["95% CI"] == "best" and best_row["Δ MRR vs best"] == 0.0 and best_row["p"] == 1.0
    others = table[table["best"] != "★"]
    assert (others["Δ MRR vs best"] <= 0).all() and others["95% CI"].str.startswith("[").all()
    caption = next(c.value for c in at.caption if "cannot be told apart from the best" in c.value)
    assert f"= marks the {(others['best'] == '=').sum()} row(s)" in caption
    assert "questions would resolve a difference of 0.02 (80% power, two-sided α = 0.05)" in caption
    bars = next(_json.loads(c.proto.spec) for c in at.get("plotly_chart")
                if "per setting" in _json.loads(c.proto.spec)["layout"]["title"]["text"])
    assert bars["data"][0]["error_x"]["type"] == "data"
