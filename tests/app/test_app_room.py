"""A shared server in AppTest: the room password gate, the OIDC configuration check (no live
provider), keys that stay in one session, and snapshots that open read-only without the index."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from helpers import app_errors as errors
from streamlit.testing.v1 import AppTest

from rag_core.embeddings import create_embedder
from rag_core.index.index import Index
from rag_core.room.auth import RoomAuth, check_password, oidc_problems
from rag_core.room.store import SnapshotStore
from rag_core.core.types import ChunkingConfig, Document
from ui import room

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "correct horse battery"
KEY = "sk-proj-" + "Q7x_" * 10
GOOD_OIDC = {"redirect_uri": "https://room.example/oauth2callback", "cookie_secret": "s" * 32,
             "client_id": "playground", "client_secret": "shh", "server_metadata_url":
                 "https://id.example/.well-known/openid-configuration"}


def app(secrets: dict | None = None) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    for k, v in (secrets or {}).items():
        at.secrets[k] = v
    return at


def opened(secrets: dict | None = None, page: str = "home") -> AppTest:
    """A session on `page`, run twice: AppTest's first run goes through app.py's reroute, and a
    widget drawn there has another id than on the next runs (a value typed into it is lost)."""
    at = app(secrets)
    at.switch_page(f"pages/{page}.py").run()
    return at.run()


def sign_in(at: AppTest) -> AppTest:
    at.text_input(key="room_password").input(PASSWORD)
    return at.button(key="room_enter").click().run()


@pytest.fixture
def small(app_root):
    docs = [Document(f"doc{i}.md", "", f"Nairobi is the capital of Kenya. Fact number {i}.") for i in range(5)]
    index = Index.create(app_root / "small", create_embedder("hashing"), "numpy", ChunkingConfig(size=200, overlap=0))
    index.ingest(docs)
    index.save()
    return app_root


def test_the_password_gate_shows_nothing_until_the_right_password(small):
    at = opened({"room": {"password": PASSWORD}}, "chat")
    assert not errors(at), errors(at)
    assert [t.value for t in at.text_input] == [""] and at.text_input[0].label == "Room password"
    assert not at.chat_input and [b.label for b in at.button] == ["Enter"]
    at.text_input[0].input("wrong password")
    at.button[0].click().run()
    assert "not the room's password" in at.error[0].value
    assert at.text_input[0].label == "Room password" and not at.chat_input
    sign_in(at)
    assert not errors(at), errors(at)
    assert "Chat" in at.title[0].value and at.chat_input and not any(t.label == "Room password" for t in at.text_input)
    assert "room_password" not in at.session_state  # the typed password is not kept


def test_a_short_password_or_half_written_oidc_refuses_to_open(small):
    at = app({"room": {"password": "short"}}).run()
    assert "at least 8 characters" in at.error[0].value and not at.button
    at = app({"auth": {"redirect_uri": "https://room.example/oauth2callback"}}).run()
    assert "cookie_secret" in at.error[0].value and "client_id" in at.error[0].value


def test_a_complete_oidc_configuration_asks_to_sign_in(small):
    at = app({"auth": GOOD_OIDC}).run()
    assert not at.exception, at.exception
    assert [b.label for b in at.button] == ["Sign in"] and not at.chat_input


def test_oidc_configuration_check_without_a_provider():
    assert oidc_problems(GOOD_OIDC) == []
    one = {"redirect_uri": GOOD_OIDC["redirect_uri"], "cookie_secret": "s" * 32,
           "google": {k: GOOD_OIDC[k] for k in ("client_id", "client_secret", "server_metadata_url")}}
    assert oidc_problems(one) == [] and RoomAuth.from_secrets({"auth": one}).provider == "google"
    assert RoomAuth.from_secrets({"auth": GOOD_OIDC}).provider is None
    two = dict(one, microsoft=one["google"])
    assert "2 provider sections" in oidc_problems(two)[0]
    assert any("redirect_uri" in p for p in oidc_problems(dict(GOOD_OIDC, redirect_uri="https://x/callback")))
    assert any("https://" in p for p in oidc_problems(dict(GOOD_OIDC, server_metadata_url="http://id/x")))
    assert any("lacks client_secret" in p for p in oidc_problems(dict(GOOD_OIDC, client_secret="")))
    assert RoomAuth.from_secrets({}) == RoomAuth()
    assert check_password(PASSWORD, PASSWORD) and not check_password(PASSWORD[:-1], PASSWORD)


def test_a_key_typed_by_one_person_stays_in_their_session_and_off_disk(small, app_root):
    one = sign_in(opened({"room": {"password": PASSWORD}}, "settings"))
    one.text_input(key="key_input:openai").input(KEY).run()
    assert not errors(one), errors(one)
    assert one.session_state["typed_creds"].get("openai_api_key") == KEY
    two = sign_in(opened({"room": {"password": PASSWORD}}, "settings"))
    assert "typed_creds" not in two.session_state or not two.session_state["typed_creds"].get("openai_api_key")
    assert KEY not in str([m.value for m in two.markdown]) + str([c.value for c in two.caption])
    # what a reload would keep of person one's session (written to disk): not the key
    ss = one._session_state.filtered_state  # the user keys, as st.session_state holds them
    kept = room.kept_state(ss, {KEY})
    assert "typed_creds" in ss and "typed_creds" not in kept and KEY not in repr(kept)
    assert any(k.startswith("p:") for k in kept)
    assert KEY not in repr(room.kept_state(dict(ss, **{"p:template": f"use {KEY}"}), {KEY}))


def test_share_a_turn_then_open_it_read_only_after_the_index_is_gone(small, app_root):
    at = opened(page="chat")
    at.chat_input[0].set_value(f"What is the capital of Kenya? my key is {KEY}").run()
    assert not errors(at), errors(at)
    at.button(key="share_turn").click().run()
    link = next(c.value for c in at.code if c.value.startswith("?snapshot="))
    assert link.startswith("?snapshot=")
    snap_id = link.split("=", 1)[1]
    home = Path(__import__("os").environ["RAG_PLAYGROUND_HOME"])
    raw = (home / "snapshots" / f"{snap_id}.json").read_text()
    assert KEY not in raw and "Nairobi" in raw  # the session export's redaction
    shutil.rmtree(app_root / "small")
    view = app()
    view.query_params["snapshot"] = snap_id
    view.run()
    assert not errors(view), errors(view)
    assert "Snapshot" in view.title[0].value
    note = view.caption[0].value
    assert "taken" in note and "generation" in note and "small" in note
    assert any("Nairobi" in t.value for t in view.text)
    guessed = app()
    guessed.query_params["snapshot"] = "A" * 22
    guessed.run()
    assert "no such snapshot" in guessed.error[0].value
    assert SnapshotStore(home / "snapshots").list()[0].kind == "chat"


def test_share_an_evaluation_run_with_its_chart(app_root):
    from rag_core.ingest.demo import demo_documents
    from rag_core.evaluation.evaluate import demo_question_set

    wanted = {s for q in demo_question_set().questions for s in q.relevant_sources}
    docs = [d for d in demo_documents() if d.source in wanted]
    index = Index.create(app_root / "small", create_embedder("hashing"), "numpy", ChunkingConfig(size=400))
    index.ingest(docs)
    index.save()
    at = AppTest.from_file(str(ROOT / "pages" / "evaluate.py"), default_timeout=60).run()
    at.button(key="eval_run_button").click().run()
    at.button(key="eval_share").click().run()
    assert not errors(at), errors(at)
    snap_id = next(c.value for c in at.code if c.value.startswith("?snapshot=")).split("=", 1)[1]
    home = Path(__import__("os").environ["RAG_PLAYGROUND_HOME"])
    doc = SnapshotStore(home / "snapshots").load(snap_id)
    assert doc["kind"] == "evaluate" and doc["data"]["chart"] and doc["data"]["results"]["question_set"]
    shutil.rmtree(app_root / "small")
    view = app()
    view.query_params["snapshot"] = snap_id
    view.run()
    assert not errors(view), errors(view)
    assert "Question set" in view.markdown[0].value and view.get("plotly_chart")


def test_the_writer_thread_writes_a_changed_session_once_and_says_when_it_is_too_large(tmp_path):
    """Sessions are written off the script thread (a long end-of-run save lost questions sent
    meanwhile): an unchanged session is not rewritten, an oversize one is a note, not a crash."""
    from rag_core.room.store import SessionStore, new_token
    from ui import room

    sessions, token = SessionStore(tmp_path / "sessions", max_bytes=2_000), new_token()
    assert room.write_kept(sessions, token, {"chat_history": ["a"]}) is None
    path = next(p for p in (tmp_path / "sessions").iterdir() if not p.name.startswith("."))
    written = path.stat().st_mtime_ns
    assert room.write_kept(sessions, token, {"chat_history": ["a"]}) is None
    assert path.stat().st_mtime_ns == written  # the same state: no second write
    note = room.write_kept(sessions, token, {"chat_history": ["x" * 5_000]})
    assert note and "at most 2,000" in note
    assert sessions.load(token) == {"chat_history": ["a"]}  # the last smaller copy is kept
    assert "cannot be kept" in room.write_kept(sessions, token, {"chat_history": [lambda: None]})
