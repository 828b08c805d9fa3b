"""One chat turn: the person's settings -> a Pipeline -> the streamed answer -> a ChatEntry,
and how a past entry is shown (answer, why, retrieved chunks, prompt, tokens and dollars
per stage). A failed turn stays in the history with its error. Hosted answerers and rerankers
are this session's own (ui/providers.py); a hosted choice this session has no key for says so
in its selectbox (`choice_label`). The answer's [n] citations link to its hit cards: each turn
draws with a scope (`t<n>`, a compare column `c<n>a`) that makes the card ids unique."""

from __future__ import annotations

import time
from typing import Callable

import streamlit as st

from rag_core.retrieval.labels import retriever_label
from rag_core.core import catalog
from rag_core.costs import TurnCosts, cost_models_for
from rag_core.core.errors import ProviderError, RagError, TemplateError
from rag_core.answer.pipeline import Pipeline
from rag_core.answer.prompts import DEFAULT_TEMPLATE, validate_template
from rag_core.providers import redact
from rag_core.providers.credentials import PROVIDER_FIELDS
from rag_core.core.types import RETRIEVAL_BOUNDS, Answer, Usage

from ui import advice, hitcards, indexes, providers, retrieval, state, widgets
from ui.guard import guard


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
    return (f"Settings used: index {entry.index} · retriever {retriever_label(s)} · top-k {s.top_k} · "
            f"threshold {threshold} · reranker {s.reranker or 'none'} · answerer {entry.llm} · {template} template")


def no_context(entry: state.ChatEntry, scope: str | None = None) -> None:
    s = entry.answer.settings
    below = entry.answer.below_threshold
    if s.score_threshold is not None and below:
        best = below[0]
        st.warning(f"No context: no chunk scored at or above the threshold {s.score_threshold:.2f}; the best was "
                   f"{best.score:.3f} {best.score_kind}. Lower the threshold in the sidebar or rephrase. "
                   "The closest chunks, not sent:", icon=":material/search:")
        hitcards.hits(below, question=entry.answer.question, dimmed=True)
    else:
        st.warning("No context: the index returned no chunks for this question (is it empty?). "
                   "Build or choose another index.", icon=":material/search:")


def explain(entry: state.ChatEntry, scope: str | None = None, show_settings: bool = True) -> None:
    """Everything under an answer: why, which chunks (with every labelled score, the question's
    words highlighted, ids the [n] citations link to), prompt, cost."""
    answer = entry.answer
    widgets.cost_line(answer.usage)
    if show_settings:  # blind (before the vote): no stage costs, settings, rewrites or score labels,
        # each of which would tell the configurations apart
        widgets.cost_table(entry.costs, key=f"costs-{scope}" if scope else None)
        st.caption(settings_used(entry))
        if entry.rewrite is not None:
            rewritten(entry.rewrite)
    if not answer.hits:
        no_context(entry, scope)
    else:
        st.markdown(f"**Retrieved chunks ({len(answer.hits)})**")
        hitcards.hits(answer.hits, scope=scope, question=answer.question, scores=show_settings)
    widgets.prompt_expander(answer.prompt)


def rewritten(rw) -> None:
    """The queries the answerer wrote (untrusted model output: plain text, never markdown)."""
    label = "HyDE passage" if rw.strategy == "hyde" else f"Rewritten queries ({len(rw.queries)})"
    st.markdown(f"**{label}**")
    st.text("\n".join(rw.queries) or "(none usable: searched with the question alone)")
    if rw.warning:
        st.caption(widgets.md_escape(rw.warning))


def answer_text(text: str, where=None, scope: str | None = None, n_hits: int = 0) -> None:
    """The answer as text (`widgets.answer_html`), never as markdown: no image or link in it renders;
    with `scope` its [n] citations link to this answer's hit cards."""
    where = st if where is None else where
    if text:
        where.markdown(widgets.answer_html(text, scope, n_hits), unsafe_allow_html=True)
    else:
        where.markdown("_(empty answer)_")


def stream_answer(deltas, every: float = 0.05) -> None:
    """Draws the answer as it streams into one placeholder, redrawn whole (escaped) at most every
    `every` seconds: a server streaming thousands of tiny deltas costs a redraw per interval,
    not one per delta. The final draw (with citation links) is the caller's."""
    box = st.empty()
    parts: list[str] = []
    drawn = 0.0
    for delta in deltas:
        parts.append(delta)
        if time.monotonic() - drawn >= every:
            answer_text("".join(parts), box)
            drawn = time.monotonic()
    box.empty()


def show_answer(entry: state.ChatEntry, scope: str, show_settings: bool = True) -> None:
    """A recorded turn's answer side: its error if it failed, else the answer and its explanation."""
    if entry.error:
        st.error(entry.error, icon=":material/warning:")
        if show_settings:
            st.caption(settings_used(entry))
        return
    answer_text(entry.answer.text, scope=scope, n_hits=len(entry.answer.hits))
    explain(entry, scope, show_settings)


def show_entry(entry: state.ChatEntry, scope: str | None = None) -> None:
    with st.chat_message("user"):
        st.text(entry.answer.question)
    with st.chat_message("assistant"):
        show_answer(entry, scope or "t")


def failed(question: str, settings: state.ChatSettings, message: str) -> state.ChatEntry:
    """A turn that got no answer, kept in the history with what went wrong."""
    answer = Answer(question=question, text="", hits=(), prompt="", usage=Usage(),
                    settings=settings.retrieval)
    return state.ChatEntry(answer, settings.index, settings.template != DEFAULT_TEMPLATE, TurnCosts(),
                           settings.llm, error=message)


def error_text(exc: RagError) -> str:
    if isinstance(exc, ProviderError):
        return (widgets.md_escape(redact(exc, providers.credentials())) + "  \nThe chat is still usable: "
                "try again, or change the answerer, reranker or key (Settings).")
    # e.g. a template without {context}, or no key: worded for the app, as ui.guard shows it
    shown = advice.error_text(exc, str(redact(exc, providers.credentials())))
    hint = ("  \nEdit the prompt template in the sidebar, or press **Reset to default**."
            if isinstance(exc, TemplateError) and "Reset to default" not in shown else "")
    return f"No answer: {shown}{hint}"


def answer_here(question: str, settings: state.ChatSettings, scope: str,
                show_settings: bool = True,
                record: Callable[[state.ChatEntry], None] | None = None) -> state.ChatEntry | None:
    """Ask, stream the answer into the current container, then draw it with its explanation.
    A failure (before or during the stream) is drawn as an st.error and returned as a failed
    entry; the chat stays usable. None only when the stream ended without an answer. `record`
    gets the entry before the explanation is drawn: a question sent meanwhile reruns the page
    at the next st call, and an answered turn must not be lost then (found by ui.bench_sessions)."""
    try:
        turn = make_pipeline(settings).ask(question, settings.retrieval)
        stream_answer(turn)
    except RagError as exc:
        entry = failed(question, settings, error_text(exc))
    else:
        if turn.answer is None or turn.costs is None:
            return None
        entry = state.ChatEntry(turn.answer, settings.index, settings.template != DEFAULT_TEMPLATE,
                                turn.costs, settings.llm, rewrite=turn.retrieval.rewrite)
    if record is not None:
        record(entry)
    show_answer(entry, scope, show_settings)
    return entry


def empty_hint(index: str) -> None:
    """What an empty Chat says: what to do, and what each answer will show."""
    st.info(f"Ask a question about the documents in **{widgets.md_escape(str(index))}** in the box at the "
            "bottom. Each answer shows the chunks it used with their scores, the prompt sent, and its tokens "
            "and dollars. The sidebar chooses the index, retriever and answerer; **Compare** (above) puts "
            "two configurations side by side.", icon=":material/chat:")


def run_turn(question: str, settings: state.ChatSettings) -> state.ChatEntry | None:
    """Ask, stream the answer into the page, explain it, and record it in the history (a failed
    turn too, with its error)."""
    with st.chat_message("user"):
        st.text(question)
    with st.chat_message("assistant"):
        return answer_here(question, settings, f"t{len(state.history())}", record=state.add_entry)


def history(entries) -> None:
    """Every earlier turn, each with its own anchors (scope `t<n>`)."""
    for n, entry in enumerate(entries):
        show_entry(entry, f"t{n}")


@st.fragment
def sidebar_settings(names: list[str], after: Callable[[state.ChatSettings], None] | None = None) -> None:
    """The sidebar's settings for the next turn. A fragment: changing one reruns only this
    function on a live server, not the page with its history; a turn reads them from session
    state when it is asked. (Buttons that change the page, such as Clear chat, stay outside.)"""
    labels = choice_labels()
    st.header("Retrieval")
    st.selectbox("Index", names, key=state.w("index"))
    st.session_state["active_index"] = state.get("index")
    st.slider("Top-k (chunks retrieved)", *RETRIEVAL_BOUNDS["top_k"], key=state.default("top_k", state.DEFAULTS.top_k))
    retrieval.chat_controls()
    st.checkbox("Apply a score threshold", key=state.w("use_threshold"),
                help="Chunks whose first-stage score (cosine for these stores) is below it are not sent.")
    st.slider("Score threshold", *RETRIEVAL_BOUNDS["score_threshold"], step=0.01, key=state.default("threshold", 0.30),
              disabled=not state.get("use_threshold"))
    st.selectbox("Reranker", providers.RERANKER_CHOICES, key=state.w("reranker"), format_func=labels,
                 help=providers.help_text("reranker"))
    st.selectbox("Answerer", providers.LLM_CHOICES, key=state.w("llm"), format_func=labels,
                 help=providers.help_text("llm"))
    if state.get("llm") == providers.COMPATIBLE:
        st.text_input("Model on the compatible server", key=state.w("compatible_model"),
                      placeholder="e.g. llama3.2", help="Its base URL is set on the Settings page.")
    st.header("Prompt template")
    st.text_area("Template ({context} and {question} are filled in)", key=state.w("template"), height=260)
    st.button("Reset to default", on_click=state.reset_template, key="reset_template")
    with guard("checking the template"):
        validate_template(state.get("template"))
    if after is not None:  # the URL and the config download follow these settings in this very run
        after(state.chat_settings())  # (a fragment rerun does not reach the page below)


# ---- choices that need a key ---------------------------------------------------------------


def missing_credential(choice: str, creds=None) -> str | None:
    """What a hosted choice lacks in this session ("a key", "a server"), or None."""
    provider = catalog.credential(choice)
    if provider is None or provider not in PROVIDER_FIELDS:
        return None
    key_field, url_field = PROVIDER_FIELDS[provider]
    creds = providers.credentials() if creds is None else creds
    if provider == "compatible":
        return None if getattr(creds, url_field) else "a server"
    return None if getattr(creds, key_field) else "a key"


def choice_labels() -> Callable[[str], str]:
    """A selectbox's format_func for answerer or reranker choices, marking the ones this session
    cannot use yet. This session's credentials are read now, once: the function may be called
    after the run (AppTest does), when the session is out of reach."""
    creds = providers.credentials()

    def label(choice: str) -> str:
        text = providers.choice_label(choice)
        missing = missing_credential(choice, creds)
        if missing == "a server":
            return f"{text} — needs a server: add its base URL in Settings"
        return f"{text} — needs a key: add it in Settings" if missing else text

    return label
