"""RAG Playground: `streamlit run app.py`. Navigation only; each page lives in pages/.

Layering: app.py -> pages/ -> ui/ -> rag_core.
"""

import streamlit as st

from ui.guard import guard
from ui.layout import page_setup

page_setup()
page = st.navigation(
    [
        st.Page("pages/home.py", title="Home", icon=":material/home:", default=True),
        st.Page("pages/data.py", title="Data", icon=":material/description:"),
        st.Page("pages/index.py", title="Index", icon=":material/view_in_ar:"),
        st.Page("pages/chat.py", title="Chat", icon=":material/chat:"),
        st.Page("pages/explore.py", title="Explore", icon=":material/scatter_plot:"),
        st.Page("pages/evaluate.py", title="Evaluate", icon=":material/fact_check:"),
        st.Page("pages/settings.py", title="Settings", icon=":material/settings:"),
    ]
)
with guard():  # the last line of defence: any failure on a page is an st.error, never a traceback
    page.run()
