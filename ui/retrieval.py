"""Retrieval-method widgets for Chat and Evaluate: mode, fusion, alpha, MMR, neighbours.

Every default comes from `RetrievalSettings()` (the one source the CLI uses too), so what a
person sees with no changes is what `python -m rag_core query` does with no flags.
"""

from __future__ import annotations

import streamlit as st

from rag_core.core.types import RETRIEVAL_BOUNDS

from ui import state

from ui.state import DEFAULT_METHOD, DEFAULTS, METHODS


def chat_controls() -> None:
    """The sidebar widgets; `chat_retrieval` reads them back."""
    st.selectbox("Retriever", list(METHODS), key=state.default("method", state.method_of_settings()),
                 help="dense: the vector store; bm25: keyword search over the whole index; hybrid: both, fused "
                      "(weighted sum of z-scored scores, or reciprocal rank fusion).")
    st.slider("Dense weight α (weighted hybrid)", *RETRIEVAL_BOUNDS["alpha"], step=0.05, key=state.default("alpha", DEFAULTS.alpha),
              disabled=state.get("method") != "hybrid (weighted)")
    st.checkbox("Diversify (MMR)", key=state.default("use_mmr", state.get("mmr_lambda", DEFAULTS.mmr_lambda) is not None),
                help="Maximal marginal relevance: trades a little relevance for less repetition.")
    st.slider("MMR λ (1 = relevance only)", *RETRIEVAL_BOUNDS["mmr_lambda"], step=0.05, key=state.default("mmr", 0.7 if state.get("mmr_lambda") is None else state.get("mmr_lambda")),
              disabled=not state.get("use_mmr"))
    st.slider("Neighbours (chunks either side sent to the answerer)", *RETRIEVAL_BOUNDS["neighbours"],
              key=state.default("neighbours", DEFAULTS.neighbours))
    rewrite_controls()


def rewrite_controls() -> None:
    """Query rewriting: the answerer writes rewrites (multi-query) or a passage (HyDE) to search
    with; an extra model call, priced as its own stage. Off for the extractive answerer."""
    able = state.can_rewrite()
    st.selectbox("Query rewriting", list(state.REWRITE_CHOICES),
                 key=state.default("rewrite_choice", state.rewrite_of_settings()), disabled=not able,
                 help="multi-query: the answerer paraphrases the question N times, each is searched and the "
                      "lists fused (RRF); HyDE: it writes a passage that would answer it, searched instead. "
                      "One extra model call per question (its tokens and dollars are a 'rewrite' stage).")
    st.number_input("Rewrites (multi-query)", *RETRIEVAL_BOUNDS["rewrites"], step=1, key=state.default("rewrites", DEFAULTS.rewrites),
                    disabled=not able or state.get("rewrite_choice") != "multi-query")
    if not able:
        st.caption("Query rewriting needs a generative answerer: choose a chat model as the Answerer.")


def eval_methods(container) -> list[tuple[str, str]]:
    """The (mode, fusion) pairs to sweep, chosen in `container` (default: the default method)."""
    chosen = container.multiselect("Retrievers", list(METHODS), key=state.default("eval_methods", [DEFAULT_METHOD]),
                                   help="Each is swept with every top-k and reranker.")
    return [METHODS[m] for m in chosen]
