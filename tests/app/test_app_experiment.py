"""AppTest for the Index page's replace-on-rebuild and chunking experiment, through app.py's
navigation, on four short fact documents staged as if from the Data page, with the hashing
embedder and the numpy store."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import app_errors as errors
from helpers import fact_documents, hashing_index
from streamlit.testing.v1 import AppTest

from rag_core.index import index as rindex
from rag_core.evaluation.evaluate import best
from rag_core.index.index import Index
from rag_core.core.types import ChunkingConfig
from rag_core.rerank import RERANKERS
from ui import evaluate as ui_evaluate
from ui import state as ui_state

ROOT = Path(__file__).resolve().parents[2]
#: the offered BM25 reranker's name (`bm25`, or `pool-bm25` where renamed)
BM25 = next(c for c in RERANKERS.choices() if c.endswith("bm25"))
QUESTIONS = ("question,relevant_sources\n"
             "What is the capital of Kenya?,kenya.md\n"
             "Which is the capital of Japan with Mount Fuji?,japan.md\n"
             "How do green plants use sunlight and chlorophyll?,photosynthesis.md\n"
             "Who developed the theory of relativity?,einstein.md\n").encode()


@pytest.fixture
def index_page(app_root):
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.session_state["staged_documents"] = fact_documents()
    at.switch_page("pages/index.py").run()
    assert not errors(at), errors(at)
    at.selectbox(key="w:embedder").set_value("hashing")
    at.selectbox(key="w:store").set_value("numpy").run()
    assert not errors(at), errors(at)
    return at


def test_rebuilding_with_other_chunking_replaces_after_confirmation(index_page, app_root):
    at = index_page
    hashing_index(app_root / "facts")  # size 300 / overlap 30
    old = rindex.live_generation(app_root / "facts").name
    at.text_input(key="w:index_name").set_value("facts")
    at.number_input(key="w:size").set_value(120)
    at.number_input(key="w:overlap").set_value(10).run()
    assert not errors(at), errors(at)
    assert any("exists with other settings" in w.value and "recursive-300-30 → recursive-120-10" in w.value
               for w in at.warning)
    assert at.button(key="build").disabled  # not before the confirmation
    box = next(c for c in at.checkbox if c.label == "Replace facts")
    box.check().run()
    at.button(key="build").click().run()
    assert not errors(at), errors(at)
    assert any(s.value.startswith("Replaced facts") for s in at.success)
    index = Index.open(app_root / "facts")
    assert index.manifest.chunking.size == 120 and rindex.live_generation(app_root / "facts").name != old
    assert (app_root / "facts" / old).is_dir()  # the previous generation is kept one save longer for readers


def test_same_settings_add_to_the_index_without_asking(index_page, app_root):
    at = index_page
    at.text_input(key="w:index_name").set_value("facts").run()
    at.button(key="build").click().run()
    at.button(key="build").click().run()
    assert not errors(at), errors(at)
    assert not any("exists with other settings" in w.value for w in at.warning)
    assert any("0 chunks embedded" in s.value and "4 unchanged" in s.value for s in at.success)


def test_experiment_builds_variants_charts_them_and_opens_the_best_in_chat(index_page, app_root):
    at = index_page
    at.text_input(key="w:exp_base").set_value("facts")
    at.multiselect(key="w:exp_chunkings").set_value(["recursive-200-20", "recursive-500-50"])
    at.multiselect(key="w:exp_rerankers").set_value(["none", BM25]).run()
    at.radio(key="w:exp_origin").set_value(ui_evaluate.UPLOAD_SET).run()
    at.file_uploader(key="exp_upload").set_value([("facts.csv", QUESTIONS, "text/csv")]).run()
    assert not errors(at), errors(at)
    assert any("2 chunking(s) × 2 retriever(s) = 4 cells" in c.value for c in at.caption)
    at.button(key="exp_run").click().run()
    assert not errors(at), errors(at)
    for name in ("facts--recursive-200-20", "facts--recursive-500-50"):
        assert (app_root / name / "CURRENT").exists()
    result = at.session_state["experiment"]
    assert len(result.results) == 4
    charts = {c.proto.spec and json.loads(c.proto.spec)["layout"]["title"]["text"] for c in at.get("plotly_chart")}
    assert any("against chunk size" in t for t in charts) and any("by chunking and retriever" in t for t in charts)
    line = next(json.loads(c.proto.spec) for c in at.get("plotly_chart")
                if "against chunk size" in json.loads(c.proto.spec)["layout"]["title"]["text"])
    assert {t["name"] for t in line["data"]} >= {"reranker none", f"reranker {BM25}"}  # one line per retriever
    table = next(df.value for df in at.dataframe if "retriever" in df.value.columns)
    assert len(table) == 4 and table["best"].iloc[0] == "★"
    assert {"Δ MRR vs best", "95% CI", "p"} <= set(table.columns)  # issue 19 part 2: the same marks as Evaluate
    assert table["95% CI"].iloc[0] == "" and table["95% CI"].iloc[1:].str.startswith("[").all()
    assert set(table["best"].iloc[1:]) <= {"=", ""}
    assert any("cannot be told apart from the best" in c.value for c in at.caption)
    best = result.best()
    assert f"**{best.index}**" in at.success[0].value
    at.button(key="exp_use_best").click().run()
    assert not errors(at), errors(at)
    assert at.session_state["active_index"] == best.index
    assert at.title[0].value.endswith("Chat")
    assert at.sidebar.selectbox(key="w:index").value == best.index
    assert at.sidebar.slider(key="w:top_k").value == best.settings.top_k
    assert at.sidebar.selectbox(key="w:reranker").value == (best.settings.reranker or "none")


def test_experiment_needs_two_chunkings_and_says_bad_ones(index_page):
    at = index_page
    at.multiselect(key="w:exp_chunkings").set_value(["recursive-500-50"]).run()
    assert at.button(key="exp_run").disabled
    at.multiselect(key="w:exp_chunkings").set_value(["recursive-500-50", "recursive-100-200"]).run()
    assert not at.exception
    at.radio(key="w:exp_origin").set_value(ui_evaluate.UPLOAD_SET).run()
    at.file_uploader(key="exp_upload").set_value([("facts.csv", QUESTIONS, "text/csv")]).run()
    at.button(key="exp_run").click().run()
    assert not at.exception
    assert any("overlap" in e.value for e in at.error)


def test_evaluate_best_row_is_one_click_from_chat(app_root):
    hashing_index(app_root / "facts-a")
    hashing_index(app_root / "facts-b", chunking=ChunkingConfig(size=120, overlap=10))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.switch_page("pages/chat.py").run()  # Compare and Blind on, the retriever changed: all undone below
    at.toggle(key="w:compare").set_value(True).run()
    at.toggle(key="w:cmp_blind").set_value(True).run()
    at.sidebar.selectbox(key="w:method").set_value("dense").run()
    at.switch_page("pages/evaluate.py").run()
    at.multiselect(key="w:eval_indexes").set_value(["facts-a", "facts-b"])
    at.multiselect(key="w:eval_top_ks").set_value([1, 3])
    at.multiselect(key="w:eval_rerankers").set_value(["none", BM25]).run()
    at.radio(key="w:eval_origin").set_value(ui_evaluate.UPLOAD_SET).run()
    at.file_uploader(key="eval_upload").set_value([("facts.csv", QUESTIONS, "text/csv")]).run()
    at.button(key="eval_run_button").click().run()
    assert not errors(at), errors(at)
    top = best(at.session_state["eval_run"].results, "mrr")
    at.button(key="eval_use_best").click().run()
    assert not errors(at), errors(at)
    assert at.title[0].value.endswith("Chat") and at.session_state["active_index"] == top.index
    assert at.sidebar.slider(key="w:top_k").value == top.settings.top_k
    assert at.sidebar.selectbox(key="w:reranker").value == (top.settings.reranker or "none")
    method = next(k for k, v in ui_state.METHODS.items() if v == (top.settings.mode, top.settings.fusion))
    assert at.sidebar.selectbox(key="w:method").value == method  # issue 17: the retriever applied too
    assert at.toggle(key="w:compare").value is False and at.session_state["w:cmp_blind"] is False
    assert at.chat_input[0].placeholder.startswith("Ask a question")  # the next question goes to Chat


def test_the_app_asks_before_an_experiment_replaces_an_unrelated_index(index_page, app_root):
    """Issue 16 item 9: an index the experiment did not build is replaced only after a confirmation."""
    from helpers import FACTS

    from rag_core.core.types import Document

    other = [Document(source=f"note{n}.md", section="n", text=f"Harbour log {n}: ships and tides. " * 5)
             for n in range(6)]
    hashing_index(app_root / "facts--recursive-200-20", documents=other, chunking=ChunkingConfig(size=200, overlap=20))
    before = (app_root / "facts--recursive-200-20" / "CURRENT").read_text()
    at = index_page
    at.text_input(key="w:exp_base").set_value("facts")
    at.multiselect(key="w:exp_chunkings").set_value(["recursive-200-20", "recursive-500-50"]).run()
    at.radio(key="w:exp_origin").set_value(ui_evaluate.UPLOAD_SET).run()
    at.file_uploader(key="exp_upload").set_value([("facts.csv", QUESTIONS, "text/csv")]).run()
    at.button(key="exp_run").click().run()
    assert not at.exception, at.exception
    warned = " ".join(w.value.replace("\\", "") for w in at.warning)  # md_literal escapes ( and :
    assert "was not built by an experiment (it holds 6 source(s))" in warned, (warned, errors(at))
    assert (app_root / "facts--recursive-200-20" / "CURRENT").read_text() == before
    assert "experiment" not in at.session_state
    at.button(key="exp_replace").click().run()
    assert not errors(at), errors(at)
    assert sorted(rindex.read_manifest(app_root / "facts--recursive-200-20").sources) == sorted(FACTS)
