"""The chunking experiment on the Index page: 2-5 chunkings x retrievers x a question set ->
variant indexes built (or reused) with a progress bar, evaluated, and shown as one chart
(metric against chunk size, one line per retriever), a heatmap and a table; the best cell is
one click from Chat. The work is rag_core/evaluation/experiments.py; this is widgets around it.

The last experiment is kept in `st.session_state["experiment"]`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import pandas as pd
import streamlit as st

from rag_core import costs
from rag_core.index import saved
from rag_core.ingest.chunking import STRATEGIES
from rag_core.evaluation.evaluate import METRICS, QuestionSet, against_best
from rag_core.core.errors import ConfigError
from rag_core.evaluation.experiments import (HEADERS, MAX_CHUNKINGS, REPLACE_REFUSED, Chunking, ExperimentResult, Variant, chunking_slug,
                                  headers_supported, parse_variant, varying_label, run_experiment, variant_name,
                                  varying_fields)
from rag_core.providers import is_hosted
from rag_core.rerank import RERANKERS
from rag_core.retrieval import MODES
from rag_core.core.types import ChunkingConfig, Document, RetrievalSettings

from ui import eval_charts, eval_significance, evaluate, handoff, providers, state
from ui.progress import BuildProgress
from ui.widgets import md_literal
from rag_core.ingest.chunking import chunk_documents
from ui.cache import build_lock

KEY = "experiment"
#: the refusal to replace an index this experiment did not build, shown with a confirm button
REFUSED = "experiment_refused"
SIZES = (200, 300, 500, 800, 1000, 1500, 2000)


def presets() -> list[str]:
    """Chunkings offered in the picker (any other `strategy-size-overlap` can be typed)."""
    out = [chunking_slug(ChunkingConfig("recursive", size, size // 10)) for size in SIZES]
    out += [chunking_slug(ChunkingConfig("tokens", size, size // 8)) for size in (128, 256, 512)]
    out += [chunking_slug(ChunkingConfig("chars", size, size // 10)) for size in (500, 1000)]
    bools = [f.name for f in dataclasses.fields(ChunkingConfig) if isinstance(f.default, bool)]
    if headers_supported():
        bools.append(HEADERS)  # the contextual-headers index option
    out += [f"{chunking_slug(ChunkingConfig('recursive', 1000, 100))}-{flag}" for flag in bools]
    return out


def choose_chunkings() -> list[Chunking]:
    picked = st.multiselect(
        f"Chunkings (2-{MAX_CHUNKINGS})", presets(), key=state.default("exp_chunkings", ["recursive-500-50", "recursive-1000-100"]),
        accept_new_options=True, max_selections=MAX_CHUNKINGS,
        help=f"strategy-size-overlap; type your own, e.g. recursive-700-70. Strategies: {', '.join(STRATEGIES)}.")
    return [parse_variant(p) for p in picked]


def choose_settings() -> list[RetrievalSettings]:
    """Retrievers: every retrieval mode x reranker chosen, at one top-k."""
    modes = list(MODES)
    if len(modes) > 1:
        c1, c2, c3 = st.columns([2, 2, 1])
        chosen_modes = c1.multiselect("Retrieval modes", modes, key=state.default("exp_modes", modes[:1]))
    else:  # no empty column where the modes would be
        c2, c3 = st.columns([4, 1])
        chosen_modes = modes
    offered = [state.NO_RERANKER, *RERANKERS.choices()]
    fusing = [c for c in offered if c.endswith("rrf")][:1]  # `rrf`, or `pool-rrf` where renamed
    rerankers = c2.multiselect("Rerankers", offered, key=state.default("exp_rerankers", [state.NO_RERANKER, *fusing]))
    top_k = c3.number_input("Top-k", 1, handoff.CHAT_MAX_TOP_K, key=state.default("exp_top_k", 5))
    return [RetrievalSettings(top_k=int(top_k), mode=m, reranker=None if r == state.NO_RERANKER else r)
            for m in chosen_modes for r in rerankers]


def form(docs: Sequence[Document], embedder: str | None, store: str) -> None:
    """The experiment's widgets and its Run button (the results are drawn by `show`)."""
    c1, c2 = st.columns([2, 1])
    base = c1.text_input("Base name of the variant indexes", key=state.default("exp_base", "experiment"),
                         help="Each variant is saved as <base>--<strategy>-<size>-<overlap>.")
    c2.selectbox("Best by", list(evaluate.BEST_BY), key=state.default("exp_best_by", "MRR"))
    chunkings = choose_chunkings()
    grid = choose_settings()
    question_set = evaluate.choose_question_set(prefix="exp")
    names = [variant_name(base, c) for c in chunkings]
    st.caption(f"{len(chunkings)} chunking(s) × {len(grid)} retriever(s) = {len(chunkings) * len(grid)} cells; "
               f"indexes: {', '.join(names) or 'none yet'} (one this experiment built from these documents is reused, or "
               "rebuilt when its settings changed; any other index of that name is replaced only if you confirm)")
    confirmed = not (embedder and is_hosted(embedder)) or confirm_hosted(docs, chunkings, embedder)
    ready = (bool(docs) and embedder is not None and 2 <= len(chunkings) <= MAX_CHUNKINGS and bool(grid)
             and question_set is not None and confirmed)
    if st.button("Run experiment", type="primary", icon=":material/science:", disabled=not ready, key="exp_run",
                 help=None if ready else f"Choose documents, 2-{MAX_CHUNKINGS} chunkings, a retriever and a question set."):
        st.session_state.pop(REFUSED, None)
        try:
            run(base, docs, chunkings, grid, question_set, embedder, store)
        except ConfigError as exc:
            if exc.kind != REPLACE_REFUSED:
                raise
            st.session_state[REFUSED] = str(exc)
    if st.session_state.get(REFUSED):
        st.warning(md_literal(st.session_state[REFUSED]))
        if st.button("Replace it and run", icon=":material/warning:", key="exp_replace", disabled=not ready):
            st.session_state.pop(REFUSED, None)
            run(base, docs, chunkings, grid, question_set, embedder, store, replace=True)


def confirm_hosted(docs: Sequence[Document], chunkings: Sequence[Chunking], embedder: str) -> bool:
    """A hosted embedder embeds every variant: an upper bound of the cost, accepted explicitly."""

    texts = [c.text for chunking in chunkings for c in chunk_documents(list(docs), chunking.config)]
    model = embedder.partition("@")[0].partition(":")[2]
    table = state.price_table()
    price = costs.format_usd(costs.estimate_ingest_cost(texts, model, table).cost_usd) if model in table else "unknown"
    return st.checkbox(f"I accept spending up to {price} ({len(texts):,} chunks on {embedder}; texts already in the "
                       "embedding cache cost nothing)".replace("$", "\\$"), key=f"exp_spend:{len(texts)}:{embedder}")


def run(base: str, docs: Sequence[Document], chunkings: Sequence[Chunking], grid: Sequence[RetrievalSettings],
        question_set: QuestionSet, embedder_name: str, store: str, replace: bool = False) -> ExperimentResult:
    bar = st.progress(0.0, text="Building the variant indexes…")

    def on_build(i: int, n: int, variant: Variant):
        tracker = BuildProgress(bar)

        def progress(done: int, total: int, label: str = "") -> None:
            tracker(done, total, label)
            bar.progress(min(done / total, 1.0) if total else 1.0,
                         text=f"Index {i + 1} of {n}: {variant.name} · {done:,} of {total:,} chunks embedded")
        return progress

    def on_eval(done: int, total: int, label: str) -> None:
        bar.progress(done / total if total else 1.0, text=f"Evaluating: question {done} of {total} · {label}")

    with build_lock():
        result = run_experiment(base, docs, chunkings, grid, question_set, providers.embedder(embedder_name), store,
                                root=saved.root(), on_build=on_build, on_eval=on_eval,
                                credentials=providers.credentials(), replace=replace)
    bar.empty()
    st.session_state[KEY] = result
    return result


def last() -> ExperimentResult | None:
    return st.session_state.get(KEY)


def _metric() -> str:
    return evaluate.BEST_BY.get(state.get("exp_best_by", "MRR"), "mrr")


def show(result: ExperimentResult) -> None:
    """The best cell, the chart, a heatmap and the table; "Use in Chat" on the best."""
    metric = _metric()
    label = METRICS[metric]
    top = result.best(metric)
    fields = varying_fields(result.settings)
    top_retriever = varying_label(top.settings, fields)
    st.success(f"Best by {label}: **{top.index}** with {top_retriever} — {label} {getattr(top, metric):.3f} "
               f"(hit@{top.k} {top.hit_rate:.3f}, MRR {top.mrr:.3f}) on {result.question_set}",
               icon=":material/emoji_events:")
    if st.button(f"Use {top.index} with these settings in Chat", type="primary", icon=":material/chat:",
                 key="exp_use_best"):
        handoff.use_in_chat(top.index, top.settings)
    if result.reused:
        st.caption(f"Reused (already built with these settings and documents): {', '.join(result.reused)}")
    rows, diffs = rows_and_differences(result, metric)
    chart, heat, table = st.tabs(["Chart", "Heatmap", "Table"])
    chart.plotly_chart(eval_charts.size_lines(rows, metric, top.index, top_retriever), width="stretch",
                       key="exp_chart")
    retrievers = list(dict.fromkeys(r["retriever"] for r in rows))
    cells = {(r["index"], r["retriever"]): r[label] for r in rows}
    values = [[cells.get((v.name, t)) for t in retrievers] for v in result.variants]
    heat.plotly_chart(eval_charts.heatmap([v.slug for v in result.variants], retrievers, values, metric,
                                          f"{label} by chunking and retriever"), width="stretch", key="exp_heatmap")
    table.dataframe(table_frame(rows, top.index, top_retriever, label), hide_index=True, width="stretch",
                    key="exp_table")
    table.caption(eval_significance.caption(result.results, diffs, metric))


def rows_and_differences(result: ExperimentResult, metric: str) -> tuple[list[dict], list]:
    """The table's rows and each cell's difference to the best (evaluate.against_best), computed
    once per result and metric (10,000 resamples per cell: too slow to repeat on every rerun)."""
    cached = st.session_state.get("exp_differences")
    if not cached or cached[0] is not result or cached[1] != metric:
        diffs = against_best(result.results, metric)
        cached = (result, metric, result.rows(metric, diffs), diffs)
        st.session_state["exp_differences"] = cached
    return cached[2], cached[3]


def table_frame(rows: Sequence[dict], best_index: str, best_retriever: str, label: str) -> pd.DataFrame:
    """Every cell, the best pinned first and the rest by the metric."""
    frame = pd.DataFrame([{k: v for k, v in r.items() if k != "vs_best"} for r in rows])
    vs = [r.get("vs_best") or {} for r in rows]
    frame.insert(0, "best", ["★" if (r["index"], r["retriever"]) == (best_index, best_retriever)
                             else ("=" if v.get("tied_with_best") else "") for r, v in zip(rows, vs)])
    frame[f"Δ {label} vs best"] = [v.get("difference") for v in vs]
    frame["95% CI"] = [f"[{v['ci95'][0]:+.3f}, {v['ci95'][1]:+.3f}]" if v.get("ci95") else "" for v in vs]
    frame["p"] = [v.get("p_value") for v in vs]
    frame = frame.drop(columns=["family", "reranker", "top_k", "threshold"], errors="ignore")
    pinned = frame["best"] == "★"
    return pd.concat([frame[pinned], frame[~pinned].sort_values(label, ascending=False, kind="stable")]
                     ).reset_index(drop=True)
