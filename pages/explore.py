"""Explore: all chunk embeddings on a 2-D map (PCA); a query and lines to its top-k hits."""

import streamlit as st

from rag_core.retrieval import Retriever
from rag_core.types import RetrievalSettings

from rag_core import index_catalog as catalog
from ui import explore, indexes, state, url_state, widgets
from ui.guard import guard
from ui.layout import page_setup

page_setup()

st.title(":material/scatter_plot: Explore")
names = catalog.index_names()
if not names:
    st.info("There is no index yet. Load the demo corpus on Home, or build one on Index.")
    st.stop()

url_params = url_state.explore_params(names)
url_state.restore("explore", url_params)
c1, c2, c3 = st.columns([1, 3, 1])
active = state.active_index()
name = c1.selectbox("Index", names, index=names.index(active) if active in names else 0, key="explore_index")
query = c2.text_input("Query", key=state.default("explore_query", ""), placeholder="Type a question to place it on the map")
top_k = c3.slider("Top-k", 1, 20, key=state.default("explore_k", 5))
url_state.publish(url_params)

with guard("drawing the map"):
    proj = indexes.projection(name)
    if not proj.chunks:
        st.info("This index has no chunks yet.")
        st.stop()
    vector, hits = None, ()
    if query.strip():
        found = Retriever(indexes.load_index(name)).retrieve(query, RetrievalSettings(top_k=int(top_k)))
        vector, hits = found.query_vector, found.hits
    st.caption(f"{len(proj.chunks):,} chunks from {len({c.source for c in proj.chunks}):,} sources, "
               "projected with PCA; colour = source; hover a point for its text.")
    st.plotly_chart(explore.scatter(proj, vector, hits, query), width="stretch", key="map")
    if hits:
        st.markdown(f"**Top {len(hits)} hits**")
        widgets.hits(hits)
