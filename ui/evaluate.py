"""The Evaluate page's work: choose indexes, a question set and a grid of settings; run the
sweep with a progress bar; show the results table (best row pinned on top, every row there and
sortable), a chart that reads at any number of settings (ranked bars; an index x setting
heatmap when several indexes), CSV/JSON downloads, and a per-question drill-down with each
hit's labelled score.

The last run is kept in `st.session_state["eval_run"]` (this person's results, like the chat
history); indexes come from ui.indexes (cached), so a rerun never reloads a model. The
drill-down remembers its choice by (index, setting), never by position: after another run it
shows the same index and setting if that run has it, else the new best.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Sequence
from dataclasses import dataclass, field

import pandas as pd
import streamlit as st

from rag_core.evaluation.evaluate import (
    against_best,
    questions_to_resolve,
    METRICS,
    SUFFIXES,
    EvalResult,
    QuestionResult,
    QuestionSet,
    best,
    compare_indexes,
    demo_hard_question_set,
    demo_question_set,
    parse_question_set,
    resolve_json,
    result_to_json,
    settings_grid,
    vs_best_json,
)
from rag_core.evaluation.experiments import varying_fields
from rag_core.ingest.table import to_safe_csv
from rag_core.rerank import RERANKERS
from rag_core.core.types import RETRIEVAL_BOUNDS, RetrievalSettings

from ui import eval_charts, eval_significance, handoff, hitcards, indexes, providers, question_gen, room, state, widgets
from ui.retrieval import eval_methods

DEMO_SET = "Demo questions: easy (for the demo corpus)"
HARD_SET = "Demo questions: hard (paraphrased, some unanswerable)"
UPLOAD_SET = "Upload a question set"
GENERATED_SET = "Generate from an index"
#: the bundled sets by the name the radio shows
BUNDLED = {DEMO_SET: demo_question_set, HARD_SET: demo_hard_question_set}
_RUNS = itertools.count(1)
TOP_K_CHOICES = (1, 2, 3, 5, 10, 20)
BEST_BY = {"MRR": "mrr", "hit@k": "hit_rate", "recall@k": "recall", "nDCG@k": "ndcg"}
FORMAT_HELP = ('One question per entry with `question` and `relevant_sources` (the source paths or URLs '
               'that answer it, as shown under each hit on Chat). `.jsonl`: one object per line; `.json`: '
               'a list of objects; `.csv`: columns `question,relevant_sources` with sources separated by `|`.')


@dataclass(frozen=True)
class EvalRun:
    """One press of Run: the results, the question set's name and size, and what was chosen
    (to say when the widgets no longer match the results shown)."""

    results: tuple[EvalResult, ...]
    question_set: str
    n_questions: int
    indexes: tuple[str, ...] = ()
    grid: tuple[RetrievalSettings, ...] = ()
    run_id: int = field(default_factory=lambda: next(_RUNS))


def differences(run_: EvalRun, metric: str) -> list:
    """Each result's paired difference to the best by `metric` (evaluate.against_best), computed
    once per run and metric (10,000 resamples each: too slow to repeat on every rerun)."""
    cache = st.session_state.setdefault("eval_differences", {})
    key = (run_.run_id, metric)
    if key not in cache:
        cache.clear()  # only the run on screen is kept
        cache[key] = against_best(run_.results, metric)
    return cache[key]


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


def choose_question_set(prefix: str = "eval") -> QuestionSet | None:
    """A bundled set by name, or an uploaded file (widget keys start with `prefix`)."""
    key = state.default(f"{prefix}_origin", DEMO_SET)
    if st.session_state[key] not in (*BUNDLED, UPLOAD_SET, GENERATED_SET):  # a label from an older version
        st.session_state[key] = DEMO_SET
    origin = st.radio("Question set", [*BUNDLED, UPLOAD_SET, GENERATED_SET], horizontal=True, key=key)
    if origin in BUNDLED:
        return BUNDLED[origin]()
    if origin == GENERATED_SET:
        return question_gen.generated_question_set(prefix)
    upload = st.file_uploader("Question set file", type=[s.lstrip(".") for s in SUFFIXES], key=f"{prefix}_upload",
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
    threshold = c3.slider("Score threshold", *RETRIEVAL_BOUNDS["score_threshold"], step=0.01, key=state.default("eval_threshold", 0.30),
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
    run_ = EvalRun(tuple(results), question_set.name, len(question_set), tuple(names), tuple(grid))
    st.session_state["eval_run"] = run_
    return run_


def last_run() -> EvalRun | None:
    return st.session_state.get("eval_run")


# ---- showing -------------------------------------------------------------------------------


def result_key(result: EvalResult) -> str:
    """Which (index, setting) a result is: the drill-down's memory across runs."""
    return f"{result.index}\x1f{result.settings!r}"


def names(results: Sequence[EvalResult]) -> list[str]:
    """A short, unique name per result: the index (when several) and what differs in the setting."""
    multi = len({r.index for r in results}) > 1
    fields = varying_fields([r.settings for r in results])
    labels = []
    for r in results:
        setting = " · ".join(_field_text(r.settings, f) for f in fields) if fields else r.label
        labels.append(f"{r.index} · {setting}" if multi else setting)
    return eval_charts.unique_names(labels)


def _field_text(settings: RetrievalSettings, name: str) -> str:
    value = getattr(settings, name)
    if name == "top_k":
        return f"k={value}"
    if name == "score_threshold":
        return "threshold " + ("none" if value is None else f"{value:g}")
    shown = "none" if value is None else (f"{value:g}" if isinstance(value, float) else str(value))
    return f"{name.replace('_', ' ')} {shown}"


def ranked(run_: EvalRun, metric: str) -> list[int]:
    """Positions of the results: the best first, then by `metric` (ties keep the run's order)."""
    top = best(run_.results, metric)
    order = sorted(range(len(run_.results)), key=lambda i: -getattr(run_.results[i], metric))
    return [run_.results.index(top)] + [i for i in order if run_.results[i] is not top]


def results_frame(run_: EvalRun) -> pd.DataFrame:
    """Every (index, setting) row, the best pinned first, the rest by the "Best by" metric."""
    metric = best_by()
    top = best(run_.results, metric)
    label, diffs = names(run_.results), differences(run_, metric)
    rows = []
    for i in ranked(run_, metric):
        r, d = run_.results[i], diffs[i]
        row = r.row()
        rows.append({"best": eval_significance.mark(r is top, d),
                     "index": row["index"], "setting": label[i], "retriever": row["retriever"],
                     "top-k": row["top_k"], "reranker": row["reranker"],
                     "threshold": "none" if row["threshold"] is None else f"{row['threshold']:.2f}",
                     **{name: row[name] for name in METRICS.values()},
                     f"Δ {METRICS[metric]} vs best": 0.0 if d is None else round(d.mean, 4),
                     "95% CI": "best" if d is None else eval_significance.ci_text(d),
                     "p": 1.0 if d is None else round(d.p_value, 4),
                     "latency ms (search + rerank)": row["latency_ms"], "query embed ms": r.embed_text,
                     "misses": row["misses"]})
    return pd.DataFrame(rows)


def results_csv(run_: EvalRun) -> str:
    """The table as shown, with the 95% CI as two numeric columns (its low and high ends)."""
    diffs = differences(run_, best_by())
    return to_safe_csv(eval_significance.split_ci(results_frame(run_), [diffs[i] for i in ranked(run_, best_by())]))


def results_json(run_: EvalRun) -> str:
    """Every row with its per-question hits and its difference to the best (`vs_best`: CI, p),
    best first, plus what was run."""
    metric, diffs = best_by(), differences(run_, best_by())
    vs = vs_best_json(run_.results, metric, differences=diffs)
    payload = {"question_set": run_.question_set, "questions": run_.n_questions, "best_by": METRICS[metric],
               "questions_to_resolve": resolve_json(questions_to_resolve(run_.results, diffs, metric)),
               "results": [result_to_json(run_.results[i], per_question=True) | {"vs_best": vs[i]}
                           for i in ranked(run_, metric)]}
    return json.dumps(payload, indent=2, ensure_ascii=False)


def note_if_stale(run_: EvalRun, chosen: Sequence[str], question_set: QuestionSet | None, grid) -> None:
    """Say so when the widgets no longer describe the results shown (press Run to update)."""
    now = (tuple(chosen), question_set.name if question_set else None, tuple(grid or ()))
    if now != (run_.indexes, run_.question_set, run_.grid):
        st.info(f"These results are from the last run ({', '.join(run_.indexes)} · {run_.question_set} · "
                f"{len(run_.grid)} setting(s)); press Run evaluation to score your current choice.",
                icon=":material/history:")


def show_results(run_: EvalRun) -> EvalResult:
    results = run_.results
    top = best(results, best_by())
    missing = next((r for r in results if r.missing_sources), None)
    if missing is not None:
        st.warning(f"{len(missing.missing_sources)} relevant source(s) of the question set are not in index "
                   f"{missing.index}: the questions about them cannot be hit there.", icon=":material/warning:")
    label = METRICS[best_by()]
    top_name = names(results)[results.index(top)]
    st.success(f"Best by {label}: {widgets.md_escape(top_name)} — hit@{top.k} {top.hit_rate:.3f}, "
               f"MRR {top.mrr:.3f}, nDCG@{top.k} {top.ndcg:.3f}, {top.latency_ms:.2f} ms",
               icon=":material/emoji_events:")
    if st.button(f"Use the best in Chat ({top.index})", icon=":material/chat:", key="eval_use_best",
                 help="Chat opens on this index with this setting."):
        handoff.use_in_chat(top.index, top.settings)
    frame = results_frame(run_)
    styled = frame.style.apply(
        lambda row: ["background-color: #dcfce7; font-weight: 600" if row.name == 0 else "" for _ in row],
        axis=1).format(precision=3)
    st.dataframe(styled, hide_index=True, width="stretch", key="eval_table",
                 height=min(38 + 35 * len(frame), 560))
    st.caption(f"{len(frame)} row(s), the best pinned first; click a column to sort. {run_.n_questions} questions "
               f"from {run_.question_set}; k is each row's top-k. A hit is relevant when its source is one the "
               "question names; each source counts once. Query embed: the mean time of the queries really "
               "embedded, \"cached\" when the embedder's cache served them all.")
    st.caption(uncertainty_caption(run_))
    downloads(run_)
    show_charts(run_, top)
    return top


def uncertainty_caption(run_: EvalRun) -> str:
    """What the Δ, CI and = columns mean, and how many questions a 0.02 difference would need."""
    return eval_significance.caption(run_.results, differences(run_, best_by()), best_by())


def downloads(run_: EvalRun) -> None:
    c1, c2, _ = st.columns([1, 1, 3])
    c1.download_button("Download CSV", results_csv(run_), file_name="evaluation.csv", mime="text/csv",
                       icon=":material/download:", key="eval_download_csv")
    c2.download_button("Download JSON", results_json(run_), file_name="evaluation.json", mime="application/json",
                       icon=":material/download:", key="eval_download_json",
                       help="Every row with its per-question hits, best first.")


def show_charts(run_: EvalRun, top: EvalResult) -> None:
    results, metric = run_.results, best_by()
    label = names(results)
    bars = eval_charts.ranked_bars(results, label, top, metric, differences(run_, metric))
    index_names = list(dict.fromkeys(r.index for r in results))
    settings = list(dict.fromkeys(r.settings for r in results))
    if st.button("Share a snapshot of this run", key="eval_share", icon=":material/share:",
                 help="A read-only link to this table and chart; it opens without the index."):
        room.share_eval(run_, results_json(run_), bars)
    room.share_result()
    if len(index_names) < 2 or len(settings) < 2:
        st.plotly_chart(bars, width="stretch", key="eval_chart")
        return
    tab_bars, tab_heat = st.tabs(["Ranked", "Index × setting"])
    tab_bars.plotly_chart(bars, width="stretch", key="eval_chart")
    setting_names = names([r for r in results if r.index == index_names[0]]) if _same_grid(results, settings) \
        else [str(i + 1) for i in range(len(settings))]
    cells = {(r.index, r.settings): getattr(r, metric) for r in results}
    values = [[cells.get((i, s)) for i in index_names] for s in settings]
    tab_heat.plotly_chart(eval_charts.heatmap(setting_names, index_names, values, metric,
                                              f"{METRICS[metric]} by index and setting"),
                          width="stretch", key="eval_heatmap")


def _same_grid(results: Sequence[EvalResult], settings: Sequence[RetrievalSettings]) -> bool:
    first = results[0].index
    return [r.settings for r in results if r.index == first] == list(settings)


def question_frame(result: EvalResult, only_misses: bool) -> pd.DataFrame:
    rows = [{"question": q.question, "hit": "yes" if q.hit else ("MISS" if q.relevant_sources else "no answer in corpus"),
             "first relevant rank": "—" if q.first_relevant_rank is None else str(q.first_relevant_rank),
             "reciprocal rank": round(q.reciprocal_rank, 3),
             f"nDCG@{result.k}": round(q.ndcg, 3), "relevant sources": " | ".join(q.relevant_sources)}
            for q in result.questions if not only_misses or _missed(q)]
    return pd.DataFrame(rows, columns=["question", "hit", "first relevant rank", "reciprocal rank",
                                       f"nDCG@{result.k}", "relevant sources"])


def _missed(q: QuestionResult) -> bool:
    """A miss: answerable, and no relevant hit (an unanswerable question is not scored)."""
    return bool(q.relevant_sources) and not q.hit


def _keep_choice(key: str, options: Sequence, fallback) -> None:
    """Before the widget is drawn: a remembered value the options no longer hold is replaced."""
    if st.session_state.get(key) not in options:
        st.session_state[key] = fallback


def drill_down(run_: EvalRun, top: EvalResult) -> EvalResult:
    """The chosen (index, setting)'s questions and hits; returns the result shown."""
    results = run_.results
    by_key = {result_key(r): r for r in results}
    label = dict(zip(by_key, names(results)))
    _keep_choice("eval_drill_setting", list(by_key), result_key(top))
    c1, c2 = st.columns([3, 1])
    choice = c1.selectbox("Setting", list(by_key), format_func=label.__getitem__, key="eval_drill_setting")
    only_misses = c2.toggle("Only misses", key=state.default("eval_only_misses", True))
    result = by_key[choice]
    st.caption(f"Questions of index **{widgets.md_escape(result.index)}** with "
               f"**{widgets.md_escape(result.label)}**")
    st.dataframe(question_frame(result, only_misses), hide_index=True, width="stretch", key="eval_questions")
    shown = [i for i, q in enumerate(result.questions) if not only_misses or _missed(q)]
    if not shown:
        st.info("No question missed with this setting. Turn off “Only misses” to see every question's hits.")
        return result
    _keep_choice("eval_drill_question", shown, shown[0])
    qi = st.selectbox("Question", shown, format_func=lambda i: result.questions[i].question,
                      key="eval_drill_question")
    show_question(result.questions[qi])
    return result


def verdict_markdown(q: QuestionResult) -> str:
    """The question's verdict and its relevant sources, shown exactly: a backslash escape inside a
    `code span` is printed as is (Mount\\_Everest), so the sources are escaped plain text."""
    verdict = (f"first relevant hit at rank {q.first_relevant_rank}" if q.hit
               else "no relevant hit in the top k")
    return f"**{widgets.md_escape(verdict)}** · relevant: " + ", ".join(
        widgets.md_literal(s) for s in q.relevant_sources)


def show_question(q: QuestionResult) -> None:
    st.markdown(verdict_markdown(q))
    if not q.hits:
        st.warning("No hits: the score threshold dropped every candidate." if q.below_threshold
                   else "No hits: the index returned nothing.", icon=":material/search:")
    parts = []
    for hit in q.hits:
        tag = ("<span style='color:#15803d;font-weight:600'>✔ relevant</span>" if q.is_relevant(hit)
               else "<span style='color:#b91c1c'>✘ not relevant</span>")
        parts.append(f"<div style='margin-top:0.5rem'>{tag}</div>{hitcards.card_html(hit, question=q.question)}")
    if parts:
        st.markdown("".join(parts), unsafe_allow_html=True)
    if q.below_threshold:
        st.caption("Under the score threshold (not returned):")
        hitcards.hits(q.below_threshold, question=q.question, dimmed=True)
