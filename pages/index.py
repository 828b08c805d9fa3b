"""Index: chunking with a live preview, embedder and store, cost estimate, build (or replace),
a chunking experiment, manage."""

import streamlit as st

from rag_core import costs
from rag_core.ingest.chunking import STRATEGIES
from rag_core.ingest.demo import demo_documents
from rag_core.core.catalog import describe, is_hosted
from rag_core.core.types import ChunkingConfig
from rag_core.index import saved
from ui import experiment, indexing, providers, state, widgets
from ui.guard import guard
from ui.layout import page_setup

page_setup()

st.title(":material/view_in_ar: Index")
staged = state.staged_documents()
origin = st.radio("Documents", [state.DOC_ORIGIN_DATA, "The demo corpus"], horizontal=True,
                  key=state.default("doc_origin", state.DOC_ORIGIN_DATA if staged else "The demo corpus"))
docs = staged if origin == state.DOC_ORIGIN_DATA else demo_documents()
if not docs:
    st.info("No documents from the Data page yet: upload files there, or choose the demo corpus.")

st.subheader("1 · Chunking")
c1, c2, c3 = st.columns(3)
strategy = c1.selectbox("Strategy", list(STRATEGIES), key=state.default("strategy", "recursive"))
unit = "tokens" if strategy == "tokens" else "characters"
size = c2.number_input(f"Size ({unit})", 20, 20_000, step=50, key=state.default("size", 1000))
overlap = c3.number_input(f"Overlap ({unit})", 0, 10_000, step=10, key=state.default("overlap", 100))
config = None
with guard("chunking the documents"):
    candidate = ChunkingConfig(strategy=strategy, size=int(size), overlap=int(overlap))
    if docs:
        chunks, lengths = indexing.chunk_all(docs, candidate)  # a bad size/overlap stops here, once
    config = candidate
    if docs:
        left, right = st.columns([3, 2])
        labels = [f"{d.section or d.source} ({d.source.rsplit('/', 1)[-1]})" for d in docs[:500]]
        pick = left.selectbox("Preview document", range(len(labels)), format_func=labels.__getitem__,
                              key="preview_doc")
        doc = docs[pick or 0]
        own = [c for c in chunks if c.doc_id == doc.doc_id]
        left.caption(f"{len(own)} chunk(s); colours alternate per chunk, red underlined text is overlap.")
        left.markdown(widgets.chunk_preview(doc.text, own), unsafe_allow_html=True)
        right.plotly_chart(indexing.length_histogram(lengths), width="stretch")

st.subheader("2 · Embedder, store and cost")
c1, c2, c3 = st.columns(3)
embedder = None
with guard("choosing the embedder"):
    embedder = indexing.embedder_choice(c1)
    c1.caption(describe("embedder", embedder))
store = c2.selectbox("Vector store", providers.store_choices(), key=state.default("store", "faiss"),
                     help=providers.help_text("store"))
c2.caption(describe("store", store))
if needs := providers.pinecone_needs():
    c2.caption(f"{needs}.")
hosted = embedder is not None and is_hosted(embedder)
if not hosted:
    priced_on = c3.selectbox("Price it on (hosted)", indexing.embedding_models(),
                             key=state.default("price_model", costs.DEFAULT_EMBED_COST_MODEL))
    if docs and config is not None:
        with guard("estimating the cost"):
            chunks, lengths = indexing.chunk_all(docs, config)
            estimate = costs.estimate_ingest_cost([c.text for c in chunks], priced_on, state.price_table())
            m1, m2, m4, m3 = st.columns(4)
            m1.metric("Chunks", f"{len(chunks):,}")
            m2.metric("Tokens", f"{estimate.tokens:,}")
            indexing.build_time(m4, embedder, lengths)
            m3.metric(f"Cost on {priced_on}", costs.format_usd(estimate.cost_usd), help=f"Prices as of {estimate.prices_as_of}")
            st.caption(f"The local embedder is free; this is what {priced_on} would charge (prices as of "
                       f"{estimate.prices_as_of}).")

st.subheader("3 · Build")
indexing.build_section(docs, config, embedder, store, hosted)

st.subheader("4 · Experiment: compare chunkings")
with st.expander("Build 2-5 chunkings of these documents, evaluate each with several retrievers, and chart them",
                 expanded=experiment.last() is not None):
    with guard("setting up the experiment"):
        experiment.form(docs, embedder, store)
    result = experiment.last()
    if result is not None:
        with guard("showing the experiment"):
            experiment.show(result)

st.subheader("Saved indexes")
with guard("listing the saved indexes"):
    saved = indexing.saved_indexes()
    if saved:
        st.dataframe(indexing.saved_frame(saved), hide_index=True, width="stretch",
                     column_config=indexing.SAVED_COLUMNS)
        indexing.manage(saved, state.set_active_index)
    else:
        st.info("No saved index yet.")
