"""A page's main settings in the URL (`st.query_params`), so a copied link reproduces the view
and a browser reload keeps it.

A page lists its `Param`s (URL key, how to read the current value, how to apply a URL value)
and calls `restore` before its widgets and `publish` after them. `restore` runs on the page's
first run in a session (a new tab, a pasted link, a reload): every URL value is untrusted, so
it is bounded, parsed and checked against the page's choices; anything unknown or invalid is
ignored with a note on the page. `publish` writes the current values back when they changed.
Keys and base URLs never go in a URL: no Param holds them, and a value shaped like a key is
refused.
"""

from __future__ import annotations

import math
import typing
from dataclasses import dataclass, fields
from typing import Any, Callable, Sequence

import streamlit as st

from rag_core.answer.config import NONE_WORD, from_dict
from rag_core.core.errors import ConfigError
from rag_core.providers import redact
from rag_core.core.types import RETRIEVAL_BOUNDS, RetrievalSettings

from ui import providers, state
from ui.widgets import md_literal
from rag_core.rerank import RERANKERS
from ui.evaluate import BEST_BY, DEMO_SET, HARD_SET, TOP_K_CHOICES
from ui.explore import TOP_K_RANGE
from ui.explore import VIEWS as EXPLORE_VIEWS

MAX_VALUE = 500  # characters in one URL value
MAX_PARAMS = 40
MAX_LIST = 20
_RESTORED = "url_restored:"
#: Chat's own widgets cover these RetrievalSettings fields; the rest are read generically
CHAT_RETRIEVAL = ("top_k", "score_threshold", "reranker", "sources")


@dataclass(frozen=True)
class Param:
    """One URL setting: `read` the page's value as URL text (None: leave it out); `write` parses,
    checks and applies a URL value, raising ValueError with the reason to show."""

    key: str
    read: Callable[[], str | None]
    write: Callable[[str], None]


def restore(page: str, params: Sequence[Param]) -> list[str]:
    """On the page's first run in this session, apply the URL's valid values; returns (and shows)
    a note for each ignored one."""
    if st.session_state.get(_RESTORED + page):
        return []
    st.session_state[_RESTORED + page] = True
    known = {p.key: p for p in params}
    notes = []
    for key, raw in list(st.query_params.to_dict().items())[:MAX_PARAMS]:
        reason = _apply(known.get(key), str(raw))
        if reason:
            notes.append(f"{md_literal(key[:40])}: {reason}")
    if notes:
        st.warning("Some settings in the link were ignored: " + "; ".join(notes) + ".", icon=":material/link_off:")
    return notes


def _apply(param: Param | None, raw: str) -> str | None:
    if param is None:
        return "not a setting of this page"
    if len(raw) > MAX_VALUE:
        return f"longer than {MAX_VALUE} characters"
    if redact(raw) != raw:
        return "looks like an API key (keys never go in a link)"
    try:
        param.write(raw)
    except (ValueError, ConfigError) as exc:  # messages may quote the value: shown literally
        return f"{md_literal(raw[:60])} {md_literal(str(exc)[:300])}"
    return None


def publish(params: Sequence[Param]) -> None:
    """Write the page's current values to the URL (only when they changed: no needless message).
    A value shaped like an API key (typed into a text field by mistake) is left out."""
    wanted = {}
    for p in params:
        value = p.read()
        if value is not None and len(value) <= MAX_VALUE and redact(value) == value:  # never a key
            wanted[p.key] = value
    if st.query_params.to_dict() != wanted:
        st.query_params.from_dict(wanted)


# ---- parsers: each raises ValueError saying what is allowed -----------------------------------


def choice(raw: str, choices: Sequence[str]) -> str:
    if raw not in choices:
        shown = ", ".join(choices[:8]) + (" …" if len(choices) > 8 else "")
        raise ValueError(f"is not one of {shown}")
    return raw


def whole(raw: str, low: int, high: int) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"is not a whole number from {low} to {high}") from None
    if not low <= value <= high:
        raise ValueError(f"is outside {low}–{high}")
    return value


def number(raw: str, low: float, high: float) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"is not a number from {low} to {high}") from None
    if not math.isfinite(value) or not low <= value <= high:
        raise ValueError(f"is outside {low}–{high}")
    return value


def many(raw: str, parse: Callable[[str], Any]) -> list:
    parts = [p for p in raw.split(",") if p]
    if len(parts) > MAX_LIST:
        raise ValueError(f"lists more than {MAX_LIST} values")
    return list(dict.fromkeys(parse(p) for p in parts))


def _threshold_params(use: str, value: str, page_key: str = "threshold") -> Param:
    """`threshold=0.30` turns the threshold on at that value; `threshold=none` turns it off."""

    def read() -> str:
        return f"{float(state.get(value, 0.3)):.2f}" if state.get(use) else NONE_WORD

    def write(raw: str) -> None:
        if raw == NONE_WORD:
            state.put(use, False)
            return
        state.put(value, round(number(raw, -1.0, 1.0), 2))
        state.put(use, True)

    return Param(page_key, read, write)


def _setting(key: str, name: str, parse: Callable[[str], Any], show: Callable[[Any], str] = str) -> Param:
    """A URL key bound to the widget setting `name` (ui.state)."""

    def read() -> str | None:
        value = state.get(name)
        return None if value is None else show(value)

    return Param(key, read, lambda raw: state.put(name, parse(raw)))


# ---- Chat ---------------------------------------------------------------------------------


def _llm_param() -> Param:
    def write(raw: str) -> None:
        if raw.startswith(providers.COMPATIBLE):
            model = raw[len(providers.COMPATIBLE):]
            from_dict({"answer": {"answerer": raw}}, "the link")  # a plain one-line name, not a URL or key
            state.put("llm", providers.COMPATIBLE)
            state.put("compatible_model", model)
            return
        state.put("llm", choice(raw, [c for c in providers.LLM_CHOICES if c != providers.COMPATIBLE]))

    return Param("answerer", state.chosen_llm, write)


def _retrieval_field(name: str) -> Param:
    """Any other RetrievalSettings field (mode, fusion, alpha ...): typed by the dataclass and
    checked by rag_core.answer.config, so fields added there reach the URL without a change here."""
    kind = _number_kind(typing.get_type_hints(RetrievalSettings)[name])
    low, high = RETRIEVAL_BOUNDS.get(name, (-10**9, 10**9))

    def parse(raw: str) -> Any:
        value: Any = raw
        if raw == NONE_WORD:
            value = raw  # an optional field switched off (the config check says if it may be)
        elif kind is bool:
            value = {"true": True, "false": False}.get(raw, raw)
        elif kind is int:
            value = whole(raw, int(low), int(high))
        elif kind is float:
            value = number(raw, low, high)
        config = from_dict({"retrieval": {name: value}}, "the link")
        return getattr(config.retrieval, name)

    def show(value: Any) -> str:
        return ("true" if value else "false") if isinstance(value, bool) else str(value)

    return _setting(name, name, parse, show)


def _number_kind(hint: Any) -> Any:
    """bool, int or float for a field typed so (Optional included: `mmr_lambda: float | None`
    takes a number from a link too), else None."""
    args = [a for a in typing.get_args(hint) if a is not type(None)] or [hint]
    return args[0] if len(args) == 1 and args[0] in (bool, int, float) else None


def chat_params(names: Sequence[str]) -> tuple[Param, ...]:
    """Chat: index, top-k, threshold, reranker, answerer and every other retrieval field."""
    base = (
        _setting("index", "index", lambda raw: choice(raw, names)),
        _setting("top_k", "top_k", lambda raw: whole(raw, *RETRIEVAL_BOUNDS["top_k"])),
        _threshold_params("use_threshold", "threshold"),
        _setting("reranker", "reranker", lambda raw: choice(raw, providers.RERANKER_CHOICES)),
        _llm_param(),
    )
    extra = tuple(_retrieval_field(f.name) for f in fields(RetrievalSettings) if f.name not in CHAT_RETRIEVAL)
    return base + extra


# ---- Evaluate and Explore ------------------------------------------------------------------


def evaluate_params(names: Sequence[str]) -> tuple[Param, ...]:
    """Evaluate: the indexes, the top-k values, rerankers, threshold and the best-by metric."""

    rerankers = [state.NO_RERANKER, *RERANKERS.names()]
    ks = [str(k) for k in TOP_K_CHOICES]
    joined = lambda values: ",".join(str(v) for v in values)  # noqa: E731
    return (
        _setting("indexes", "eval_indexes", lambda raw: many(raw, lambda p: choice(p, names)), joined),
        _setting("top_ks", "eval_top_ks", lambda raw: many(raw, lambda p: int(choice(p, ks))), joined),
        _setting("rerankers", "eval_rerankers", lambda raw: many(raw, lambda p: choice(p, rerankers)), joined),
        _threshold_params("eval_use_threshold", "eval_threshold"),
        _setting("best_by", "eval_best_by", lambda raw: choice(raw, list(BEST_BY))),
        _setting("retrievers", "eval_methods", lambda raw: many(raw, _method_label), _method_names),
        Param("questions", _read_question_set, _write_question_set),
    )


#: a retriever in a link: its short name -> the label Evaluate's multiselect shows
METHOD_NAMES = {"hybrid-weighted": "hybrid (weighted)", "hybrid-rrf": "hybrid (rrf)", "dense": "dense",
                "bm25": "bm25 (whole index)"}
#: the bundled question sets in a link (an uploaded or generated set cannot travel in one)
QUESTION_SETS = {"demo": DEMO_SET, "demo-hard": HARD_SET}


def _method_label(raw: str) -> str:
    return METHOD_NAMES[choice(raw, list(METHOD_NAMES))]


def _method_names(labels) -> str:
    short = {label: name for name, label in METHOD_NAMES.items()}
    return ",".join(short[label] for label in labels if label in short)


def _read_question_set() -> str | None:
    chosen = state.get("eval_origin")
    return next((name for name, label in QUESTION_SETS.items() if label == chosen), None)


def _write_question_set(raw: str) -> None:
    state.put("eval_origin", QUESTION_SETS[choice(raw, list(QUESTION_SETS))])


def explore_params(names: Sequence[str]) -> tuple[Param, ...]:
    """Explore: the index, the query and its top-k."""

    def write_index(raw: str) -> None:
        # the Explore selectbox starts at the active index (setting its key would fight its index=)
        st.session_state["active_index"] = choice(raw, names)

    def read_index() -> str | None:
        return st.session_state.get("explore_index")

    return (
        Param("index", read_index, write_index),
        _setting("query", "explore_query", lambda raw: raw.strip()[:MAX_VALUE]),
        _setting("top_k", "explore_k", lambda raw: whole(raw, *TOP_K_RANGE)),
        _setting("view", "explore_view", lambda raw: choice(raw, list(EXPLORE_VIEWS))),
    )
