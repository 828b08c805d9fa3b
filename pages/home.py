"""Home: what the app is, one button that loads the demo corpus so Chat works at once, and sample
questions that open Chat and ask."""

import streamlit as st

from rag_core.index import index as rindex
from rag_core.ingest.demo import ATTRIBUTION, SAMPLE_QUESTIONS
from rag_core.index import saved
from ui import indexes, share, state
from ui.guard import guard
from ui.layout import page_setup
from ui.progress import DEMO_BUILD_TIME, BuildProgress

page_setup()

st.title(":material/search: RAG Playground")
st.markdown(
    "Explore your documents with retrieval-augmented generation, and **see why every answer came out**: "
    "the chunks retrieved and their labelled scores, the exact prompt, and the tokens and dollars it cost. "
    "Everything runs offline on this machine: a local embedding model, a local vector store and an "
    "extractive answerer that quotes your documents."
)

with guard("loading the demo corpus"):
    first_build = not rindex.exists(saved.index_dir(saved.DEMO_NAME))
    if st.button("Load the demo corpus", icon=":material/library_books:", type="primary", key="load_demo"):
        bar = st.progress(0.0, text="Embedding the demo corpus…")
        index = indexes.ensure_demo_index(BuildProgress(bar))
        bar.empty()
        state.set_active_index(saved.DEMO_NAME)
        st.session_state["demo_loaded"] = index.manifest.n_chunks
    elif first_build:
        st.caption(DEMO_BUILD_TIME)

if st.session_state.get("demo_loaded"):
    st.success(f"The demo index is ready ({st.session_state['demo_loaded']} chunks). Go ahead and ask a question.")
    st.page_link("pages/chat.py", label="Go to Chat", icon=":material/chat:")
if st.session_state.get("demo_loaded") or saved.DEMO_NAME in saved.index_names():
    st.markdown("Try a question on the demo corpus (it opens Chat and asks):")
    # a wrapping row of content-wide buttons: five equal columns cut every question off at ~15 characters
    row = st.container(horizontal=True)
    for n, sample in enumerate(SAMPLE_QUESTIONS):
        if row.button(sample, key=f"sample_question_{n}", icon=":material/chat:", width="content"):
            share.ask_in_chat(sample, saved.DEMO_NAME)
    st.caption(ATTRIBUTION)

st.divider()
steps = [
    ("pages/data.py", "Data", ":material/description:",
     "Upload pdf, txt, md, html, csv, docx or zip files; see every row and what the filter drops."),
    ("pages/index.py", "Index", ":material/view_in_ar:",
     "Choose chunking with a live preview, the embedder and store; build and manage indexes."),
    ("pages/chat.py", "Chat", ":material/chat:", "Ask questions; each answer shows its chunks, scores, prompt and cost."),
    ("pages/explore.py", "Explore", ":material/scatter_plot:", "See all chunk embeddings on a 2-D map, and where a query lands."),
    ("pages/evaluate.py", "Evaluate", ":material/fact_check:",
     "Score top-k, rerankers and thresholds against questions with known answers."),
    ("pages/settings.py", "Settings", ":material/settings:", "API keys for this session only, base URLs, and the dated price table."),
]
for col, (target, title, icon, text) in zip(st.columns(len(steps)), steps):
    col.page_link(target, label=f"**{title}**", icon=icon)
    col.caption(text)
