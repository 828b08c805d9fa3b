"""The Settings page's provider rows: API key (typed for this session only), base URL, where
the key in use comes from, and "Test connection".

A typed key is moved out of its password field into st.session_state (ui/providers.py) as
soon as it is entered, and the field is cleared: the key is never sent back to the browser,
never shown (only `set (…abcd)`), never written to disk or a log. A base URL typed with a
user:password part loses it at once (with a note): a key belongs in the key field.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from rag_core.providers.credentials import SECRET_FIELDS, has_userinfo, strip_userinfo

from ui import providers, widgets
from rag_core.core.errors import RagError
from rag_core.stores.pg_server import guard_typed_dsn
from rag_core.stores.pg_server import redact_dsn

TITLES = {"openai": "OpenAI", "cohere": "Cohere", "compatible": "OpenAI-compatible server"}
URL_HINTS = {"openai": "https://api.openai.com/v1 (default)", "cohere": "https://api.cohere.com (default)",
             "compatible": "e.g. http://127.0.0.1:11434/v1 for Ollama"}


def _take(widget_key: str, field: str) -> None:
    """on_change: keep what was typed in the session's credentials, then clear the widget."""
    value = st.session_state.get(widget_key)
    if field not in SECRET_FIELDS and value and has_userinfo(value):
        value = strip_userinfo(value)
        st.session_state[widget_key] = value
        st.session_state[f"userinfo_note:{field}"] = True
    providers.set_typed(field, value)
    if field in SECRET_FIELDS:
        st.session_state[widget_key] = ""


def _forget(field: str) -> None:
    providers.set_typed(field, None)


def provider_row(provider: str) -> None:
    key_field, url_field = providers.PROVIDERS[provider]
    st.markdown(f"**{TITLES[provider]}**")
    c1, c2, c3 = st.columns([2, 2, 2])
    key_widget = f"key_input:{provider}"
    optional = " (optional)" if provider == "compatible" else ""
    c1.text_input(f"{TITLES[provider]} API key{optional}", type="password", key=key_widget,
                  on_change=_take, args=(key_widget, key_field),
                  placeholder="type to set it for this session; Enter to apply")
    url_widget = f"url_input:{provider}"
    if url_widget not in st.session_state:
        st.session_state[url_widget] = providers.typed_values().get(url_field, "")
    c2.text_input(f"{TITLES[provider]} base URL", key=url_widget, on_change=_take, args=(url_widget, url_field),
                  placeholder=URL_HINTS[provider])
    c3.markdown(f"**Key in use:** {widgets.md_escape(providers.key_origin(key_field))}")
    note = f"Base URL in use: {widgets.md_escape(providers.url_note(provider))}"
    if providers.typed_url_refusal(provider):
        c3.error(note, icon=":material/block:")
    else:
        c3.caption(note)
    if st.session_state.pop(f"userinfo_note:{url_field}", False):
        c2.warning("The user:password part was removed from the base URL and not kept: type the key in the "
                   "API key field instead.", icon=":material/key_off:")
    if key_field in providers.typed_values():
        c3.button("Forget the typed key", key=f"forget:{provider}", on_click=_forget, args=(key_field,))
    t1, t2 = st.columns([2, 4])
    model = t1.text_input("Model to check (optional)", key=f"test_model:{provider}",
                          placeholder="e.g. gpt-4o-mini" if provider != "cohere" else "e.g. rerank-v3.5")
    t2.write("")
    if t2.button("Test connection", key=f"test:{provider}", icon=":material/network_check:"):
        with st.spinner(f"Asking {TITLES[provider]} for its models…"):
            report = providers.test(provider, model.strip() or None)
        show_report(report)


def show_report(report) -> None:
    if report.ok:
        st.success(widgets.md_escape(report.message), icon=":material/check_circle:")
    else:
        st.error(widgets.md_escape(report.message), icon=":material/error:")
    if report.models:
        st.dataframe(pd.DataFrame({"models the server lists": list(report.models)}), hide_index=True,
                     height=min(300, 38 + 35 * len(report.models)))


_DSN_WIDGET = "dsn_input"
_DSN_PROBLEM = "dsn_problem"


def _take_dsn() -> None:
    """on_change: check the typed DSN like a typed base URL (address guard, pinned host), keep
    it for this session only, and clear the field (it may hold a password)."""

    typed = (st.session_state.get(_DSN_WIDGET) or "").strip()
    st.session_state[_DSN_WIDGET] = ""
    st.session_state.pop(_DSN_PROBLEM, None)
    if not typed:
        return
    try:
        providers.set_typed("pg_dsn", guard_typed_dsn(typed, providers.credentials().allow_local_servers))
    except RagError as exc:
        providers.set_typed("pg_dsn", None)
        st.session_state[_DSN_PROBLEM] = str(exc)


def database_row() -> None:
    """The pgvector store's server for this session: a DSN typed here beats RAG_PG_DSN and
    secrets.toml for this browser session only; never shown again, never written anywhere."""

    c1, c2 = st.columns([3, 2])
    c1.text_input("PostgreSQL DSN for the pgvector store (this session)", type="password", key=_DSN_WIDGET,
                  on_change=_take_dsn, placeholder="postgresql://user:password@db.example.com:5432/rag; Enter to apply",
                  help="Needs the vector extension (CREATE EXTENSION vector) and CREATE on the schema. "
                       "Without one, the operator's RAG_PG_DSN / secrets.toml, else an embedded server, is used.")
    problem = st.session_state.get(_DSN_PROBLEM)
    current = providers.typed_values().get("pg_dsn")
    if problem:
        # the field was emptied when it was refused (it may hold a password): clearing it cannot
        # fire on_change again, so the refusal has its own way out
        c2.error(widgets.md_escape(problem), icon=":material/block:")
        c2.button("Dismiss", key="dismiss_dsn", on_click=st.session_state.pop, args=(_DSN_PROBLEM, None))
    elif current:
        c2.caption(f"In use for this session: {widgets.md_escape(redact_dsn(current))}")
        c2.button("Forget it", key="forget_dsn", on_click=providers.set_typed, args=("pg_dsn", None))
    else:
        c2.caption("In use: the operator's configuration (or the embedded server)")
