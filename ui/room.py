"""A shared server ("a room"): sign-in, sessions that survive a reload, and snapshots.

- Sign-in (`gate`): `.streamlit/secrets.toml` may hold an `[auth]` section (Streamlit's `st.login`,
  OIDC; checked by rag_core.room.auth before use) and/or `[room] password`. Keys typed on
  Settings stay in this browser session's st.session_state only (ui/providers.py), whoever signs in.
- Sessions (`keep_session` at the start of a run, `save_session` at its end): the token is kept
  ONLY in a `SameSite=Strict` cookie set by this page, never in the URL. A link, from any
  origin, carries no session, and the URL a person copies or shares does not hand over their
  chat. Another browser has no cookie, so it starts its own session. What is kept: the chat
  and compare histories, the blind votes and the `p:` settings (never keys, base URLs or a DSN).
- Snapshots (`share_*`, `snapshot_view`): a redacted JSON copy of a result, opened with
  `?snapshot=<id>`; it never needs the index.
"""

from __future__ import annotations

import hashlib
import json
import pickle
import re
from pathlib import Path
from typing import Any, Mapping, Sequence

import plotly.io as pio
import streamlit as st

from rag_core.index import saved
from rag_core.core import paths
from rag_core.core.errors import RagError
from rag_core.index.index import live_generation
from rag_core.room.auth import RoomAuth, check_password
from rag_core.room.store import SessionStore, SnapshotStore, TooLarge, dumps, new_token
from rag_core.answer.session_export import redact_tree, turn_dict

from ui import cache, providers, state, widgets

COOKIE = "rag_session"
_TOKEN, _SET_COOKIE, _NOTE, _WRITING = "room_token", "room_set_cookie", "room_note", "room_writing"
_SIGNED_IN = "room_password_ok"
#: session_state keys kept across a reload besides the `p:` settings
KEPT = ("chat_history", "compare_history", "blind_votes", "active_index")
#: a setting whose name says it may hold a secret is never written to disk
_SECRETISH = re.compile(r"key|url|dsn|password|token|secret", re.I)


def stores() -> tuple[SessionStore, SnapshotStore]:
    """The room's stores under the playground home directory (read once at app start)."""
    return cache.room_stores(str(paths.home()))


# ---- sign-in ----------------------------------------------------------------------------------


def _secrets() -> dict[str, Any]:
    try:
        return {k: dict(v) if hasattr(v, "keys") else v for k, v in st.secrets.items()}
    except (FileNotFoundError, OSError, ValueError):
        return {}
    except Exception:  # noqa: BLE001 - st.secrets raises its own parse error for a broken secrets.toml
        return {}


def gate(auth: RoomAuth | None = None) -> None:
    """Stop the run until this browser session has signed in (when the operator asks for it)."""
    auth = RoomAuth.from_secrets(_secrets()) if auth is None else auth
    if auth.problems:
        st.error("Sign-in is configured in .streamlit/secrets.toml but cannot work: " + "; ".join(auth.problems)
                 + ". The operator must fix it; nothing else is shown meanwhile.", icon=":material/lock:")
        st.stop()
    if auth.oidc and not dict(st.user).get("is_logged_in", False):
        st.title("RAG Playground")
        st.button("Sign in", on_click=st.login, args=(auth.provider,), icon=":material/login:", key="room_login")
        st.stop()
    if auth.password and not st.session_state.get(_SIGNED_IN):
        st.title("RAG Playground")
        typed = st.text_input("Room password", type="password", key="room_password")
        if st.button("Enter", key="room_enter", icon=":material/login:") or typed:
            if check_password(typed or "", auth.password):
                st.session_state[_SIGNED_IN] = True
                del st.session_state["room_password"]
                st.rerun()
            st.error("That is not the room's password.")
        st.stop()


# ---- sessions that survive a reload ---------------------------------------------------------


def kept_state(ss: Mapping[str, Any], secrets: set[str]) -> dict[str, Any]:
    """What a reload brings back: KEPT, and the `p:` settings of plain types whose name and
    value are not a secret (`secrets`: this session's keys). Keys, base URLs and a DSN typed on
    Settings live under other keys (`typed_creds`, `key_input:*`) and are never included."""
    out = {k: ss[k] for k in KEPT if k in ss}
    for key in list(ss.keys()):
        if not (isinstance(key, str) and key.startswith(state.P)) or _SECRETISH.search(key):
            continue
        value = ss[key]
        if value is None or isinstance(value, (bool, int, float)) or (
                isinstance(value, str) and len(value) <= 20_000 and not any(s and s in value for s in secrets)):
            out[key] = value
    return out


def snapshot_of_session() -> dict[str, Any]:
    return kept_state(st.session_state, set(providers.credentials().secrets()))


def keep_session() -> None:
    """At the start of a run: the first run of a browser session takes back what its cookie's
    token kept (a reload, a lost connection), or starts a new token and sets the cookie."""
    ss = st.session_state
    sessions, _ = stores()
    if _TOKEN not in ss:
        token = st.context.cookies.get(COOKIE)
        flush_writes()  # this browser's previous session may still be in the writer's queue
        saved = sessions.load(token)
        if saved is None:
            token = new_token()
            sessions.sweep()
            ss[_SET_COOKIE] = True
        else:
            for key, value in saved.items():
                ss[key] = value
        ss[_TOKEN] = token
    if ss.get(_SET_COOKIE):
        ss[_SET_COOKIE] = False
        age = int(sessions.ttl_s)
        st.html(f"<script>document.cookie = '{COOKIE}={ss[_TOKEN]}; Path=/; Max-Age={age}; SameSite=Strict'"
                f" + (location.protocol === 'https:' ? '; Secure' : '');</script>", unsafe_allow_javascript=True)


def save_session() -> None:
    """At the end of a run: hand what a reload brings back to the writer thread, which writes it
    when it changed. The run ends at once; the write's outcome (too large, cannot be pickled) is
    shown as a note from the next run on."""
    ss = st.session_state
    token = ss.get(_TOKEN)
    if token is None:
        return
    _take_note(ss)
    kept = {k: list(v) if isinstance(v, list) else dict(v) if isinstance(v, dict) else v
            for k, v in snapshot_of_session().items()}  # copies: the next run appends to the originals
    ss[_WRITING] = cache.session_writer().submit(write_kept, stores()[0], token, kept)


#: token -> digest of what was last written for it (only the writer thread touches it)
_WRITTEN: dict[str, str] = {}


def write_kept(sessions: SessionStore, token: str, kept: dict[str, Any]) -> str | None:
    """In the writer thread: write `kept` unless it is what was written last; None, or a note."""
    try:
        data = dumps(kept)
    except (pickle.PicklingError, TypeError, AttributeError) as exc:
        return f"This session cannot be kept across a reload ({type(exc).__name__}: {exc}); export it instead."
    digest = hashlib.sha256(data).hexdigest()
    if _WRITTEN.get(token) == digest:
        return None
    try:
        sessions.save(token, kept)
    except TooLarge as exc:
        return str(exc)
    if len(_WRITTEN) >= 2_000:  # a long-running server: forget old tokens (a rewrite costs one write)
        _WRITTEN.clear()
    _WRITTEN[token] = digest
    return None


def _take_note(ss) -> None:
    """The last finished write's note (or none) becomes this session's note."""
    writing = ss.get(_WRITING)
    if writing is not None and writing.done():
        note = writing.result()
        if note:
            ss[_NOTE] = note
        else:
            ss.pop(_NOTE, None)


def flush_writes() -> None:
    """Wait until every handed-over session is on disk (a reload reads what was written)."""
    cache.session_writer().submit(lambda: None).result()


def session_note() -> str | None:
    return st.session_state.get(_NOTE)


# ---- snapshots --------------------------------------------------------------------------------


def _generation(index: str) -> str:
    try:
        return live_generation(saved.index_dir(index)).name
    except (RagError, OSError):
        return "unknown"


def _save(kind: str, title: str, index: str, data: dict[str, Any]) -> None:
    data = redact_tree(data, providers.credentials())
    try:
        snap_id = stores()[1].save(kind, redact_tree(title, providers.credentials()), index, _generation(index), data)
    except TooLarge as exc:
        st.session_state["room_share"] = ("error", str(exc))
        return
    st.session_state["room_share"] = ("link", f"?snapshot={snap_id}")


def share_turn(entry: state.ChatEntry) -> None:
    _save("chat", entry.answer.question, entry.index, {"turns": [turn_dict(entry)]})


def share_compare(entry) -> None:
    data = {"question": entry.question, "blind": entry.blind,
            "sides": {"A": {"config": entry.config_a, **turn_dict(entry.a), "error": entry.a.error},
                      "B": {"config": entry.config_b, **turn_dict(entry.b), "error": entry.b.error}}}
    _save("compare", entry.question, entry.a.index, data)


def share_eval(run_, results_json: str, chart) -> None:
    data = {"results": json.loads(results_json), "chart": chart.to_json() if chart is not None else None}
    _save("evaluate", f"{run_.question_set} on {', '.join(run_.indexes)}", run_.indexes[0] if run_.indexes else "",
          data)


def share_result() -> None:
    """The link (or why not) from the last Share press; call where the button is."""
    result = st.session_state.pop("room_share", None)
    if result is None:
        return
    kind, text = result
    if kind == "error":
        st.error(text)
    else:
        st.success("Snapshot saved. Its link (read-only; anyone who can open this server and has it can view it):")
        st.code(text)


def snapshot_view(snapshot_id: str) -> None:
    """A snapshot, read-only: when it was taken, with which index generation; no index needed."""
    doc = stores()[1].load(snapshot_id)
    if doc is None:
        st.error("There is no such snapshot here (it may have been deleted by the operator).")
        return
    st.title(":material/photo_camera: Snapshot")
    st.caption(f"Read-only {widgets.md_escape(doc['kind'])} snapshot taken {widgets.md_escape(doc['taken_at'])} "
               f"on index {widgets.md_escape(doc['index'])} (generation {widgets.md_escape(doc['generation'])}).")
    data = doc.get("data") or {}
    if doc["kind"] == "chat":
        for turn in data.get("turns", []):
            _turn(turn)
    elif doc["kind"] == "compare":
        st.subheader(widgets.md_escape(data.get("question", "")))
        cols = st.columns(2)
        for col, side in zip(cols, ("A", "B")):
            with col:
                s = data.get("sides", {}).get(side, {})
                st.markdown(f"**{side}**: {widgets.md_escape(s.get('config', ''))}")
                if s.get("error"):
                    st.error(widgets.md_escape(s["error"]))
                _turn(s, question=False)
    elif doc["kind"] == "evaluate":
        results = data.get("results", {})
        st.markdown(f"**Question set:** {widgets.md_escape(results.get('question_set', ''))} · "
                    f"{results.get('questions', '?')} questions · best by {widgets.md_escape(results.get('best_by', ''))}")
        if data.get("chart"):
            st.plotly_chart(pio.from_json(data["chart"]), width="stretch", key="snapshot_chart")
        st.json(results.get("results", []), expanded=False)


def _turn(turn: dict[str, Any], question: bool = True) -> None:
    if question:
        with st.chat_message("user"):
            st.text(turn.get("question", ""))
    with st.chat_message("assistant"):
        st.text(turn.get("answer", "") or "(empty answer)")
        costs = turn.get("costs", {})
        st.caption(f"{costs.get('total_tokens', 0):,} tokens · ${costs.get('cost_usd', 0):.6f} · "
                   f"settings: {widgets.md_escape(json.dumps(turn.get('settings', {}), default=str))}")
        for hit in turn.get("hits", []):
            st.markdown(f"**#{hit.get('rank')}** {widgets.md_escape(hit.get('score_kind', ''))} "
                        f"{hit.get('score', 0):.3f} · {widgets.md_escape(hit.get('source', ''))}")
            st.text(hit.get("text", ""))


def snapshot_requested() -> str | None:
    value = st.query_params.get("snapshot")
    return value if isinstance(value, str) else None


def share_buttons(entries: Sequence[Any], compare_entries: Sequence[Any]) -> None:
    """The sidebar's Share: the last chat turn, or the last comparison."""
    st.caption("A read-only link to a result (answer, hits, scores, costs, settings; never keys)")
    c1, c2 = st.columns(2)
    c1.button("Share last turn", key="share_turn", disabled=not entries, icon=":material/share:",
              on_click=lambda: share_turn(entries[-1]) if entries else None)
    c2.button("Share last compare", key="share_compare", disabled=not compare_entries, icon=":material/share:",
              on_click=lambda: share_compare(compare_entries[-1]) if compare_entries else None)
    share_result()
