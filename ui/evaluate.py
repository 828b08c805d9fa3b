"""The Evaluate page's work: choose indexes, a question set and a grid of settings; run the
sweep with a progress bar; show the results table (best row highlighted), a chart of the
metrics per setting, and a per-question drill-down with each hit's labelled score.

The last run is kept in `st.session_state["eval_run"]` (this person's results, like the chat
history); indexes come from ui.indexes (cached), so a rerun never reloads a model.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from rag_core.evaluate import (
    METRICS,
    SUFFIXES,
    EvalResult,
    QuestionResult,
    QuestionSet,
    best,
    compare_indexes,
    demo_question_set,
    parse_question_set,
    settings_grid,
)
from rag_core.rerank import RERANKERS
from rag_core.types import RetrievalSettings

from . import indexes, providers, state, widgets
from .retrieval import eval_methods

DEMO_SET = "Demo questions (for the demo corpus)"
UPLOAD_SET = "Upload a question set"
TOP_K_CHOICES = (1, 2, 3, 5, 10, 20)
BEST_BY = {"MRR": "mrr", "hit@k": "hit_rate", "recall@k": "recall", "nDCG@k": "ndcg"}
COLOURS = ("#2563eb", "#16a34a", "#ea580c", "#9333ea")
FORMAT_HELP = ('One question per entry with `question` and `relevant_sources` (the source paths or URLs '
               'that answer it, as shown under each hit on Chat). `.jsonl`: one object per line; `.json`: '
               'a list of objects; `.csv`: columns `question,relevant_sources` with sources separated by `|`.')


@dataclass(frozen=True)
class EvalRun:
    """One press of Run: the results, and the question set's name and size."""

    results: tuple[EvalResult, ...]
    question_set: str
    n_questions: int


def best_by() -> str:
    """The metric that picks the best row (the "Best by" selectbox; MRR by default)."""
    return BEST_BY.get(state.get("eval_best_by", "MRR"), "mrr")


# ---- choosing ------------------------------------------------------------------------------


def choose_indexes(names: Sequence[str]) -> list[str]:
    active = state.active_index()
    first = active if active in names else names[0]
    key = state.default("eval_indexes", [first])
    if any(n not in names for n in st.session_state[key]):  # an index was renamed or deleted
        st.session_state[key] = [n for n in st.session_state[key] if n in names] or [first]
    return st.multiselect("Indexes", list(names), key=key,
                          help="Choose several to compare chunking or embedders: each needs its own index.")


def choose_question_set() -> QuestionSet | None:
    origin = st.radio("Question set", [DEMO_SET, UPLOAD_SET], horizontal=True,
                      key=state.default("eval_origin", DEMO_SET))
    if origin == DEMO_SET:
        return demo_question_set()
    upload = st.file_uploader("Question set file", type=[s.lstrip(".") for s in SUFFIXES], key="eval_upload",
                              help=FORMAT_HELP)
    st.caption(FORMAT_HELP)
    if upload is None:
        st.info("Upload a .jsonl, .json or .csv question set, or use the demo questions.")
        return None
    return parse_question_set(upload.getvalue(), upload.name)


def show_questions(question_set: QuestionSet) -> None:
    with st.expander(f"{len(question_set)} questions in {question_set.name}", expanded=False):
        frame = pd.DataFrame([{"question": q.question, "relevant sources": " | ".join(q.relevant_sources)}
                              for q in question_set.questions])
        st.dataframe(frame, hide_index=True, width="stretch")


def choose_grid():
    """The settings grid from the widgets (top-k values x rerankers x thresholds)."""
    c1, c2, c3, c4 = st.columns([2, 2, 2, 1])
    top_ks = c1.multiselect("Top-k values", TOP_K_CHOICES, key=state.default("eval_top_ks", [1, 3, 5, 10]),
                            help="k for hit@k, recall@k and nDCG@k; MRR counts the first relevant hit in the top k.")
    rerankers = c2.multiselect("Rerankers", [state.NO_RERANKER, *RERANKERS.choices()],
                               key=state.default("eval_rerankers", [state.NO_RERANKER, "pool-bm25", "pool-rrf"]),
                               help="pool-bm25 / pool-rrf re-order the retrieved candidates only (BM25 over that pool; "
                               "RRF of it with the first-stage order).")
    use = c3.checkbox("Also try a score threshold", key=state.default("eval_use_threshold", False),
                      help="Each setting runs with no threshold and with this one (first-stage cosine score).")
    threshold = c3.slider("Score threshold", -1.0, 1.0, step=0.01, key=state.default("eval_threshold", 0.30),
                          disabled=not use)
    c4.selectbox("Best by", list(BEST_BY), key=state.default("eval_best_by", "MRR"))
    thresholds = [None, float(threshold)] if use else [None]
    methods = eval_methods(st) or [(RetrievalSettings().mode, RetrievalSettings().fusion)]
    grid = []
    for mode, fusion in methods:
        grid += settings_grid(top_ks, rerankers, thresholds, retrievers=[mode], fusions=[fusion])
    return grid


# ---- running -------------------------------------------------------------------------------


def run(names: Sequence[str], question_set: QuestionSet, grid) -> EvalRun:
    opened = {name: indexes.load_index(name) for name in names}
    bar = st.progress(0.0, text="Evaluating…")
    shown = [-1.0]

    def progress(done: int, total: int, label: str) -> None:
        fraction = done / total if total else 1.0
        if fraction - shown[0] >= 0.01 or done == total:
            shown[0] = fraction
            bar.progress(fraction, text=f"Question {done} of {total} · {label}")

    results = compare_indexes(opened, question_set, grid, progress=progress,
                              credentials=providers.credentials())
    bar.empty()
    run_ = EvalRun(tuple(results), question_set.name, len(question_set))
    st.session_state["eval_run"] = run_
    return run_


def last_run() -> EvalRun | None:
    return st.session_state.get("eval_run")


# ---- showing -------------------------------------------------------------------------------


def _name(result: EvalResult, multi: bool) -> str:
    return f"{result.index} · {result.label}" if multi else result.label


def results_frame(run_: EvalRun) -> tuple[pd.DataFrame, int]:
    """One row per (index, setting), and the position of the best row."""
    top = best(run_.results, best_by())
    rows = []
    for r in run_.results:
        row = r.row()
        rows.append({"best": "★" if r is top else "", "index": row["index"], "top-k": row["top_k"],
                     "reranker": row["reranker"],
                     "threshold": "none" if row["threshold"] is None else f"{row['threshold']:.2f}",
                     "hit@k": row["hit@k"], "recall@k": row["recall@k"], "MRR": row["MRR"], "nDCG@k": row["nDCG@k"],
                     "latency ms (search + rerank)": row["latency_ms"], "query embed ms": row["embed_ms"],
                     "misses": row["misses"]})
    return pd.DataFrame(rows), run_.results.index(top)


def show_results(run_: EvalRun) -> EvalResult:
    results = run_.results
    top = best(results, best_by())
    multi = len({r.index for r in results}) > 1
    missing = next((r for r in results if r.missing_sources), None)
    if missing is not None:
        st.warning(f"{len(missing.missing_sources)} relevant source(s) of the question set are not in index "
                   f"{missing.index}: the questions about them cannot be hit there.", icon=":material/warning:")
    label = {v: k for k, v in BEST_BY.items()}[best_by()]
    st.success(f"Best by {label}: {widgets.md_escape(_name(top, multi))} — hit@{top.k} {top.hit_rate:.3f}, "
               f"MRR {top.mrr:.3f}, nDCG@{top.k} {top.ndcg:.3f}, {top.latency_ms:.2f} ms",
               icon=":material/emoji_events:")
    frame, best_at = results_frame(run_)
    styled = frame.style.apply(
        lambda row: ["background-color: #dcfce7; font-weight: 600" if row.name == best_at else "" for _ in row],
        axis=1).format(precision=3)
    st.dataframe(styled, hide_index=True, width="stretch", key="eval_table")
    st.caption(f"{run_.n_questions} questions from {run_.question_set}; k is each row's top-k. A hit is relevant "
               "when its source is one the question names; each source counts once.")
    st.plotly_chart(metrics_chart(results, top, multi), width="stretch", key="eval_chart")
    return top


def metrics_chart(results: Sequence[EvalResult], top: EvalResult, multi: bool) -> go.Figure:
    """Grouped bars: the four metrics per setting; the best setting's label is starred."""
    names = [("★ " if r is top else "") + _name(r, multi) for r in results]
    fig = go.Figure()
    for (attr, label), colour in zip(METRICS.items(), COLOURS):
        fig.add_trace(go.Bar(x=names, y=[getattr(r, attr) for r in results], name=label, marker_color=colour,
                             hovertemplate=f"{label} %{{y:.3f}}<extra>%{{x}}</extra>"))
    fig.update_layout(barmode="group", height=440, margin={"l": 10, "r": 10, "t": 40, "b": 10}, font={"size": 14},
                      yaxis={"range": [0, 1.05], "title": "score (mean over questions)"},
                      legend={"orientation": "h", "y": 1.1}, title="Metrics per setting")
    return fig


def question_frame(result: EvalResult, only_misses: bool) -> pd.DataFrame:
    rows = [{"question": q.question, "hit": "yes" if q.hit else "MISS",
             "first relevant rank": q.first_relevant_rank, "reciprocal rank": round(q.reciprocal_rank, 3),
             f"nDCG@{result.k}": round(q.ndcg, 3), "relevant sources": " | ".join(q.relevant_sources)}
            for q in result.questions if not only_misses or not q.hit]
    return pd.DataFrame(rows, columns=["question", "hit", "first relevant rank", "reciprocal rank",
                                       f"nDCG@{result.k}", "relevant sources"])


def drill_down(run_: EvalRun, top: EvalResult) -> None:
    results = run_.results
    multi = len({r.index for r in results}) > 1
    labels = [_name(r, multi) for r in results]
    c1, c2 = st.columns([3, 1])
    pick = c1.selectbox("Setting", range(len(results)), index=results.index(top), format_func=labels.__getitem__,
                        key="eval_drill_setting")
    only_misses = c2.toggle("Only misses", key=state.default("eval_only_misses", True))
    result = results[pick if pick is not None else 0]
    st.dataframe(question_frame(result, only_misses), hide_index=True, width="stretch", key="eval_questions")
    shown = [q for q in result.questions if not only_misses or not q.hit]
    if not shown:
        st.info("No question missed with this setting. Turn off “Only misses” to see every question's hits.")
        return
    qi = st.selectbox("Question", range(len(shown)), format_func=lambda i: shown[i].question,
                      key="eval_drill_question")
    show_question(shown[qi if qi is not None else 0])


def show_question(q: QuestionResult) -> None:
    verdict = (f"first relevant hit at rank {q.first_relevant_rank}" if q.hit
               else "no relevant hit in the top k")
    st.markdown(f"**{widgets.md_escape(verdict)}** · relevant: "
                + ", ".join(f"`{widgets.md_escape(s)}`" for s in q.relevant_sources))
    if not q.hits:
        st.warning("No hits: the score threshold dropped every candidate." if q.below_threshold
                   else "No hits: the index returned nothing.", icon=":material/search:")
    parts = []
    for hit in q.hits:
        tag = ("<span style='color:#15803d;font-weight:600'>✔ relevant</span>" if q.is_relevant(hit)
               else "<span style='color:#b91c1c'>✘ not relevant</span>")
        parts.append(f"<div style='margin-top:0.5rem'>{tag}</div>{widgets.hit_card(hit)}")
    if parts:
        st.markdown("".join(parts), unsafe_allow_html=True)
    if q.below_threshold:
        st.caption("Under the score threshold (not returned):")
        widgets.hits(q.below_threshold, dimmed=True)
