"""Retrieval-method widgets for Chat and Evaluate: mode, fusion, alpha, MMR, neighbours.

Every default comes from `RetrievalSettings()` (the one source the CLI uses too), so what a
person sees with no changes is what `python -m rag_core query` does with no flags.
"""

from __future__ import annotations

from dataclasses import replace

import streamlit as st

from rag_core.types import RetrievalSettings

from . import state

DEFAULTS = RetrievalSettings()
#: label -> (mode, fusion)
METHODS = {"hybrid (weighted)": ("hybrid", "weighted"), "hybrid (rrf)": ("hybrid", "rrf"),
           "dense": ("dense", DEFAULTS.fusion), "bm25 (whole index)": ("bm25", DEFAULTS.fusion)}
DEFAULT_METHOD = next(k for k, v in METHODS.items() if v[0] == DEFAULTS.mode
                      and (v[1] == DEFAULTS.fusion or DEFAULTS.mode != "hybrid"))


def chat_controls() -> None:
    """The sidebar widgets; `chat_retrieval` reads them back."""
    st.selectbox("Retriever", list(METHODS), key=state.default("method", DEFAULT_METHOD),
                 help="dense: the vector store; bm25: keyword search over the whole index; hybrid: both, fused "
                      "(weighted sum of z-scored scores, or reciprocal rank fusion).")
    st.slider("Dense weight α (weighted hybrid)", 0.0, 1.0, step=0.05, key=state.default("alpha", DEFAULTS.alpha),
              disabled=state.get("method") != "hybrid (weighted)")
    st.checkbox("Diversify (MMR)", key=state.default("use_mmr", DEFAULTS.mmr_lambda is not None),
                help="Maximal marginal relevance: trades a little relevance for less repetition.")
    st.slider("MMR λ (1 = relevance only)", 0.0, 1.0, step=0.05, key=state.default("mmr", 0.7),
              disabled=not state.get("use_mmr"))
    st.slider("Neighbours (chunks either side sent to the answerer)", 0, 3,
              key=state.default("neighbours", DEFAULTS.neighbours))


def chat_retrieval(base: RetrievalSettings) -> RetrievalSettings:
    """`base` (top-k, threshold, reranker) with the method chosen in the widgets."""
    mode, fusion = METHODS.get(state.get("method", DEFAULT_METHOD), METHODS[DEFAULT_METHOD])
    return replace(base, mode=mode, fusion=fusion, alpha=float(state.get("alpha", DEFAULTS.alpha)),
                   mmr_lambda=float(state.get("mmr", 0.7)) if state.get("use_mmr", False) else None,
                   neighbours=int(state.get("neighbours", DEFAULTS.neighbours)))


def eval_methods(container) -> list[tuple[str, str]]:
    """The (mode, fusion) pairs to sweep, chosen in `container` (default: the default method)."""
    chosen = container.multiselect("Retrievers", list(METHODS), key=state.default("eval_methods", [DEFAULT_METHOD]),
                                   help="Each is swept with every top-k and reranker.")
    return [METHODS[m] for m in chosen]
