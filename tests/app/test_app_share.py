"""Share and export in the app: a configuration file round trip (download -> upload), settings
in the URL (restore, publish, untrusted values ignored), the chat session as Markdown and JSON,
and Home's sample questions opening Chat and asking."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import app_errors as errors
from streamlit.testing.v1 import AppTest

from rag_core.answer import config as rconfig
from rag_core.ingest.demo import demo_documents
from rag_core.embeddings import create_embedder
from rag_core.index.index import Index
from rag_core.core.types import ChunkingConfig

ROOT = Path(__file__).resolve().parents[2]
SECRET = "sk-test-typed-secret-0123456789"


@pytest.fixture
def indexes(app_root):
    for name, size in (("small", 400), ("demo", 600)):
        index = Index.create(app_root / name, create_embedder("hashing"), "numpy",
                             ChunkingConfig(size=size, overlap=40))
        index.ingest(demo_documents()[:30])
        index.save()
    return app_root


@pytest.fixture
def downloads(monkeypatch):
    """What each download button would hand the browser, by key (st.download_button, recorded)."""
    import streamlit

    real, seen = streamlit.download_button, {}

    def record(label, data, *args, **kwargs):
        seen[kwargs.get("key")] = data
        return real(label, data, *args, **kwargs)

    monkeypatch.setattr(streamlit, "download_button", record)
    return seen


def _bytes(data) -> bytes:
    data = data() if callable(data) else data
    return data.encode() if isinstance(data, str) else data


def chat(query: dict[str, str] | None = None) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    for key, value in (query or {}).items():
        at.query_params[key] = value
    at.switch_page("pages/chat.py").run()
    assert not errors(at), errors(at)
    return at


def _settings(at) -> dict:
    return {"index": at.selectbox(key="w:index").value, "top_k": at.slider(key="w:top_k").value,
            "use_threshold": at.checkbox(key="w:use_threshold").value,
            "threshold": at.slider(key="w:threshold").value, "reranker": at.selectbox(key="w:reranker").value,
            "llm": at.selectbox(key="w:llm").value, "template": at.text_area(key="w:template").value}


@pytest.mark.parametrize("fmt", ["toml", "json"])
def test_config_download_then_upload_gives_the_same_settings(indexes, downloads, fmt):
    at = chat()
    at.selectbox(key="w:index").set_value("small")
    at.slider(key="w:top_k").set_value(7)
    at.checkbox(key="w:use_threshold").check().run()
    at.slider(key="w:threshold").set_value(0.25)
    at.selectbox(key="w:reranker").set_value("pool-bm25")
    at.text_area(key="w:template").set_value("Use this:\n{context}\n\nQ: {question}\nA:")
    at.run()
    chosen = _settings(at)
    data = _bytes(downloads[f"config_{fmt}"])
    config = rconfig.loads(data, fmt)
    assert config.index.name == "small" and config.index.store == "numpy" and config.chunking.size == 400
    assert config.retrieval.top_k == 7 and config.answer.template_name == "custom"

    at.selectbox(key="w:index").set_value("demo")
    at.slider(key="w:top_k").set_value(2)
    at.checkbox(key="w:use_threshold").uncheck()
    at.selectbox(key="w:reranker").set_value("pool-rrf")
    at.button(key="reset_template").click()
    at.run()
    assert _settings(at) != chosen

    at.file_uploader(key="config_upload").set_value((f"setup.{fmt}", data, "application/octet-stream")).run()
    assert not errors(at), errors(at)
    assert _settings(at) == chosen
    assert any("Imported" in s.value for s in at.success)
    assert at.session_state["p:size"] == 400 and at.session_state["p:store"] == "numpy"  # the Index page's too


def test_a_bad_config_file_says_what_is_wrong_and_changes_nothing(indexes):
    at = chat()
    before = _settings(at)
    bad = b'[retrieval]\ntop_k = "many"\ncolour = "red"\n'
    at.file_uploader(key="config_upload").set_value(("bad.toml", bad, "application/toml")).run()
    message = " ".join(e.value for e in at.error)
    assert "top\\_k must be a whole number" in message and "colour" in message and "Nothing was changed" in message
    assert _settings(at) == before


def test_an_imported_index_that_is_not_here_is_said(indexes, downloads):
    at = chat()
    text = rconfig.dumps_toml(rconfig.PlaygroundConfig(index=rconfig.IndexConfig(name="elsewhere"),
                                                       retrieval=rconfig.RetrievalSettings(top_k=50)))
    at.file_uploader(key="config_upload").set_value(("x.toml", text.encode(), "application/toml")).run()
    warning = " ".join(w.value for w in at.warning)
    assert "no index elsewhere here" in warning and "top-k" not in warning  # 50 is inside Chat's range now
    assert at.session_state["p:index_name"] == "elsewhere"


def test_url_settings_are_restored_and_published(indexes):
    at = chat({"index": "small", "top_k": "9", "threshold": "0.40", "reranker": "pool-bm25", "answerer": "extractive",
               "mode": "dense"})
    assert _settings(at) | {"template": ""} == {"index": "small", "top_k": 9, "use_threshold": True,
                                               "threshold": 0.40, "reranker": "pool-bm25", "llm": "extractive",
                                               "template": ""}
    at.slider(key="w:top_k").set_value(4).run()
    params = dict(at.query_params)
    assert params["top_k"] == "4" and params["index"] == "small" and params["threshold"] == "0.40"
    assert params["mode"] == "dense"  # any other RetrievalSettings field goes through, typed and checked
    assert at.session_state["w:mode"] == "dense"

    reloaded = chat(params)  # a copied link, or a reload: a new session with the same URL
    assert _settings(reloaded) == _settings(at)


def test_untrusted_url_values_are_ignored_with_a_note(indexes):
    at = chat({"index": "../../etc", "top_k": "999", "threshold": "nan", "reranker": "<script>",
               "answerer": SECRET, "openai_api_key": "x", "mode": "[x](http://evil.example)"})
    note = " ".join(w.value for w in at.warning)
    for key in ("index", "top\\_k", "threshold", "reranker", "answerer", "openai\\_api\\_key", "mode"):
        assert key in note, (key, note)
    assert "<script>" not in note and SECRET not in note and "[x](" not in note  # shown literally, no link
    assert at.slider(key="w:top_k").value == 5 and at.selectbox(key="w:reranker").value == "none"
    assert all(SECRET not in str(v) and "api_key" not in k for k, v in at.query_params.items())


def test_keys_never_reach_the_url(indexes, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    at = chat()
    at.selectbox(key="w:llm").set_value("compatible:")
    at.run()
    at.text_input(key="w:compatible_model").set_value("llama3.2").run()
    assert at.query_params["answerer"] == "compatible:llama3.2"
    at.text_input(key="w:compatible_model").set_value(SECRET).run()  # a key pasted in the wrong field
    assert "answerer" not in at.query_params
    assert SECRET not in json.dumps(dict(at.query_params)) and "base_url" not in json.dumps(dict(at.query_params))


def test_evaluate_and_explore_keep_their_choices_in_the_url(indexes):
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.query_params.update({"indexes": "small,demo", "top_ks": "3,5", "rerankers": "none,bm25",
                            "threshold": "0.20", "best_by": "hit@k", "retrievers": "dense,hybrid-rrf",
                            "questions": "demo-hard"})
    at.switch_page("pages/evaluate.py").run()
    assert not errors(at), errors(at)
    assert at.multiselect(key="w:eval_indexes").value == ["small", "demo"]
    assert at.multiselect(key="w:eval_top_ks").value == [3, 5]
    assert at.checkbox(key="w:eval_use_threshold").value and at.slider(key="w:eval_threshold").value == 0.2
    assert at.multiselect(key="w:eval_methods").value == ["dense", "hybrid (rrf)"]  # issue 17 item 8
    assert at.radio(key="w:eval_origin").value.startswith("Demo questions: hard")
    at.multiselect(key="w:eval_top_ks").set_value([1]).run()
    assert at.query_params["top_ks"] == "1" and at.query_params["indexes"] == "small,demo"
    assert at.query_params["retrievers"] == "dense,hybrid-rrf" and at.query_params["questions"] == "demo-hard"

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.query_params.update({"index": "small", "query": "capital of Kenya", "top_k": "3", "view": "query"})
    at.switch_page("pages/explore.py").run()
    assert not errors(at), errors(at)
    assert at.selectbox(key="explore_index").value == "small"
    assert at.text_input(key="w:explore_query").value == "capital of Kenya"
    assert at.radio(key="w:explore_view").value == "query"  # issue 17 item 8: the map view travels too
    at.slider(key="w:explore_k").set_value(6).run()
    assert dict(at.query_params) == {"index": "small", "query": "capital of Kenya", "top_k": "6", "view": "query"}


def test_session_export_has_every_turn_as_markdown_and_json(indexes, downloads, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    at = chat()
    at.selectbox(key="w:reranker").set_value("pool-bm25").run()
    at.chat_input[0].set_value("What is the capital of Kenya?").run()
    at.chat_input[0].set_value(f"Is {SECRET} a key?").run()
    assert not errors(at), errors(at)
    data = json.loads(_bytes(downloads["session_json"]))
    assert [t["question"] for t in data["turns"]] == ["What is the capital of Kenya?", "Is *** a key?"]
    turn = data["turns"][0]
    assert turn["answer"] and turn["prompt"] and turn["hits"]
    assert turn["settings"]["retrieval"]["reranker"] == "pool-bm25" and turn["settings"]["index"] == "demo"
    assert {s["kind"] for s in turn["hits"][0]["scores"]} >= {"cosine", "bm25", "pool bm25"} and turn["hits"][0]["source"]
    assert turn["costs"]["cost_usd"] > 0 and turn["costs"]["prompt_tokens"] > 0
    markdown = _bytes(downloads["session_md"]).decode()
    from markdown_it import MarkdownIt

    shown = MarkdownIt("commonmark").render(markdown)  # as a reader sees it (untrusted text is escaped)
    assert "<h2>1. What is the capital of Kenya?</h2>" in shown and "<h2>2. Is *** a key?</h2>" in shown
    assert "all scores: cosine" in shown and "| total |" in markdown and "Prompt sent" in markdown
    assert SECRET not in markdown and SECRET not in json.dumps(data)


def test_home_sample_question_opens_chat_and_asks_it_once(indexes):
    from rag_core.ingest.demo import SAMPLE_QUESTIONS

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    assert not errors(at), errors(at)
    at.button(key="sample_question_0").click().run()
    assert not errors(at), errors(at)
    assert at.title[0].value.endswith("Chat")
    history = at.session_state["chat_history"]
    assert [e.answer.question for e in history] == [SAMPLE_QUESTIONS[0]] and history[0].index == "demo"
    at.run()  # a rerun does not ask again
    assert len(at.session_state["chat_history"]) == 1
