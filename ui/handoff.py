"""Open Chat on a measured configuration: the best row of Evaluate or of a chunking experiment,
one click away. Chat's sidebar reads top-k, threshold and reranker under their own keys, and
every other RetrievalSettings field (mode, fusion ...) under the field's name, as ui/share.py
applies an imported configuration."""

from __future__ import annotations

import streamlit as st

from rag_core.core.types import RETRIEVAL_BOUNDS, RetrievalSettings

from ui import indexes, state

#: Chat's top-k slider goes this far
CHAT_MAX_TOP_K = RETRIEVAL_BOUNDS["top_k"][1]


def use_in_chat(index: str, settings: RetrievalSettings) -> None:
    """Set this session's active index and Chat settings, then open Chat with Compare off."""
    state.set_active_index(index)
    state.put("top_k", max(1, min(settings.top_k, CHAT_MAX_TOP_K)))
    state.put("use_threshold", settings.score_threshold is not None)
    if settings.score_threshold is not None:
        state.put("threshold", round(max(-1.0, min(settings.score_threshold, 1.0)), 2))
    state.put("reranker", settings.reranker or state.NO_RERANKER)
    state.put_retrieval(settings)  # the retriever too, under the widgets' own keys
    state.put("compare", False)  # the next question goes to this configuration, not to A and B
    state.put("cmp_blind", False)
    indexes.load_index(index)  # opened now: Chat draws at once, and a broken index is said here
    st.switch_page("pages/chat.py")
