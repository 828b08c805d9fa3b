"""Data: upload files, see each file's status, the documents table and what the filter drops."""

import streamlit as st

from rag_core.demo import demo_documents
from rag_core.loaders import LoadReport, SUPPORTED_SUFFIXES
from rag_core.table import content_filter, documents_frame, frame_to_documents
from ui import data, state
from ui.guard import guard
from ui.layout import page_setup

page_setup()

st.title(":material/description: Data")
st.markdown(f"Upload files ({', '.join(SUPPORTED_SUFFIXES)}), check what was read, then build an index on **Index**.")

left, right = st.columns([3, 1])
files = left.file_uploader("Files", accept_multiple_files=True, key="uploads",
                           help="Any file may be dropped here: ones that cannot be read are listed with the reason.")
right.text_input("CSV text column (optional)", key=state.default("csv_column", ""),
                 help="Default: the longest text column.")
if right.button("Use the demo corpus instead", key="use_demo"):
    st.session_state["data_source"] = "demo"

report = LoadReport()
with guard("reading the uploaded files"):
    if files:
        st.session_state["data_source"] = "upload"
        report = data.load_uploads(files, state.get("csv_column"))
        data.show_file_status(report)
        documents = list(report.documents)
    elif st.session_state.get("data_source") == "demo":
        documents = demo_documents()
        st.info(f"Showing the bundled demo corpus: {len(documents)} Wikipedia summaries.")
    else:
        documents = []
        st.info("Upload some files, or use the demo corpus, to see them as a table.")

if documents:
    with guard("filtering the documents"):
        st.subheader("Content filter")
        c1, c2, c3 = st.columns(3)
        min_words = c1.number_input("Drop rows with at most this many words", 0, 10_000,
                                    key=state.default("min_words", 15))
        min_chars = c2.number_input("Drop rows with at most this many characters", 0, 1_000_000,
                                    key=state.default("min_chars", 50))
        result = content_filter(documents_frame(documents), min_words=int(min_words), min_chars=int(min_chars))
        c3.metric("Rows kept", f"{len(result.kept)} of {len(documents)}", delta=-result.total_dropped or None)
        for rule, count in result.dropped.items():
            st.markdown(f"- rule `{rule}` drops **{count}** row(s)")
        st.subheader(f"Documents ({len(result.kept)} kept)")
        st.dataframe(result.kept, hide_index=True, width="stretch", height=420)
        if result.total_dropped:
            with st.expander(f"Rows dropped by the filter ({result.total_dropped})", expanded=False):
                st.dataframe(result.removed, hide_index=True, width="stretch")
        staged = frame_to_documents(result.kept)
        state.set_staged_documents(staged)
        st.success(f"{len(staged)} document(s) ready to index.")
        st.page_link("pages/index.py", label="Go to Index to chunk and embed them", icon=":material/view_in_ar:")
