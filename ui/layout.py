"""The app's navigation (one list of pages) and what every page needs before it draws.

app.py declares the navigation with `navigation()` and runs the chosen page inside
`app_run()`; every page file calls `page_setup()` first. Streamlit runs a page file on its
own, under its automatic pages-folder navigation, when a `pages/` folder sits next to the
entry script and the first request of a fresh server is a deep link such as /chat (app.py
has not yet called st.navigation in this process). `page_setup()` notices that the page
runs without app.py, declares the app's own navigation (public `st.navigation`, which
Streamlit documents as replacing the pages-folder mode) and reruns once: the URL keeps the
page, so app.py's navigation resolves the same page. Only public APIs are used.
"""

from __future__ import annotations

import contextlib
import contextvars
import os
import sys
from pathlib import Path
from typing import Iterator

import streamlit as st

from rag_core.core import tokens
from rag_core.core.paths import home_path

from ui import room, state
from rag_core.core.settings import OperatorSettings, configure, current, is_pinned
from rag_core.core.errors import ConfigError
from rag_core.stores import pg_server
from rag_core.stores.pg_limits import PgLimits

#: shipped with the app: a `:material/...:` page icon makes the browser fetch it from fonts.gstatic.com
ICON = Path(__file__).resolve().parent / "assets" / "icon.png"

ROOT = Path(__file__).resolve().parents[1]
ENTRY = ROOT / "app.py"
_REROUTED = "rerouted_through_app"
#: set while app.py runs a page (per script thread): a page without it runs in pages-folder mode
_in_app: contextvars.ContextVar[bool] = contextvars.ContextVar("rag_in_app", default=False)

#: (file under pages/, title, icon, default)
PAGES: tuple[tuple[str, str, str, bool], ...] = (
    ("home.py", "Home", ":material/home:", True),
    ("data.py", "Data", ":material/description:", False),
    ("index.py", "Index", ":material/view_in_ar:", False),
    ("chat.py", "Chat", ":material/chat:", False),
    ("explore.py", "Explore", ":material/scatter_plot:", False),
    ("evaluate.py", "Evaluate", ":material/fact_check:", False),
    ("settings.py", "Settings", ":material/settings:", False),
)


def navigation():
    """The app's own navigation over pages/ (st.navigation; returns the page to run). The shipped
    favicon is set first: a page's `:material/...:` icon would otherwise become the favicon of a
    session's first page, fetched from fonts.gstatic.com (the frontend skips it once one is set)."""
    st.set_page_config(page_title="RAG Playground", page_icon=ICON, layout="wide")
    return st.navigation([st.Page(f"pages/{file}", title=title, icon=icon, default=default)
                          for file, title, icon, default in PAGES])


@contextlib.contextmanager
def app_run(entry_globals: dict) -> Iterator[None]:
    """Marks this script run as app.py's, so pages know they were reached through its navigation.
    `entry_globals` is app.py's globals(): when they are not the __main__ module's, Streamlit's
    pages-folder mode is running app.py as one of its pages, so reroute (once) as well."""
    if entry_globals is not vars(sys.modules["__main__"]):
        _reroute_once()
    token = _in_app.set(True)
    try:
        yield
    finally:
        _in_app.reset(token)


def _runs_without_app() -> bool:
    """True when the entry script is app.py but app.py's navigation did not run this page.
    A page run on its own (an AppTest of pages/x.py) has itself as the entry script."""
    if _in_app.get():
        return False
    main = getattr(sys.modules.get("__main__"), "__file__", None)
    return main is not None and Path(main).resolve() == ENTRY


def _reroute_once() -> None:
    if not st.session_state.get(_REROUTED):
        st.session_state[_REROUTED] = True  # at most once per session, whatever happens
        navigation()
        st.rerun()


#: the few style fixes every page needs: a multiselect's chosen tags show their whole text and
#: wrap onto more lines (Streamlit scrolls them sideways, hiding "pool-rrf" behind a fade)
STYLE = ("<style>"
         '.stMultiSelect div[role="group"],.stMultiSelect [data-testid="stMultiSelectTagsContainer"]'
         "{height:auto;max-height:none}"
         '.stMultiSelect [data-testid="stMultiSelectTagsContainer"]'
         "{overflow:visible;flex-wrap:wrap;mask-image:none;-webkit-mask-image:none}"
         '.stMultiSelect [data-testid="stMultiSelectTagsContainer"]>span[role="group"]{flex-wrap:wrap}'
         ".stMultiSelect [data-tag]{max-width:none;height:auto}"
         ".stMultiSelect [data-tag]>span{max-width:none;overflow:visible;text-overflow:clip;white-space:normal}"
         "</style>")


def page_setup() -> None:
    if _runs_without_app():
        _reroute_once()
    st.set_page_config(page_title="RAG Playground", page_icon=ICON, layout="wide")
    st.html(STYLE)  # only a <style>: Streamlit adds it to the page without taking any space
    _configure_operator()  # first: a broken secrets file stops here, before the sign-in reads it
    room.gate()  # app.py gated already; a page run on its own (pages-folder mode, AppTest) is gated too
    room.keep_session()
    state.preserve_widgets()


def _configure_operator() -> None:
    """The operator's settings (environment, .streamlit/secrets.toml), read here at the start of each
    run and passed down; a broken secrets file stops the page with what to do. The pgvector store's
    waits and limits (RAG_PG_*): a bad value is named on the page and the defaults are kept."""
    if is_pinned():  # an in-process benchmark chose them
        settings = current()
    else:
        try:
            settings = OperatorSettings.load(os.environ)
        except ConfigError as exc:
            st.error(f"The server's settings cannot be read: {exc}", icon=":material/error:")
            st.stop()
        configure(settings)
    tokens.configure(home_path() / "tiktoken")  # parsed tokenizer ranks, kept under the app's home
    try:
        pg_server.configure(PgLimits.from_env(settings.environ))
    except ConfigError as exc:
        st.warning(f"{exc} (the defaults are used)")
