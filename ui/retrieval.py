"""Retrieval-method widgets for Chat, each Compare column and Evaluate: one form for the retriever.

Every default comes from `RetrievalSettings()` (the one source the CLI uses too), so what a
person sees with no changes is what `python -m rag_core query` does with no flags.
"""

from __future__ import annotations

import streamlit as st

from rag_core.core.types import RETRIEVAL_BOUNDS, RetrievalSettings
from rag_core.retrieval.modes import NORMALISE_LABEL

from ui import state

from ui.state import DEFAULT_METHOD, DEFAULTS, METHODS


def retriever_controls(where=st, prefix: str = "", base: RetrievalSettings = DEFAULTS,
                       can_rewrite: bool | None = None) -> None:
    """The retriever's widgets, one form for the Chat sidebar (`prefix` "") and each Compare column
    (`cmp_A_`, `cmp_B_`): only the fields that apply to the chosen retriever are shown (α and
    normalisation for weighted hybrid, RRF k for rrf, depth for either hybrid; rewriting only with
    a generative answerer). `state.retriever_of(prefix, ...)` reads them back."""
    def key(name: str, seed) -> str:
        return state.default(prefix + name, seed)

    method = where.selectbox("Retriever", list(METHODS), key=key("method", state.method_of_settings(prefix, base)),
                             help="dense: the vector store; bm25: keyword search over the whole index; hybrid: both, "
                                  "fused (weighted sum of normalised scores, or reciprocal rank fusion).")
    mode, fusion = METHODS.get(method, METHODS[DEFAULT_METHOD])
    if mode == "hybrid" and fusion == "weighted":
        where.slider("Dense weight α (weighted hybrid)", *RETRIEVAL_BOUNDS["alpha"], step=0.05,
                     key=key("alpha", base.alpha))
        where.selectbox("Score normalisation (weighted hybrid)", list(NORMALISE_LABEL), format_func=NORMALISE_LABEL.get,
                        key=key("normalise", base.normalise))
    if mode == "hybrid" and fusion == "rrf":
        where.number_input("RRF k (hybrid rrf)", *RETRIEVAL_BOUNDS["rrf_k"], step=5.0, format="%g",
                           key=key("rrf_k", float(base.rrf_k)))
    if mode == "hybrid":
        where.number_input("Candidates from each list (hybrid depth)", *RETRIEVAL_BOUNDS["depth"], step=10,
                           key=key("depth", int(base.depth)))
    on = where.checkbox("Diversify (MMR)", key=key("use_mmr", state.get(prefix + "mmr_lambda", base.mmr_lambda) is not None),
                        help="Maximal marginal relevance: trades a little relevance for less repetition.")
    if on:
        linked = state.get(prefix + "mmr_lambda", base.mmr_lambda)  # a link's or a file's λ, 0 included
        where.slider("MMR λ (1 = relevance only)", *RETRIEVAL_BOUNDS["mmr_lambda"], step=0.05,
                     key=key("mmr", 0.7 if linked is None else float(linked)))
    where.slider("Neighbours (chunks either side sent to the answerer)", *RETRIEVAL_BOUNDS["neighbours"],
                 key=key("neighbours", base.neighbours))
    rewrite_controls(where, prefix, base, state.can_rewrite() if can_rewrite is None else can_rewrite)


def chat_controls() -> None:
    """The Chat sidebar's retriever (`state.chat_retrieval` reads it back)."""
    retriever_controls()


def rewrite_controls(where=st, prefix: str = "", base: RetrievalSettings = DEFAULTS, able: bool = True) -> None:
    """Query rewriting: the answerer writes rewrites (multi-query) or a passage (HyDE) to search
    with; an extra model call, priced as its own stage. Not offered for the extractive answerer."""
    if not able:
        where.caption("Query rewriting needs a generative answerer: choose a chat model as the Answerer.")
        return
    choice = where.selectbox("Query rewriting", list(state.REWRITE_CHOICES),
                             key=state.default(prefix + "rewrite_choice", state.rewrite_of_settings(prefix, base)),
                             help="multi-query: the answerer paraphrases the question N times, each is searched and "
                                  "the lists fused (RRF); HyDE: it writes a passage that would answer it, searched "
                                  "instead. One extra model call per question (its tokens and dollars are a "
                                  "'rewrite' stage).")
    if choice == "multi-query":
        where.number_input("Rewrites (multi-query)", *RETRIEVAL_BOUNDS["rewrites"], step=1,
                           key=state.default(prefix + "rewrites", base.rewrites))


def eval_methods(container) -> list[tuple[str, str]]:
    """The (mode, fusion) pairs to sweep, chosen in `container` (default: the default method)."""
    chosen = container.multiselect("Retrievers", list(METHODS), key=state.default("eval_methods", [DEFAULT_METHOD]),
                                   help="Each is swept with every top-k and reranker.")
    return [METHODS[m] for m in chosen]
