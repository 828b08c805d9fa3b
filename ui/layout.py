"""What every page needs before it draws: wide layout and remembered widget values.

app.py calls it, and so does each page: Streamlit runs a page file on its own (without
app.py) when a `pages/` folder sits next to the entry script and the first request of a
fresh server (or an AppTest) opens that page directly. Calling it twice is harmless.

In that case Streamlit also draws its old automatic navigation (lowercase file names and an
"app" entry) instead of app.py's st.navigation, and keeps doing so for every session until
someone opens the home page. `page_setup()` notices it (the pages-folder mode is still on)
and reruns once through app.py, so a deep link such as /chat on a fresh server gets the
app's own navigation and the same page.
"""

from pathlib import Path

import streamlit as st

from . import state

#: shipped with the app: a `:material/...:` page icon makes the browser fetch it from fonts.gstatic.com
ICON = Path(__file__).resolve().parents[1] / "static" / "icon.png"

_LEFT = "left_pages_folder_mode"


def _leave_pages_folder_mode() -> None:
    try:
        from streamlit.runtime.pages_manager import PagesManager
    except ImportError:  # a Streamlit without it: nothing to undo
        return
    if getattr(PagesManager, "uses_pages_directory", False) and not st.session_state.get(_LEFT):
        # app.py's st.navigation sets this to False; until it has run once, Streamlit runs page
        # files directly under its automatic navigation. Switch it off and rerun through app.py
        # (the page keeps its URL, so st.navigation resolves the same page). At most once per
        # session: AppTest turns the mode back on before every run.
        st.session_state[_LEFT] = True
        PagesManager.uses_pages_directory = False
        st.rerun()


def page_setup() -> None:
    _leave_pages_folder_mode()
    st.set_page_config(page_title="RAG Playground", page_icon=ICON, layout="wide")
    state.preserve_widgets()
