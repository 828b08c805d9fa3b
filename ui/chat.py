"""One chat turn: the person's settings -> a Pipeline -> the streamed answer -> a ChatEntry,
and how a past entry is shown (answer, why, retrieved chunks, prompt, tokens and dollars
per stage). Hosted answerers and rerankers are this session's own (ui/providers.py)."""

from __future__ import annotations

import time

import streamlit as st

from rag_core.errors import ProviderError, RagError
from rag_core.costs import cost_models_for
from rag_core.pipeline import Pipeline
from rag_core.prompts import DEFAULT_TEMPLATE
from rag_core.providers import redact

from . import advice, indexes, providers, state, widgets


def make_pipeline(settings: state.ChatSettings) -> Pipeline:
    """Cheap: the index, model and answerer come from a cache; only the wiring is new."""
    index = indexes.load_index(settings.index)
    llm = providers.llm(settings.llm)
    reranker = providers.reranker(settings.retrieval.reranker)
    return Pipeline(index, llm, reranker, template=settings.template,
                    cost_models=cost_models_for(llm, index.embedder, reranker, state.price_table()))


def settings_used(entry: state.ChatEntry) -> str:
    s = entry.answer.settings
    threshold = "none" if s.score_threshold is None else f"{s.score_threshold:.2f}"
    template = "custom" if entry.custom_template else "default"
    return (f"Settings used: index {entry.index} · top-k {s.top_k} · threshold {threshold} · "
            f"reranker {s.reranker or 'none'} · answerer {entry.llm} · {template} template")


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
    widgets.cost_table(entry.costs)
    st.caption(settings_used(entry))
    if not answer.hits:
        no_context(entry)
    else:
        st.markdown(f"**Retrieved chunks ({len(answer.hits)})**")
        widgets.hits(answer.hits)
    widgets.prompt_expander(answer.prompt)


def answer_text(text: str, where=None) -> None:
    """The answer as text (`widgets.answer_html`), never as markdown: no image or link in it renders."""
    where = st if where is None else where
    if text:
        where.markdown(widgets.answer_html(text), unsafe_allow_html=True)
    else:
        where.markdown("_(empty answer)_")


def stream_answer(deltas, every: float = 0.05) -> None:
    """Draws the answer as it streams into one placeholder, redrawn whole (escaped) at most every
    `every` seconds: a server streaming thousands of tiny deltas costs a redraw per interval,
    not one per delta."""
    box = st.empty()
    parts: list[str] = []
    drawn = 0.0
    for delta in deltas:
        parts.append(delta)
        if time.monotonic() - drawn >= every:
            answer_text("".join(parts), box)
            drawn = time.monotonic()
    answer_text("".join(parts), box)


def show_entry(entry: state.ChatEntry) -> None:
    with st.chat_message("user"):
        st.text(entry.answer.question)
    with st.chat_message("assistant"):
        answer_text(entry.answer.text)
        explain(entry)


def run_turn(question: str, settings: state.ChatSettings) -> state.ChatEntry | None:
    """Ask, stream the answer into the page, explain it, and record it in the history.
    A provider failing (before or during the stream) is an st.error; the chat stays usable."""
    with st.chat_message("user"):
        st.text(question)
    with st.chat_message("assistant"):
        try:
            turn = make_pipeline(settings).ask(question, settings.retrieval)
            stream_answer(turn)
        except ProviderError as exc:
            st.error(widgets.md_escape(redact(exc, providers.credentials())) + "  \nThe chat is still usable: "
                     "try again, or change the answerer, reranker or key (Settings).", icon=":material/cloud_off:")
            return None
        except RagError as exc:  # e.g. a template without {context}: said here, in the answer's place
            st.error(f"No answer: {advice.error_text(exc, str(exc))}", icon=":material/warning:")  # as ui.guard
            return None
        if turn.answer is None or turn.costs is None:
            return None
        entry = state.ChatEntry(turn.answer, settings.index, settings.template != DEFAULT_TEMPLATE, turn.costs,
                                settings.llm)
        explain(entry)
    state.add_entry(entry)
    return entry
