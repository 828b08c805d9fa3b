"""RAG Playground: `streamlit run app.py`. Navigation only; each page lives in pages/.

Layering: app.py -> pages/ -> ui/ -> rag_core. A shared server's sign-in, kept sessions and
snapshot links are ui/room.py's.
"""

from ui import room
from ui.guard import guard
from ui.layout import app_run, navigation, page_setup

with app_run(globals()):
    page_setup()
    page = navigation()
    room.gate()
    room.keep_session()
    try:
        with guard():  # the last line of defence: any failure on a page is an st.error, never a traceback
            snapshot = room.snapshot_requested()
            if snapshot is not None:
                room.snapshot_view(snapshot)
            else:
                page.run()
    finally:
        room.save_session()
