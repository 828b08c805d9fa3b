"""Settings → Answers: this session's deadline for a chat model's answer (and each rewrite call)
and the longest answer it may ask for, drawn from the one range in rag_core/llm/limits.py;
`options()` passes them to every hosted answerer the session creates (ui/providers.py)."""

from __future__ import annotations

import streamlit as st

from rag_core.core.errors import ConfigError
from rag_core.llm.limits import (ANSWER_DEADLINE_S, ANSWER_TOKENS, DEFAULT_ANSWER_DEADLINE_S, DEFAULT_ANSWER_TOKENS,
                                 check_deadline, check_tokens, max_answer_chars)

from ui import state


def row() -> None:
    c1, c2 = st.columns(2)
    c1.number_input("Answer deadline (seconds)", *ANSWER_DEADLINE_S, step=5.0,
                    key=state.default("answer_deadline_s", DEFAULT_ANSWER_DEADLINE_S),
                    help="A chat model's whole answer, and each query-rewrite call, must arrive within this; "
                         "a slower stream is closed with an error that says so.")
    c2.number_input("Longest answer (tokens)", *ANSWER_TOKENS, step=64,
                    key=state.default("max_answer_tokens", DEFAULT_ANSWER_TOKENS),
                    help="Asked of the model as max_tokens; a stream longer than 16 characters per token (plus "
                         "1,000) is cut off, for a server that ignores it.")
    tokens = options()["max_answer_tokens"]
    st.caption(f"An answer may stream at most {max_answer_chars(tokens):,} characters.")


def options() -> dict:
    """The session's limits as answerer options; a value outside the range (an older session's)
    is the default instead."""
    try:
        deadline = check_deadline(state.get("answer_deadline_s", DEFAULT_ANSWER_DEADLINE_S))
    except ConfigError:
        deadline = DEFAULT_ANSWER_DEADLINE_S
    try:
        tokens = check_tokens(int(state.get("max_answer_tokens", DEFAULT_ANSWER_TOKENS)))
    except (ConfigError, TypeError, ValueError):
        tokens = DEFAULT_ANSWER_TOKENS
    return {"answer_deadline_s": deadline, "max_answer_tokens": tokens}
