"""Explore: the chunk embeddings on a 2-D map that says what it keeps: the variance of the whole
index (PCA), or the query's neighbourhood drawn by true similarity; the query's hits with their
true scores; colour by topic, folder or source; at most 5,000 points drawn."""

import streamlit as st

from rag_core.index import saved
from rag_core.evaluation.explore import pca_view, query_view
from rag_core.retrieval import Retriever
from rag_core.core.types import RetrievalSettings
from ui import explore, hitcards, indexes, state, url_state, widgets
from ui.guard import guard
from ui.layout import page_setup

page_setup()

st.title(":material/scatter_plot: Explore")
names = saved.index_names()
if not names:
    st.info("There is no index yet. Load the demo corpus on Home, or build one on Index.")
    st.stop()

url_params = url_state.explore_params(names)
url_state.restore("explore", url_params)
c1, c2, c3 = st.columns([2, 3, 1])  # the index box shows a whole index name
active = state.active_index()
name = c1.selectbox("Index", names, index=names.index(active) if active in names else 0, key="explore_index")
query = c2.text_input("Query", key=state.default("explore_query", ""),
                      placeholder="Type a question to place it on the map")
top_k = c3.slider("Top-k", *explore.TOP_K_RANGE, key=state.default("explore_k", 5))
view_kind = st.radio("Map", list(explore.VIEWS), format_func=explore.VIEWS.get, horizontal=True,
                     key=state.default("explore_view", "pca"), disabled=not query.strip(),
                     help="PCA shows the whole index but distorts distances; around the query, the "
                          "horizontal position is each chunk's exact similarity to the query.")
url_state.publish(url_params)

with guard("drawing the map"):
    emap = indexes.explore_map(name)
    if not emap.n_chunks:
        st.info("This index has no chunks yet.")
        st.stop()
    index = indexes.load_index(name)
    vector, hits = None, ()
    if query.strip():
        found = Retriever(index).retrieve(query, RetrievalSettings(top_k=int(top_k), mode="dense"))  # a cosine map
        vector, hits = found.query_vector, found.hits
    if view_kind == "query" and vector is not None:
        view = query_view(emap, index.store, vector, hits)
    else:
        view = pca_view(emap, vector, hits)
    st.caption(explore.variance_caption(view))
    st.caption(f"{explore.sample_caption(emap, view)} {explore.colour_caption(emap)}")
    chart, side = st.columns([3, 2]) if hits else (st.container(), None)
    chart.plotly_chart(explore.figure(emap, view, query), width="stretch", key="map")
    if side is not None:
        with side:
            st.markdown(f"**Top {len(hits)} hits**")
            explore.hits_table(view)
            st.caption(explore.distance_caption(view))
        with st.expander("The hits' text"):
            hitcards.hits(hits, question=query)
