"""AppTest for every page, driven through app.py's navigation, on a small hashing/numpy index."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import app_errors as errors
from streamlit.testing.v1 import AppTest

from rag_core.ingest.demo import demo_documents
from rag_core.embeddings import create_embedder
from rag_core.index.index import Index
from rag_core.core.types import ChunkingConfig, Document

ROOT = Path(__file__).resolve().parents[2]
SMALL = "small"


@pytest.fixture
def indexes(app_root):
    root = app_root
    docs = demo_documents()[:40] + [
        Document("notes/evil.md", "Injection <b>bold</b>", "Costs $5 and $6. <script>alert(1)</script> " * 5)
    ]
    index = Index.create(root / SMALL, create_embedder("hashing"), "numpy", ChunkingConfig(size=400, overlap=40))
    index.ingest(docs)
    index.save()
    return root


def page(name: str) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.switch_page(f"pages/{name}.py").run()
    assert not errors(at), errors(at)
    return at


def test_home_loads_and_demo_button_builds_the_demo_index(indexes, monkeypatch):
    import rag_core.embeddings

    monkeypatch.setattr(rag_core.embeddings, "DEFAULT_EMBEDDER", "hashing")  # fast stand-in for MiniLM
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    assert not errors(at), errors(at)
    assert "RAG Playground" in at.title[0].value
    at.button(key="load_demo").click().run()
    assert not errors(at), errors(at)
    assert "demo index is ready" in at.success[0].value
    assert (indexes / "demo" / "CURRENT").exists()
    assert at.session_state["active_index"] == "demo"


def test_data_page_uploads_show_status_table_and_filter(indexes):
    at = page("data")
    assert at.title[0].value.endswith("Data")
    good = ("Big cats and small cats share many traits. " * 10).encode()
    at.file_uploader(key="uploads").set_value([
        ("notes.txt", good, "text/plain"),
        ("tiny.md", b"# Tiny\n\nToo short.", "text/markdown"),
        ("image.png", b"\x89PNG....", "image/png"),
        ("empty.txt", b"", "text/plain"),
    ]).run()
    assert not errors(at), errors(at)
    warnings = " ".join(w.value for w in at.warning)
    assert "image.png" in warnings and "unsupported" in warnings and "empty.txt" in warnings
    assert "2 file(s) ingested, 2 skipped" in " ".join(m.value for m in at.markdown)
    assert {n.key for n in at.number_input} >= {"w:min_words", "w:min_chars"}  # the content filter's two
    rules = [m.value for m in at.markdown if "drops" in m.value]
    assert any("word_count <= 15" in r and "**1**" in r for r in rules), rules  # tiny.md dropped, visibly
    table = at.dataframe[1].value
    assert list(table.columns) == ["source", "section", "text", "word_count", "char_count"]
    assert len(at.session_state["staged_documents"]) == 1


def test_index_page_previews_estimates_builds_and_lists(indexes):
    at = page("index")
    assert at.radio[0].value == "The demo corpus"
    assert [s.label for s in at.selectbox][:1] == ["Strategy"]
    preview = next(m.value for m in at.markdown if "rag-preview" in m.value)
    assert "overlap of chunks" in preview or "chunk 1" in preview
    assert at.get("plotly_chart"), "chunk-length histogram missing"
    metrics = {m.label: m.value for m in at.metric}
    assert int(metrics["Chunks"].replace(",", "")) > 0 and metrics[next(k for k in metrics if k.startswith("Cost"))].startswith("$")
    at.selectbox(key="w:embedder").set_value("hashing")
    at.selectbox(key="w:store").set_value("numpy")
    at.text_input(key="w:index_name").set_value("built")
    at.button(key="build").click().run()
    assert not errors(at), errors(at)
    assert "Built built" in at.success[0].value
    assert (indexes / "built" / "CURRENT").exists()
    assert at.session_state["active_index"] == "built"
    names = list(at.dataframe[0].value["name"])
    assert names == ["built", SMALL]


def test_index_page_rename_and_delete(indexes):
    at = page("index")
    at.text_input(key=f"rename_to:{SMALL}").set_value("renamed").run()
    at.button(key=f"rename:{SMALL}").click().run()
    assert not errors(at), errors(at)
    assert (indexes / "renamed" / "CURRENT").exists() and not (indexes / SMALL).exists()
    at.checkbox(key="sure:renamed").check().run()
    at.button(key="delete:renamed").click().run()
    assert not errors(at), errors(at)
    assert not (indexes / "renamed").exists()


def test_chat_round_trip_explains_the_answer(indexes):
    at = page("chat")
    assert at.sidebar.selectbox(key="w:index").value == SMALL
    for key in ("w:top_k", "w:threshold"):
        assert at.sidebar.slider(key=key) is not None
    assert at.sidebar.text_area(key="w:template").value.startswith("Answer the question")
    at.chat_input[0].set_value("What is the capital of Kenya?").run()
    assert not errors(at), errors(at)
    md = [m.value for m in at.markdown]
    assert any("Retrieved chunks" in m for m in md)
    hit = next(m for m in md if "rag-hit" in m)
    assert "cosine" in hit and "<script>" not in hit
    assert any(m.startswith(":material/payments: This turn:") and "\\$" in m for m in md), md
    assert any("Answer the question" in c.value and "Question: What is the capital of Kenya?" in c.value for c in at.code)
    assert any("Settings used: index small · retriever hybrid z-score α=0.5 · top-k 5" in c.value for c in at.caption)
    assert any(m.startswith(":material/payments: 1 turn:") for m in md)  # sidebar session totals
    assert len(at.session_state["chat_history"]) == 1

    # settings changed mid-conversation apply to the next turn, which records them
    at.sidebar.checkbox(key="w:use_threshold").check().run()
    at.sidebar.slider(key="w:threshold").set_value(0.99)
    at.sidebar.slider(key="w:top_k").set_value(3).run()
    at.chat_input[0].set_value("What is the capital of Kenya?").run()
    assert not errors(at), errors(at)
    last = at.session_state["chat_history"][-1].answer
    assert last.text.startswith("No context.") and last.hits == () and last.settings.top_k == 3
    assert any("No context: no chunk scored at or above the threshold 0.99" in w.value for w in at.warning)
    assert any("threshold 0.99" in c.value for c in at.caption)
    assert any(m.startswith(":material/payments: 2 turns:") for m in (m.value for m in at.markdown))


def test_chat_bad_template_is_an_error_not_a_traceback(indexes):
    at = page("chat")
    at.sidebar.text_area(key="w:template").set_value("no placeholders here {oops}").run()
    at.chat_input[0].set_value("What is the capital of Kenya?").run()
    assert not at.exception
    assert any("placeholder" in e.value for e in at.error)
    at.sidebar.button(key="reset_template").click().run()
    assert at.sidebar.text_area(key="w:template").value.startswith("Answer the question")


def test_explore_map_and_query(indexes):
    at = page("explore")
    assert at.get("plotly_chart")
    at.text_input(key="w:explore_query").set_value("capital of Kenya").run()
    assert not errors(at), errors(at)
    assert any("Top 5 hits" in m.value for m in at.markdown)


def test_settings_keys_stay_in_the_session(indexes, tmp_path, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    at = page("settings")
    secret = "sk-test-NEVER-ON-DISK-1234"
    at.text_input(key="key_input:openai").set_value(secret).run()
    assert not errors(at), errors(at)
    assert any("typed in for this session" in m.value for m in at.markdown)
    assert secret not in " ".join(m.value for m in at.markdown)  # only masked
    assert at.text_input(key="key_input:openai").value == ""  # moved out of the field at once
    other = page("settings")  # a second session does not see it
    assert other.text_input(key="key_input:openai").value == ""
    assert not any("typed in for this session" in m.value for m in other.markdown)
    for path in list(tmp_path.rglob("*")) + list((ROOT / ".streamlit").rglob("*")):
        if path.is_file():
            assert secret.encode() not in path.read_bytes(), path
    assert any("as of" in c.value for c in at.caption)
    assert at.dataframe[0].value.shape[0] >= 10


def test_chat_settings_survive_switching_pages(indexes):
    at = page("chat")
    at.sidebar.slider(key="w:top_k").set_value(7).run()
    at.switch_page("pages/index.py").run()
    at.switch_page("pages/chat.py").run()
    assert at.sidebar.slider(key="w:top_k").value == 7
