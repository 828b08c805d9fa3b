"""Evaluate's "Generated from an index" question set: made offline from the index's own chunks
(rag_core/evaluation/question_gen.py), editable in a table, saved beside the index and downloadable, so
settings can be measured on a person's own documents."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from rag_core.index import saved
from rag_core.core.errors import RagError
from rag_core.evaluation.evaluate import EvalQuestion, QuestionSet, parse_question_set
from rag_core.costs import cost_models_for, format_usd
from rag_core.evaluation.question_gen import (COPY_BOUND, MEASURED_TAU, GeneratedQuestion, LlmPlan, llm_plan, llm_questions,
                                   offline_questions, to_jsonl)

from ui import indexes, providers, state, widgets

SAVED_NAME = "questions-generated.jsonl"
GENERATED = "eval_generated"  # session key: index name -> the (edited) questions frame
SPENT = "eval_generated_spent"  # what the last chat-model generation spent
OFFLINE, WITH_A_MODEL = "offline (no model)", "with a chat model"


def _saved_path(name: str):
    return saved.index_dir(name) / SAVED_NAME


def _frame(question_set: QuestionSet) -> pd.DataFrame:
    return pd.DataFrame([{"question": q.question, "relevant_sources": " | ".join(q.relevant_sources)}
                         for q in question_set.questions])


def _generate(name: str, n: int, seed: int, plan: LlmPlan | None = None, model: str = "") -> pd.DataFrame:
    bar = st.progress(0.0, text="Generating questions…")
    tick = lambda done, total: bar.progress(done / total, text=f"{done} of {total}")  # noqa: E731
    if plan is None:
        questions = offline_questions(indexes.load_index(name).store.chunks(), n=n, seed=seed, progress=tick)
    else:
        questions, spent_in, spent_out = llm_questions(plan, providers.llm(model), progress=tick)
        price = state.price_table().find(cost_models_for(providers.llm(model), None).chat)
        cost = (spent_in * price.input_per_mtok + spent_out * price.output_per_mtok) / 1e6 if price else None
        st.session_state[SPENT] = (f"Spent {spent_in:,} prompt and {spent_out:,} completion tokens"
                                   + (f", {format_usd(cost)}" if cost is not None else " (no price in the table)")
                                   + f"; kept {len(questions)} of {len(plan.prompts)} questions.")
    bar.empty()
    return _frame(QuestionSet("generated", tuple(EvalQuestion(q.question, q.relevant_sources) for q in questions)))


def _model_plan(name: str, n: int, seed: int, prefix: str) -> tuple[LlmPlan, str] | None:
    """The chat model to ask, and what that would cost (accepted explicitly before spending)."""
    models = [m for m in providers.LLM_CHOICES if providers.is_hosted(m) and m != providers.COMPATIBLE]
    model = st.selectbox("Chat model", models, key=state.default(f"{prefix}_gen_model", models[0]))
    price = state.price_table().find(model)
    plan = llm_plan(indexes.load_index(name).store.chunks(), n, seed, price)
    cost = format_usd(plan.cost_usd) if plan.cost_usd is not None else "an unknown amount"
    accepted = st.checkbox(f"I accept spending about {cost} ({len(plan.prompts)} calls, ~{plan.prompt_tokens:,} "
                           f"prompt and ~{plan.completion_tokens:,} completion tokens on {model})".replace("$", "\\$"),
                           key=f"{prefix}_gen_accept:{model}:{len(plan.prompts)}")
    return (plan, model) if accepted else None


def _as_set(frame: pd.DataFrame, name: str) -> QuestionSet:
    rows = [EvalQuestion(str(r["question"]).strip(), tuple(s.strip() for s in str(r["relevant_sources"]).split("|")
                                                          if s.strip()))
            for _, r in frame.iterrows() if str(r.get("question") or "").strip()]
    return QuestionSet(f"generated from {name}", tuple(rows))


def generated_question_set(prefix: str = "eval") -> QuestionSet | None:
    """Choose an index, generate (or load the saved set), edit, save and download."""
    names = saved.index_names()
    if not names:
        st.info("Build an index on the Index page first: questions are generated from its chunks.")
        return None
    c1, c2, c3 = st.columns([2, 1, 1])
    name = c1.selectbox("Index to generate from", names, key=state.default(f"{prefix}_gen_index", names[0]))
    n = c2.number_input("Questions", 5, 1000, step=5, key=state.default(f"{prefix}_gen_n", 100))
    seed = c3.number_input("Seed", 0, 1_000_000, key=state.default(f"{prefix}_gen_seed", 0))
    store = st.session_state.setdefault(GENERATED, {})
    if name not in store and _saved_path(name).is_file():
        try:
            store[name] = _frame(parse_question_set(_saved_path(name).read_bytes()[:20_000_000], SAVED_NAME))
        except RagError as exc:
            st.warning(f"The saved set beside {widgets.md_escape(name)} is unreadable ({exc}); generate it again.")
    generator = st.radio("Generator", [OFFLINE, WITH_A_MODEL], horizontal=True,
                         key=state.default(f"{prefix}_gen_kind", OFFLINE),
                         help="Offline: the chunk's distinctive words, no model, free. With a chat model: natural "
                              "questions, filtered for copied spans and titles, deduplicated; costs tokens.")
    asked = _model_plan(name, int(n), int(seed), prefix) if generator == WITH_A_MODEL else None
    if st.button("Generate from this index", icon=":material/auto_awesome:", key=f"{prefix}_gen_run",
                 disabled=generator == WITH_A_MODEL and asked is None):
        store[name] = _generate(name, int(n), int(seed), *(asked or (None, "")))
    if st.session_state.get(SPENT):
        st.info(st.session_state[SPENT].replace("$", "\\$"))
    if name not in store:
        st.caption("Offline, no model: each question names a sampled chunk's most distinctive words; its relevant "
                   "source is that chunk's source.")
        return None
    if generator == OFFLINE:
        st.caption(f"Orders settings like hand-written questions: τ = {MEASURED_TAU:.2f} (Kendall's tau on the demo "
                   "corpus; 1 = the same order). Below 0.6 it favours keyword search: treat its ranking as a first "
                   f"look, and check the leaders with questions of your own. No question repeats more than "
                   f"{COPY_BOUND} consecutive words of its chunk. Drop or fix rows below.")
    else:
        st.caption("How well a chat model's questions order settings like hand-written ones has not been measured "
                   "(no chat model was reachable where this was built). Drop or fix rows below.")
    edited = st.data_editor(store[name], num_rows="dynamic", width="stretch", key=f"{prefix}_gen_editor:{name}",
                            hide_index=True)
    question_set = _as_set(edited, name)
    jsonl = to_jsonl_rows(question_set)
    b1, b2, _ = st.columns([1, 1, 3])
    if b1.button("Save beside the index", icon=":material/save:", key=f"{prefix}_gen_save"):
        _saved_path(name).write_text(jsonl, encoding="utf-8")
        store[name] = edited
        st.success(f"Saved {len(question_set)} questions as {SAVED_NAME} in index {widgets.md_escape(name)}.")
    b2.download_button("Download JSONL", jsonl, file_name=f"{name}-{SAVED_NAME}", mime="application/jsonl",
                       key=f"{prefix}_gen_download", icon=":material/download:")
    return question_set if question_set.questions else None


def to_jsonl_rows(question_set: QuestionSet) -> str:
    return to_jsonl([GeneratedQuestion(q.question, q.relevant_sources, "", "edited") for q in question_set.questions])
