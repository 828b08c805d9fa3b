"""RAG Playground: `streamlit run app.py`. Navigation only; each page lives in pages/.

Layering: app.py -> pages/ -> ui/ -> rag_core.
"""

from ui.guard import guard
from ui.layout import app_run, navigation, page_setup

with app_run(globals()):
    page_setup()
    page = navigation()
    with guard():  # the last line of defence: any failure on a page is an st.error, never a traceback
        page.run()
