"""Typed helpers over st.session_state: only what this person chose, per browser session.

Widget values live under keys `w:<name>` (seed them with `default()` before the widget, never
`value=`). Streamlit drops a widget's state when its page is not shown, so `preserve_widgets()`
(called by app.py at the start of every run) copies each `w:` value to `p:<name>`, and
`default()` re-seeds the widget from there: settings survive switching pages. Keys and base URLs typed on the
Settings page live here only: never on disk, in logs or in an index.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields, replace
from typing import Any

import streamlit as st

from rag_core import costs
from rag_core.costs import TurnCosts
from rag_core.ingest.loaders import LoadReport
from rag_core.answer.prompts import DEFAULT_TEMPLATE
from rag_core.retrieval.rewrite import Rewrite
from rag_core.core.types import RETRIEVAL_BOUNDS, Answer, Document, RetrievalSettings

W = "w:"
P = "p:"
NO_RERANKER = "none"
DEFAULT_LLM = "extractive"


def w(name: str) -> str:
    return W + name


#: widget name -> the RetrievalSettings field whose checked range (RETRIEVAL_BOUNDS) it draws
BOUNDED_WIDGETS = {"top_k": "top_k", "threshold": "score_threshold", "alpha": "alpha", "mmr": "mmr_lambda",
                   "neighbours": "neighbours", "rewrites": "rewrites", "rrf_k": "rrf_k", "depth": "depth"}
_SIDE_PREFIX = re.compile(r"^cmp_[AB]_")


def in_bounds(name: str, value: Any) -> bool:
    """Whether `value` fits the widget `name` (a Compare side's `cmp_A_top_k` counts as `top_k`)."""
    field = BOUNDED_WIDGETS.get(_SIDE_PREFIX.sub("", name))
    if field is None or value is None:
        return True
    low, high = RETRIEVAL_BOUNDS[field]
    return isinstance(value, (int, float)) and not isinstance(value, bool) and low <= value <= high


def default(name: str, value: Any) -> str:
    """The widget key for `name`, seeded with `value` the first time; pass it as key=. A value
    outside the widget's checked range (left by an older page, say) goes back to `value`, so
    one bad value cannot break the page for the rest of the session."""
    key = w(name)
    if key not in st.session_state:
        st.session_state[key] = st.session_state.get(P + name, value)
    if not in_bounds(name, st.session_state[key]):
        st.session_state[key] = st.session_state[P + name] = value
    return key


def get(name: str, fallback: Any = None) -> Any:
    ss = st.session_state
    return ss[w(name)] if w(name) in ss else ss.get(P + name, fallback)


def put(name: str, value: Any) -> None:
    """Set a setting (only before its widget is drawn in this run, or from a callback)."""
    st.session_state[w(name)] = value
    st.session_state[P + name] = value


def preserve_widgets() -> None:
    """Remember every widget value outside Streamlit's widget state (see the module docstring)."""
    ss = st.session_state
    for key in list(ss.keys()):
        if isinstance(key, str) and key.startswith(W):
            ss[P + key[len(W):]] = ss[key]


# ---- which index ----------------------------------------------------------------------------


def active_index() -> str | None:
    return st.session_state.get("active_index")


def set_active_index(name: str | None) -> None:
    st.session_state["active_index"] = name
    put("index", name)


# ---- chat ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChatSettings:
    """A chat turn's choices: which index, how to retrieve, and what answers with which template."""

    index: str
    retrieval: RetrievalSettings
    llm: str
    template: str


def chat_defaults(index: str | None) -> None:
    default("index", index)
    default("top_k", 5)
    default("use_threshold", False)
    default("threshold", 0.30)
    default("reranker", NO_RERANKER)
    default("llm", DEFAULT_LLM)
    default("compatible_model", "")
    default("template", DEFAULT_TEMPLATE)


DEFAULTS = RetrievalSettings()
#: the retriever choices the app offers: label -> (mode, fusion)
METHODS = {"hybrid (weighted)": ("hybrid", "weighted"), "hybrid (rrf)": ("hybrid", "rrf"),
           "dense": ("dense", DEFAULTS.fusion), "bm25 (whole index)": ("bm25", DEFAULTS.fusion)}
DEFAULT_METHOD = next(k for k, v in METHODS.items() if v[0] == DEFAULTS.mode
                      and (v[1] == DEFAULTS.fusion or DEFAULTS.mode != "hybrid"))


#: the query rewriting choices: label -> RetrievalSettings.rewrite
REWRITE_CHOICES = {"off": None, "multi-query": "multi_query", "HyDE": "hyde"}


def rewrite_of_settings(prefix: str = "", base: RetrievalSettings = DEFAULTS) -> str:
    """The rewriting label for the `rewrite` setting (from a link or a config file)."""
    value = get(prefix + "rewrite", base.rewrite)
    return next((k for k, v in REWRITE_CHOICES.items() if v == value), "off")


def generative(llm: str) -> bool:
    """Query rewriting needs a generative answerer: not the extractive one."""
    return llm.partition(":")[0] not in ("", "extractive")


def can_rewrite() -> bool:
    return generative(chosen_llm())


def method_of_settings(prefix: str = "", base: RetrievalSettings = DEFAULTS) -> str:
    """The retriever label for the `mode`/`fusion` settings (from a link or a config file)."""
    mode, fusion = get(prefix + "mode", base.mode), get(prefix + "fusion", base.fusion)
    return next((k for k, v in METHODS.items() if v == (mode, fusion)),
                next((k for k, v in METHODS.items() if v[0] == mode), DEFAULT_METHOD))


def retriever_of(prefix: str, base: RetrievalSettings, can_rewrite_now: bool) -> RetrievalSettings:
    """`base` with the retriever the form under `prefix` shows ("" the Chat sidebar, "cmp_A_" a
    Compare column): method, α, normalisation, RRF k, depth, MMR, neighbours, rewriting. A widget
    the form hides (α for a dense retriever) keeps its last value, which does not apply."""
    def value(name: str, fallback: Any) -> Any:
        return get(prefix + name, fallback)

    mode, fusion = METHODS.get(value("method", method_of_settings(prefix, base)), METHODS[DEFAULT_METHOD])
    mmr_on = value("use_mmr", value("mmr_lambda", base.mmr_lambda) is not None)
    mmr = float(value("mmr", base.mmr_lambda if base.mmr_lambda is not None else 0.7)) if mmr_on else None
    rewrite = REWRITE_CHOICES.get(value("rewrite_choice", rewrite_of_settings(prefix, base)))
    return replace(base, mode=mode, fusion=fusion, alpha=float(value("alpha", base.alpha)),
                   normalise=str(value("normalise", base.normalise)), rrf_k=float(value("rrf_k", base.rrf_k)),
                   depth=int(value("depth", base.depth)), mmr_lambda=mmr,
                   neighbours=int(value("neighbours", base.neighbours)),
                   rewrite=rewrite if can_rewrite_now else None, rewrites=int(value("rewrites", base.rewrites)))


def put_retrieval(settings: RetrievalSettings, prefix: str = "") -> None:
    """Every retrieval field of `settings` into Chat, under the field names (links, config files)
    and the widgets' own keys (method, use_mmr, mmr, rewrite_choice ...): a widget drawn earlier
    in the session keeps its key's value, so writing only the field names left, say, the
    retriever as it was while "use the best" said otherwise. Call before the widgets are drawn
    in this run (a page switch, an upload's rerun)."""
    for f in fields(RetrievalSettings):
        if f.name not in ("top_k", "score_threshold", "reranker", "sources"):
            put(prefix + f.name, getattr(settings, f.name))
    put(prefix + "method", method_of_settings(prefix, settings))
    put(prefix + "use_mmr", settings.mmr_lambda is not None)
    if settings.mmr_lambda is not None:
        put(prefix + "mmr", float(settings.mmr_lambda))
    put(prefix + "rewrite_choice", rewrite_of_settings(prefix, settings))


def chat_retrieval(base: RetrievalSettings) -> RetrievalSettings:
    """`base` (top-k, threshold, reranker) with the sidebar's retriever, kept under the settings'
    own field names too, so a link or an exported config carries them."""
    chosen = retriever_of("", base, can_rewrite())
    rewrite = REWRITE_CHOICES.get(get("rewrite_choice", rewrite_of_settings()))
    st.session_state[w("rewrite")] = st.session_state[P + "rewrite"] = rewrite  # the choice, kept as chosen
    for name in ("mode", "fusion", "mmr_lambda"):  # no widget has these keys: safe to set any time
        st.session_state[w(name)] = st.session_state[P + name] = getattr(chosen, name)
    return chosen


def chat_settings() -> ChatSettings:
    reranker = get("reranker", NO_RERANKER)
    retrieval = chat_retrieval(RetrievalSettings(
        top_k=int(get("top_k", 5)),
        score_threshold=float(get("threshold", 0.3)) if get("use_threshold", False) else None,
        reranker=None if reranker == NO_RERANKER else reranker,
    ))
    return ChatSettings(
        index=get("index"),
        retrieval=retrieval,
        llm=chosen_llm(),
        template=get("template", DEFAULT_TEMPLATE),
    )


def chosen_llm() -> str:
    """The answerer's name; `compatible:` takes the model typed beside it."""
    llm = get("llm", DEFAULT_LLM)
    if llm == "compatible:":
        return "compatible:" + str(get("compatible_model", "") or "").strip()
    return llm


def reset_template() -> None:
    put("template", DEFAULT_TEMPLATE)


@dataclass(frozen=True)
class ChatEntry:
    """One turn as it happened: the Answer (with the retrieval settings it used), its cost
    record, the index, the answerer and whether the prompt template was the default."""

    answer: Answer
    index: str
    custom_template: bool
    #: the turn's cost record: tokens and dollars per stage (API report beside the tiktoken estimate)
    costs: TurnCosts
    llm: str = DEFAULT_LLM
    #: a failed turn (missing key, provider error): what went wrong; its answer is empty, its costs zero
    error: str = ""
    #: the query rewrite the turn ran (its queries are shown under the answer); None when off
    rewrite: Rewrite | None = None


def history() -> list[ChatEntry]:
    return st.session_state.setdefault("chat_history", [])


#: turns a session keeps (each holds its hits and prompt, ~20 KB): a presenter's session left open
#: all day must not grow without bound. Older turns drop off the top; their costs stay counted.
MAX_HISTORY = 200


def add_entry(entry: ChatEntry) -> None:
    turns = history()
    turns.append(entry)
    if len(turns) > MAX_HISTORY:
        dropped = turns[: len(turns) - MAX_HISTORY]
        del turns[: len(turns) - MAX_HISTORY]
        kept = st.session_state.get("dropped_costs", TurnCosts())
        for old in dropped:
            kept = kept + old.costs
        st.session_state["dropped_costs"] = kept


def clear_history() -> None:
    st.session_state["chat_history"] = []
    st.session_state.pop("dropped_costs", None)


def session_costs() -> TurnCosts:
    """The session's one cost record: every turn's record added up (its Usage line is derived),
    turns dropped by the MAX_HISTORY cap included."""
    total = st.session_state.get("dropped_costs", TurnCosts())
    for entry in history():
        total = total + entry.costs
    return total


# ---- documents staged on the Data page ----------------------------------------------------


def load_report() -> LoadReport:
    return st.session_state.get("load_report", LoadReport())


def set_load_report(report: LoadReport) -> None:
    st.session_state["load_report"] = report


def staged_documents() -> list[Document]:
    """Documents kept by the content filter on the Data page, ready for the Index page."""
    return st.session_state.get("staged_documents", [])


def set_staged_documents(docs: list[Document]) -> None:
    st.session_state["staged_documents"] = list(docs)


DOC_ORIGIN_DATA = "From the Data page"


def use_data_page_documents() -> None:
    """New files, pages or the demo corpus were just taken on the Data page: the Index page
    builds from them next (its "Documents" choice may still say the demo corpus from an
    earlier visit, when the Data page had nothing)."""
    put("doc_origin", DOC_ORIGIN_DATA)


# ---- prices (this session only; keys live in ui/providers.py) -------------------------------


def price_table() -> costs.PriceTable:
    return st.session_state.get("price_table", costs.DEFAULT_PRICES)


def set_price_table(table: costs.PriceTable) -> None:
    st.session_state["price_table"] = table
