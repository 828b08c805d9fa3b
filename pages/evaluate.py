"""Evaluate: score a grid of retrieval settings against a question set, so tuning is measured."""

import streamlit as st

from rag_core.index import saved
from ui import evaluate, url_state
from ui.guard import guard
from ui.layout import page_setup

page_setup()

st.title(":material/fact_check: Evaluate")
st.markdown("Score retrieval settings against questions whose answers are known: **hit@k** (a relevant "
            "source in the top k), **recall@k**, **MRR** (1 / rank of the first relevant hit) and **nDCG@k**, "
            "plus search latency. Retrieval only: no answer is generated.")
names = saved.index_names()
if not names:
    st.info("There is no index yet. Load the demo corpus on Home, or build an index on Index.")
    st.stop()

url_params = url_state.evaluate_params(names)
url_state.restore("evaluate", url_params)
question_set, grid, chosen = None, None, []
with guard("reading the question set"):
    chosen = evaluate.choose_indexes(names)
    question_set = evaluate.choose_question_set()
    if question_set is not None:
        evaluate.show_questions(question_set)

st.subheader("Settings to compare")
with guard("building the settings grid"):
    grid = evaluate.choose_grid()
    if grid is not None:
        st.caption(f"{len(grid)} setting(s) × {len(chosen)} index(es)"
                   + (f" × {len(question_set)} questions" if question_set else ""))

url_state.publish(url_params)
ready = bool(chosen) and question_set is not None and bool(grid)
if st.button("Run evaluation", type="primary", icon=":material/play_arrow:", disabled=not ready, key="eval_run_button"):
    with guard("evaluating"):
        evaluate.run(chosen, question_set, grid)

run = evaluate.last_run()
if run is not None:
    st.subheader("Results")
    with guard("showing the results"):
        evaluate.note_if_stale(run, chosen, question_set, grid)
        top = evaluate.show_results(run)
        st.subheader("Per question")
        evaluate.drill_down(run, top)
