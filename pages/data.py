"""Data: upload files or crawl a website (or take the demo corpus), see what happened to each
file or URL, then the documents table and what the content filter drops."""

import streamlit as st

from rag_core.ingest.demo import demo_documents
from rag_core.ingest.loaders import SUPPORTED_SUFFIXES
from ui import crawl, data, state
from ui.guard import guard
from ui.layout import page_setup

page_setup()

st.title(":material/description: Data")
st.markdown("Upload files, crawl a website, or take the demo corpus; check what was read, then build an "
            "index on **Index**.")

upload_tab, crawl_tab, demo_tab = st.tabs(["Upload files", "Crawl a website", "Demo corpus"])

upload_report = None
with upload_tab, guard("reading the uploaded files"):
    left, right = st.columns([3, 1])
    uploader_was_kept = "uploads" in st.session_state  # False on the first run after another page
    files = left.file_uploader(f"Files ({', '.join(SUPPORTED_SUFFIXES)})", accept_multiple_files=True,
                               key="uploads", help="Any file may be dropped here: ones that cannot be read are "
                                                   "listed with the reason.")
    left.caption(data.upload_limits_caption())
    if files:
        uploads = [data.Upload.of(f) for f in files if data.is_csv(f.name)]
        columns = data.csv_column_choices(uploads, right)
        upload_report, is_new = data.load_uploads(files, columns)
        if is_new:
            st.session_state["data_source"] = "upload"
            state.use_data_page_documents()
        data.show_file_status(upload_report)
    earlier = data.earlier_upload(bool(files), uploader_was_kept)
    if earlier is not None:
        upload_report = earlier
        data.show_file_status(earlier)

crawl_report = None
with crawl_tab, guard("crawling"):
    crawl_report = crawl.section()

with demo_tab:
    st.markdown("A slice of Wikipedia summaries (CC BY-SA), bundled for trying things offline.")
    if st.button("Use the demo corpus", key="use_demo"):
        st.session_state["data_source"] = "demo"
        state.use_data_page_documents()

source = st.session_state.get("data_source")
if source == "upload" and upload_report is not None:
    documents, label = list(upload_report.documents), "source"
    st.info(f"Showing the uploaded files: {len(documents)} document(s).", icon=":material/upload_file:")
elif source == "crawl" and crawl_report is not None:
    documents, label = list(crawl_report.documents), "url"
    st.info(f"Showing the crawled pages: {len(documents)} document(s).", icon=":material/travel_explore:")
elif source == "demo":
    documents, label = demo_documents(), "source"
    st.info(f"Showing the bundled demo corpus: {len(documents)} Wikipedia summaries.", icon=":material/menu_book:")
else:
    documents, label = [], "source"
    st.info("Upload some files, crawl a website, or use the demo corpus, to see them as a table.")

if documents:
    with guard("filtering the documents"):
        data.filter_and_stage(documents, label)
