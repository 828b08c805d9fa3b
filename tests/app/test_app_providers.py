"""AppTest of the hosted providers in the app, against the local fake OpenAI/Cohere server
(tests/fake_provider_server.py): Settings' Test connection, a hosted answerer's per-stage
costs, Cohere rerank labels, the spend confirmation before a hosted build, per-session keys,
and that a key never reaches a rendered element or a log."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from fake_provider_server import ANSWER
from helpers import app_errors as errors
from helpers import fact_documents
from streamlit.testing.v1 import AppTest

from rag_core.embeddings import create_embedder
from rag_core.index.index import Index
from rag_core.core.types import ChunkingConfig

ROOT = Path(__file__).resolve().parents[2]
SMALL = "small"
WRONG_KEY = "sk-wrong-KEY-0123456789abcdefWXYZ"



def dollars(text: str) -> float:
    """A cell formatted by rag_core.costs.format_usd, back to a number."""
    return float(text.lstrip("$").replace(",", ""))

def rendered(at: AppTest) -> str:
    """Every element of the page as text: protos (labels, values, Arrow bytes) and values."""
    out: list[str] = []

    def walk(node) -> None:
        proto = getattr(node, "proto", None)
        if proto is not None:
            out.append(str(proto))
        try:
            value = node.value
        except Exception:  # noqa: BLE001 - blocks and some elements have no value
            value = None
        if value is not None:
            out.append(value.to_string() if hasattr(value, "to_string") else repr(value))
        for child in getattr(node, "children", {}).values():
            walk(child)

    walk(at._tree)
    return "\n".join(out)


@pytest.fixture
def app_env(app_root, monkeypatch, server, caplog):
    root = app_root
    for var in ("OPENAI_API_KEY", "COHERE_API_KEY", "COMPATIBLE_API_KEY", "OPENAI_BASE_URL", "COHERE_BASE_URL",
                "COMPATIBLE_BASE_URL"):
        monkeypatch.delenv(var, raising=False)
    # the operator of this test deployment allows model servers on this machine (the fake server is on
    # 127.0.0.1); tests of the address guard take it away again
    monkeypatch.setenv("RAG_ALLOW_LOCAL_MODEL_SERVERS", "1")
    caplog.set_level(logging.DEBUG)
    index = Index.create(root / SMALL, create_embedder("hashing"), "numpy", ChunkingConfig(size=300, overlap=30))
    index.ingest(fact_documents())
    index.save()
    yield root
    for secret in (server.openai_key, server.cohere_key, WRONG_KEY):
        assert secret not in caplog.text  # never in a log


def session(server, page: str, **typed) -> AppTest:
    """A fresh browser session on `page`, with keys and base URLs typed for it (as Settings stores them)."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=30)
    if typed:
        at.session_state["typed_creds"] = dict(typed)
    at.switch_page(f"pages/{page}.py").run()
    assert not errors(at), errors(at)
    return at


def openai_creds(server, key=None) -> dict:
    return {"openai_api_key": key or server.openai_key, "openai_base_url": server.openai_url}


def cohere_creds(server) -> dict:
    return {"cohere_api_key": server.cohere_key, "cohere_base_url": server.cohere_url}


def test_settings_test_connection_lists_models_and_explains_401_and_404(app_env, server):
    at = session(server, "settings")
    at.text_input(key="url_input:openai").set_value(server.openai_url).run()
    at.text_input(key="key_input:openai").set_value(server.openai_key).run()
    assert at.text_input(key="key_input:openai").value == ""  # the key left the field
    at.button(key="test:openai").click().run()
    assert not errors(at), errors(at)
    assert any("connected to" in s.value and "models" in s.value for s in at.success)
    assert "gpt-4o-mini" in list(at.dataframe[0].value.iloc[:, 0])
    assert len(server.calls("/v1/models")) == 1

    at.text_input(key="test_model:openai").set_value("gpt-9").run()
    at.button(key="test:openai").click().run()
    assert any("404 unknown model" in e.value for e in at.error), errors(at)

    at.text_input(key="test_model:openai").set_value("").run()
    at.text_input(key="key_input:openai").set_value(WRONG_KEY).run()
    at.button(key="test:openai").click().run()
    assert any("401" in e.value and "rejected the API key" in e.value for e in at.error), errors(at)
    page = rendered(at)
    assert WRONG_KEY not in page and server.openai_key not in page


def test_two_sessions_keep_their_own_keys(app_env, server):
    good = session(server, "settings")
    bad = session(server, "settings")
    good.text_input(key="url_input:openai").set_value(server.openai_url).run()
    good.text_input(key="key_input:openai").set_value(server.openai_key).run()
    bad.text_input(key="url_input:openai").set_value(server.openai_url).run()
    bad.text_input(key="key_input:openai").set_value(WRONG_KEY).run()
    good.button(key="test:openai").click().run()
    bad.button(key="test:openai").click().run()
    assert good.success and not good.error
    assert bad.error and "401" in bad.error[0].value
    assert good.session_state["typed_creds"]["openai_api_key"] == server.openai_key
    assert bad.session_state["typed_creds"]["openai_api_key"] == WRONG_KEY
    good_page, bad_page = rendered(good), rendered(bad)
    assert f"…{server.openai_key[-4:]}" in good_page and f"…{WRONG_KEY[-4:]}" in bad_page
    for page in (good_page, bad_page):
        assert server.openai_key not in page and WRONG_KEY not in page


def test_hosted_answerer_streams_and_shows_costs_per_stage(app_env, server):
    at = session(server, "chat", **openai_creds(server))
    at.sidebar.selectbox(key="w:llm").set_value("openai:gpt-4o-mini").run()
    at.chat_input[0].set_value("What is the capital of Kenya?").run()
    assert not errors(at), errors(at)
    entry = at.session_state["chat_history"][-1]
    assert entry.answer.text == ANSWER
    assert len(server.calls("/v1/chat/completions")) == 1
    table = at.dataframe[0].value.set_index("stage")
    assert list(table.index) == ["query embedding", "prompt", "completion", "total"]
    prompt_reported = entry.costs.stage("prompt").reported_tokens
    assert prompt_reported and table.loc["prompt", "tokens reported by API"] == f"{prompt_reported:,}"
    assert table.loc["completion", "tokens reported by API"] == str(len(ANSWER.split(" ")))
    assert table.loc["prompt", "tiktoken estimate"] != table.loc["prompt", "tokens reported by API"]
    assert table.loc["prompt", "model"] == "openai:gpt-4o-mini"  # priced on its own model, not "would cost"
    assert table.loc["query embedding", "tokens reported by API"] == "not reported"  # local hashing embedder

    at.chat_input[0].set_value("Who developed relativity?").run()
    assert not errors(at), errors(at)
    # the sidebar totals are short wrapping lines (a wide dataframe there was cut to two columns)
    assert not at.sidebar.dataframe
    lines = next(m.value for m in at.sidebar.markdown if m.value.startswith("- query embedding:")).splitlines()
    totals = {line[2:].split(": ")[0]: line.split(": ")[1].split(" tokens · ") for line in lines}
    history = at.session_state["chat_history"]
    assert dollars(totals["total"][1].replace("\\", "")) == pytest.approx(sum(e.costs.total_usd for e in history),
                                                                          abs=2e-6)
    assert totals["prompt"][0] == f"{sum(e.costs.stage('prompt').reported_tokens for e in history):,}"
    assert server.openai_key not in rendered(at)


def test_provider_failure_is_an_error_and_the_chat_stays_usable(app_env, server):
    at = session(server, "chat", **openai_creds(server))
    at.sidebar.selectbox(key="w:llm").set_value("openai:gpt-4o").run()
    server.fail("/v1/chat/completions", 401)
    at.chat_input[0].set_value("What is the capital of Kenya?").run()
    assert not at.exception
    assert any("401" in e.value and "chat is still usable" in e.value for e in at.error)
    at.chat_input[0].set_value("What is the capital of Kenya?").run()
    assert not at.exception
    # the failed turn stays in the history with its error (drawn once, in its place); the new one answers
    failed, answered = at.session_state["chat_history"]
    assert "401" in failed.error and failed.answer.text == "" and failed.costs.total_usd == 0
    assert [e.value for e in at.error] == [failed.error]
    assert answered.answer.text == ANSWER and not answered.error


def test_cohere_rerank_shows_relevance_beside_the_first_stage_rank(app_env, server):
    at = session(server, "chat", **cohere_creds(server))
    at.sidebar.selectbox(key="w:reranker").set_value("cohere:rerank-v3.5").run()
    at.chat_input[0].set_value("capital of Japan Tokyo island").run()
    assert not errors(at), errors(at)
    assert len(server.calls("/v2/rerank")) == 1
    hits = next(m.value for m in at.markdown if "rag-hit" in m.value)
    assert "rerank relevance" in hits and "(was #" in hits and "cosine" in hits
    table = at.dataframe[0].value.set_index("stage")
    assert table.loc["rerank", "model"] == "cohere:rerank-v3.5"
    assert table.loc["rerank", "tokens reported by API"] == "1 search unit(s)"
    assert dollars(table.loc["rerank", "$"]) == pytest.approx(0.002)
    assert server.cohere_key not in rendered(at)


def test_hosted_build_needs_confirmation_before_any_request(app_env, server):
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=30)
    at.session_state["typed_creds"] = openai_creds(server)
    at.session_state["staged_documents"] = fact_documents()
    at.switch_page("pages/index.py").run()
    assert at.radio[0].value == "From the Data page"
    at.selectbox(key="w:embedder").set_value("openai:text-embedding-3-small").run()
    at.text_input(key="w:index_name").set_value("hosted").run()
    assert not errors(at), errors(at)
    assert at.button(key="build").disabled
    confirm = next(c for c in at.checkbox if c.key.startswith("confirm_spend:"))
    assert "I accept spending ~\\$0.0000" in confirm.label and "openai:text-embedding-3-small" in confirm.label
    metrics = {m.label: m.value for m in at.metric}
    assert int(metrics["Chunks to embed"]) >= len(fact_documents())
    assert server.calls("/v1/embeddings") == []  # nothing sent before the person accepts

    confirm.check().run()
    assert server.calls("/v1/embeddings") == []
    assert not at.button(key="build").disabled
    at.button(key="build").click().run()
    assert not errors(at), errors(at)
    assert "Built hosted" in at.success[0].value
    assert server.calls("/v1/embeddings")
    assert any("the API reported" in i.value for i in at.info)
    for path in (app_env / "hosted").rglob("*"):
        if path.is_file():
            assert server.openai_key.encode() not in path.read_bytes()

    # the index answers this session's questions with its own embedder, via the same key
    at.switch_page("pages/chat.py").run()
    at.chat_input[0].set_value("What is the capital of Kenya?").run()
    assert not errors(at), errors(at)
    table = at.dataframe[0].value.set_index("stage")
    assert table.loc["query embedding", "model"] == "openai:text-embedding-3-small"
    assert table.loc["query embedding", "tokens reported by API"] == "6"  # the fake server counts words

    at.switch_page("pages/explore.py").run()  # the map of a hosted index, and a query placed on it
    at.text_input(key="w:explore_query").set_value("capital of Kenya").run()
    assert not errors(at), errors(at)
    assert any(m.value.startswith("**Top ") and "hits" in m.value for m in at.markdown)

    # a session without the key is told where to add it
    other = AppTest.from_file(str(ROOT / "app.py"), default_timeout=30)
    other.switch_page("pages/chat.py").run()
    other.chat_input[0].set_value("What is the capital of Kenya?").run()
    assert any("Settings" in e.value and "OPENAI_API_KEY" in e.value for e in other.error), errors(other)
    assert server.openai_key not in rendered(at) and server.openai_key not in rendered(other)


def test_query_with_another_embedder_is_refused(app_env, server):
    """The manifest check: a hosted index opened with a different embedder is an error."""
    from rag_core.core.errors import IndexMismatchError

    directory = app_env / "big"
    from rag_core.providers import Credentials

    creds = Credentials(openai_api_key=server.openai_key, openai_base_url=server.openai_url)
    index = Index.create(directory, create_embedder("openai:text-embedding-3-large@256", credentials=creds),
                         "numpy", ChunkingConfig(size=300, overlap=30))
    index.ingest(fact_documents()[:1])
    index.save()
    with pytest.raises(IndexMismatchError, match="text-embedding-3-large@256"):
        Index.open(directory, embedder=create_embedder("openai:text-embedding-3-small", credentials=creds))


def test_session_prices_price_the_turn_and_the_editor_reads_back(app_env, server):
    from rag_core import costs
    from ui import prices

    table = costs.DEFAULT_PRICES.with_override("openai:gpt-4o-mini", costs.Price("openai:gpt-4o-mini", 1000.0, 0.0))
    edited, skipped = prices.from_frame(prices.to_frame(table), table.as_of)
    assert edited == table and skipped == []
    frame = prices.to_frame(table)
    frame.loc[len(frame)] = ["no-provider", 1.0, 1.0, 0.0]
    assert prices.from_frame(frame, table.as_of)[1] == ["no-provider (write it as provider:name, e.g. openai:gpt-4o-mini)"]

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=30)
    at.session_state["typed_creds"] = openai_creds(server)
    at.session_state["price_table"] = table
    at.switch_page("pages/chat.py").run()
    at.sidebar.selectbox(key="w:llm").set_value("openai:gpt-4o-mini").run()
    at.chat_input[0].set_value("What is the capital of Kenya?").run()
    assert not errors(at), errors(at)
    prompt = at.session_state["chat_history"][-1].costs.stage("prompt")
    assert prompt.cost_usd == pytest.approx(prompt.reported_tokens * 1000.0 / 1e6)

    at.switch_page("pages/settings.py").run()
    assert not errors(at), errors(at)
    assert at.session_state["price_table"] == table  # opening the editor keeps the session's prices
    at.button(key="reset_prices").click().run()
    assert at.session_state["price_table"] == costs.DEFAULT_PRICES


def test_the_price_editor_keeps_the_would_cost_rows(app_env, server):
    from rag_core import costs
    from ui import prices

    gone = costs.PriceTable.of([p for p in costs.DEFAULT_PRICES.prices if p.model not in costs.DEFAULT_COST_ROWS])
    edited = costs.DEFAULT_PRICES.with_override("openai:gpt-4o-mini", costs.Price("", 9.0, 9.0))
    kept, restored = prices.keep_default_rows(gone, edited)
    assert restored == list(costs.DEFAULT_COST_ROWS)
    assert kept.get("openai:gpt-4o-mini").input_per_mtok == 9.0  # the base's (edited) price comes back
    assert kept.get(costs.DEFAULT_EMBED_COST_MODEL) == costs.DEFAULT_PRICES.get(costs.DEFAULT_EMBED_COST_MODEL)
    assert prices.keep_default_rows(costs.DEFAULT_PRICES, gone) == (costs.DEFAULT_PRICES, [])

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=30)
    at.session_state["price_table"] = gone
    at.session_state["price_editor_base"] = gone  # as if the person deleted both rows in the editor
    at.switch_page("pages/settings.py").run()
    assert not errors(at), errors(at)
    table = at.session_state["price_table"]
    assert all(model in table._by_model for model in costs.DEFAULT_COST_ROWS)
    assert any("cannot be deleted" in i.value for i in at.info)
    # a chat turn with the local default is priced on them, and answers
    at.switch_page("pages/chat.py").run()
    at.chat_input[0].set_value("What is the capital of Kenya?").run()
    assert not errors(at), errors(at)
    assert at.session_state["chat_history"][-1].costs.total_usd > 0


# ---- issue 9, hostile items 1 and 8: visitor base URLs and keys in the app -----------------------

OPERATOR_COMPATIBLE_KEY = "compat-OPERATOR-key-0123456789"
VISITOR_KEY = "sk-visitor-typed-0123456789abcdef"


def operator_keys(monkeypatch, server, allow_local: bool) -> None:
    """A shared deployment: the operator's keys in the environment, for the official endpoints."""
    monkeypatch.setenv("OPENAI_API_KEY", server.openai_key)
    monkeypatch.setenv("COHERE_API_KEY", server.cohere_key)
    monkeypatch.setenv("COMPATIBLE_API_KEY", OPERATOR_COMPATIBLE_KEY)
    if allow_local:
        monkeypatch.setenv("RAG_ALLOW_LOCAL_MODEL_SERVERS", "1")
    else:
        monkeypatch.delenv("RAG_ALLOW_LOCAL_MODEL_SERVERS", raising=False)


def test_settings_visitor_base_url_is_refused_by_the_address_guard_with_zero_requests(app_env, server, monkeypatch):
    operator_keys(monkeypatch, server, allow_local=False)
    at = session(server, "settings")
    at.text_input(key="url_input:openai").set_value(server.openai_url).run()
    assert any("none: a base URL typed here is used only with a key typed here" in m.value for m in at.markdown)
    at.button(key="test:openai").click().run()  # no typed key: the operator's key is not used
    assert any("type your own OpenAI key" in e.value for e in at.error), errors(at)
    at.text_input(key="key_input:openai").set_value(VISITOR_KEY).run()
    for url in (server.openai_url, "http://169.254.169.254/latest/v1", "http://[::1]:11434/v1"):
        at.text_input(key="url_input:openai").set_value(url).run()
        at.button(key="test:openai").click().run()
        assert any("refused to connect" in e.value and "Nothing was sent" in e.value for e in at.error), errors(at)
    at.text_input(key="url_input:compatible").set_value(server.openai_url).run()
    at.button(key="test:compatible").click().run()
    assert any("refused to connect" in e.value and "RAG\\_ALLOW\\_LOCAL\\_MODEL\\_SERVERS" in e.value
               for e in at.error), errors(at)
    assert server.requests == []
    page = rendered(at)
    for secret in (server.openai_key, VISITOR_KEY, OPERATOR_COMPATIBLE_KEY):
        assert secret not in page


def test_every_app_call_to_a_visitor_base_url_is_guarded(app_env, server, monkeypatch):
    """Chat, rerank and a hosted index build from a session that typed base URLs on this machine."""
    operator_keys(monkeypatch, server, allow_local=False)
    typed = {"openai_api_key": VISITOR_KEY, "openai_base_url": server.openai_url,
             "cohere_api_key": VISITOR_KEY, "cohere_base_url": server.cohere_url}
    at = session(server, "chat", **typed)
    at.sidebar.selectbox(key="w:llm").set_value("openai:gpt-4o-mini").run()
    at.chat_input[0].set_value("What is the capital of Kenya?").run()
    assert any("refused to connect" in e.value for e in at.error), errors(at)
    at.sidebar.selectbox(key="w:llm").set_value("extractive").run()
    at.sidebar.selectbox(key="w:reranker").set_value("cohere:rerank-v3.5").run()
    at.chat_input[0].set_value("What is the capital of Kenya?").run()
    assert any("refused to connect" in e.value for e in at.error), errors(at)

    build = AppTest.from_file(str(ROOT / "app.py"), default_timeout=30)
    build.session_state["typed_creds"] = typed
    build.session_state["staged_documents"] = fact_documents()
    build.switch_page("pages/index.py").run()
    build.selectbox(key="w:embedder").set_value("openai:text-embedding-3-small").run()
    build.text_input(key="w:index_name").set_value("visitor").run()
    next(c for c in build.checkbox if c.key.startswith("confirm_spend:")).check().run()
    build.button(key="build").click().run()
    assert any("refused to connect" in e.value for e in build.error), errors(build)
    assert server.requests == []


def test_operator_keys_never_reach_a_visitor_base_url_even_when_local_servers_are_allowed(app_env, server,
                                                                                           monkeypatch):
    operator_keys(monkeypatch, server, allow_local=True)
    server.openai_keys.add(VISITOR_KEY)
    server.answer = f"The capital is Nairobi; by the way the key is {server.openai_key} and {VISITOR_KEY}."
    server.chunk_chars = 5
    at = session(server, "settings")
    at.text_input(key="url_input:compatible").set_value(server.openai_url).run()
    at.button(key="test:compatible").click().run()  # no key typed: none is sent, not COMPATIBLE_API_KEY
    assert at.success, errors(at)
    chat = session(server, "chat", openai_base_url=server.openai_url, openai_api_key=VISITOR_KEY)
    chat.sidebar.selectbox(key="w:llm").set_value("openai:gpt-4o-mini").run()
    chat.chat_input[0].set_value("What is the capital of Kenya?").run()
    assert not errors(chat), errors(chat)
    answer = chat.session_state["chat_history"][-1].answer.text
    assert answer == "The capital is Nairobi; by the way the key is *** and ***."  # a key in an answer is masked
    assert set(server.authorizations()) == {"Bearer no-key-needed", f"Bearer {VISITOR_KEY}"}
    for page in (rendered(at), rendered(chat)):
        for secret in (server.openai_key, VISITOR_KEY, OPERATOR_COMPATIBLE_KEY):
            assert secret not in page


def test_user_info_typed_in_a_base_url_is_removed_with_a_note(app_env, server):
    secret = "sk-in-the-URL-0123456789abcdef"
    at = session(server, "settings")
    at.text_input(key="url_input:compatible").set_value(
        server.openai_url.replace("http://", f"http://me:{secret}@")).run()
    assert at.text_input(key="url_input:compatible").value == server.openai_url
    assert at.session_state["typed_creds"]["compatible_base_url"] == server.openai_url
    assert any("user:password part was removed" in w.value for w in at.warning)
    at.button(key="test:compatible").click().run()
    assert at.success, errors(at)
    assert secret not in rendered(at) and "me:" not in rendered(at)
    assert all(not (a or "").lower().startswith("basic") for a in server.authorizations())


def test_an_unexpected_error_on_a_page_masks_every_configured_key(app_root, monkeypatch, caplog, tmp_path):
    """ui.guard: the one-line error and the server log of an unexpected error hide env, secrets.toml
    and session-typed keys."""
    file_key = "Cohere0FromSecretsToml0123456789abcdWXYZ"
    monkeypatch.setenv("OPENAI_API_KEY", "sk-env-KEY-0123456789abcdef")
    (tmp_path / ".streamlit").mkdir()
    (tmp_path / ".streamlit" / "secrets.toml").write_text(f'COHERE_API_KEY = "{file_key}"\n')
    monkeypatch.chdir(tmp_path)
    caplog.set_level(logging.DEBUG)

    def script():
        from ui.guard import guard

        with guard("testing"):
            raise RuntimeError("keys: sk-env-KEY-0123456789abcdef Cohere0FromSecretsToml0123456789abcdWXYZ "
                               "typed-session-KEY-0123456789")

    at = AppTest.from_function(script, default_timeout=30)
    at.session_state["typed_creds"] = {"compatible_api_key": "typed-session-KEY-0123456789"}
    at.run()
    shown = at.error[0].value
    assert "unexpected error" in shown and "***" in shown
    for secret in ("sk-env-KEY-0123456789abcdef", file_key, "typed-session-KEY-0123456789"):
        assert secret not in shown and secret not in caplog.text
    assert "RuntimeError" in caplog.text  # the traceback still reaches the log, masked
