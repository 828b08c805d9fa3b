"""What every page needs before it draws: wide layout and remembered widget values.

app.py calls it, and so does each page: Streamlit runs a page file on its own (without
app.py) when a `pages/` folder sits next to the entry script and the first request of a
fresh server (or an AppTest) opens that page directly. Calling it twice is harmless.
"""

import streamlit as st

from . import state


def page_setup() -> None:
    st.set_page_config(page_title="RAG Playground", page_icon=":material/search:", layout="wide")
    state.preserve_widgets()
