"""One chat turn: the person's settings -> a Pipeline -> the streamed answer -> a ChatEntry,
and how a past entry is shown (answer, why, retrieved chunks, prompt, tokens and dollars)."""

from __future__ import annotations

import streamlit as st

from rag_core.pipeline import CostModels, Pipeline
from rag_core.prompts import DEFAULT_TEMPLATE
from rag_core.rerank import create_reranker

from . import cache, state, widgets


def make_pipeline(settings: state.ChatSettings) -> Pipeline:
    """Cheap: the index, model and answerer come from the cache; only the wiring is new."""
    return Pipeline(
        cache.load_index(settings.index),
        cache.answerer(settings.llm),
        create_reranker(settings.reranker),
        template=settings.template,
        cost_models=CostModels(prices=state.price_table()),
    )


def settings_used(entry: state.ChatEntry) -> str:
    s = entry.answer.settings
    threshold = "none" if s.score_threshold is None else f"{s.score_threshold:.2f}"
    template = "custom" if entry.custom_template else "default"
    return (f"Settings used: index {entry.index} · top-k {s.top_k} · threshold {threshold} · "
            f"reranker {s.reranker or 'none'} · answerer {s.llm} · {template} template")


def no_context(entry: state.ChatEntry) -> None:
    s = entry.answer.settings
    below = entry.answer.below_threshold
    if s.score_threshold is not None and below:
        best = below[0]
        st.warning(f"No context: no chunk scored at or above the threshold {s.score_threshold:.2f}; the best was "
                   f"{best.score:.3f} {best.score_kind}. Lower the threshold in the sidebar or rephrase. "
                   "The closest chunks, not sent:", icon=":material/search:")
        widgets.hits(below, dimmed=True)
    else:
        st.warning("No context: the index returned no chunks for this question (is it empty?). "
                   "Build or choose another index.", icon=":material/search:")


def explain(entry: state.ChatEntry) -> None:
    """Everything under an answer: why, which chunks (with labelled scores), prompt, cost."""
    answer = entry.answer
    widgets.cost_line(answer.usage)
    st.caption(settings_used(entry))
    if not answer.hits:
        no_context(entry)
    else:
        st.markdown(f"**Retrieved chunks ({len(answer.hits)})**")
        widgets.hits(answer.hits)
    widgets.prompt_expander(answer.prompt)


def show_entry(entry: state.ChatEntry) -> None:
    with st.chat_message("user"):
        st.text(entry.answer.question)
    with st.chat_message("assistant"):
        st.markdown(widgets.md_escape(entry.answer.text) if entry.answer.text else "_(empty answer)_")
        explain(entry)


def run_turn(question: str, settings: state.ChatSettings) -> state.ChatEntry | None:
    """Ask, stream the answer into the page, explain it, and record it in the history."""
    with st.chat_message("user"):
        st.text(question)
    with st.chat_message("assistant"):
        turn = make_pipeline(settings).ask(question, settings.retrieval())
        st.write_stream(widgets.md_escape(delta) for delta in turn)
        if turn.answer is None:
            return None
        entry = state.ChatEntry(turn.answer, settings.index, settings.template != DEFAULT_TEMPLATE)
        explain(entry)
    state.add_entry(entry)
    return entry
