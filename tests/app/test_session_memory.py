"""A session's chat history is capped (issue 21): a session left open all day keeps its newest
MAX_HISTORY turns, and the session's cost record still counts the dropped ones."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest


def _script():
    import streamlit as st

    from rag_core.costs import TurnCosts
    from rag_core.core.types import Answer, RetrievalSettings, Usage
    from ui import state

    if "done" not in st.session_state:
        for n in range(state.MAX_HISTORY + 5):
            answer = Answer(question=f"q{n}", text="a", hits=(), prompt="", usage=Usage(),
                            settings=RetrievalSettings())
            state.add_entry(state.ChatEntry(answer, "demo", False, TurnCosts(latency_ms={"answer": 1.0})))
        st.session_state["done"] = True
    turns = state.history()
    st.write(f"{len(turns)} {turns[0].answer.question} {state.session_costs().latency_ms['answer']:.0f}")
    state.clear_history()
    st.write(f"{len(state.history())} {dict(state.session_costs().latency_ms)}")


def test_history_is_capped_and_costs_of_dropped_turns_stay_counted():
    from ui.state import MAX_HISTORY

    at = AppTest.from_function(_script).run()
    assert not at.exception
    assert at.markdown[0].value == f"{MAX_HISTORY} q5 {MAX_HISTORY + 5}"
    assert at.markdown[1].value == "0 {}"
