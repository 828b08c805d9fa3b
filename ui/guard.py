"""No traceback reaches the page: `with guard("building the index"):` shows an st.error instead.

RagError messages say what happened, and ui/advice.py words what to do in the app's terms (by the
error's kind: an index by its name, never the server's path); anything else is a bug, shown
as one line with a hint, while the traceback goes to the server log for the developer.
Streamlit's own control flow (st.rerun, st.stop) derives from BaseException and passes through.
"""

from __future__ import annotations

import logging
import traceback
from contextlib import contextmanager
from typing import Iterator

import streamlit as st

from rag_core.core.errors import RagError

from ui import advice
from rag_core.providers import redact
from ui import providers

log = logging.getLogger("rag_playground")


def _clean(text: object) -> str:
    """`text` with every key this session or the operator configured masked."""

    try:
        return redact(text, providers.credentials())
    except Exception:  # noqa: BLE001 - a broken secrets.toml must not hide the error itself
        return redact(text)


def show_error(exc: BaseException, doing: str = "") -> None:
    what = f"While {doing}: " if doing else ""
    if isinstance(exc, RagError):
        st.error(f"{what}{advice.error_text(exc, _clean(exc))}", icon=":material/warning:")
    elif isinstance(exc, OSError):
        detail = exc.strerror or str(exc)
        st.error(f"{what}a file operation failed ({detail}{': ' + str(exc.filename) if exc.filename else ''}). "
                 "Check the path and its permissions, then try again.", icon=":material/warning:")
    else:
        log.error("unexpected error while %s: %s", doing or "rendering a page",
                  _clean("".join(traceback.format_exception(exc))))
        st.error(f"{what}an unexpected error happened ({type(exc).__name__}: {_clean(exc)[:200]}). "
                 "Try again; if it persists, reload the page or rebuild the index, and report it "
                 "with the server log.", icon=":material/error:")


@contextmanager
def guard(doing: str = "") -> Iterator[None]:
    try:
        yield
    except Exception as exc:  # noqa: BLE001 - the point: never a traceback on the page
        show_error(exc, doing)
