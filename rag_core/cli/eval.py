"""`python -m rag_core eval`: score a grid of retrieval settings against a question set.

    python -m rag_core eval --index ./indexes/demo                       # demo questions, k=1,3,5,10
    python -m rag_core eval --index A --index B --top-k 5 --reranker none,rrf --json

Prints one row per (index, setting): hit@k, recall@k, MRR, nDCG@k and latency; the best row
(by MRR; ties by hit@k, recall@k, nDCG@k, then the earlier row) is starred. Bad input raises a
RagError, which `rag_core.cli.main` prints as one line `error: ...` (exit 2).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from typing import TypeVar

from rag_core.core.errors import ConfigError
from rag_core.cli import args as types
from rag_core.cli.common import Progress, add_hosted, add_json, credentials, warn
from rag_core.cli.retrieval import add_retrieval_flags
from rag_core.answer.config import retrieval_from
from rag_core.evaluation.evaluate import settings_grid
from rag_core.cli.retrieval import retrieval_overrides, split
from rag_core.index.index import Index
from rag_core.costs import cost_models_for, encoding_for_model
from rag_core.llm import create_llm
from rag_core.retrieval.rewrite import create_rewriter
from rag_core.retrieval.rewrite import require_generative
from rag_core.cli.answer_limits import answer_options
from rag_core.evaluation.evaluate import against_best, best, compare_indexes, question_set_from, questions_to_resolve, resolve_json, result_to_json, vs_best_by_metric, vs_best_json
from rag_core.cli.answer_limits import add_answer_limits
from rag_core.answer.config import add_config_option

T = TypeVar("T")
NONE_WORDS = ("none", "off", "")


def _split(text: str, what: str, convert: Callable[[str], T], example: str) -> list[T]:
    parts = [p.strip() for p in str(text).split(",")]
    try:
        values = [convert(p) for p in parts]
    except ValueError:
        raise ConfigError(f"{what} must be a comma-separated list like {example}, not {text!r}") from None
    return list(dict.fromkeys(values))


def _top_k(part: str) -> int:
    value = int(part)
    if value < 1:
        raise ValueError(part)
    return value


def _threshold(part: str) -> float | None:
    return None if part.lower() in NONE_WORDS else float(part)


def _reranker(part: str) -> str | None:
    return None if part.lower() in NONE_WORDS else part


def parse_grid(args: argparse.Namespace):
    """The RetrievalSettings grid from --top-k, --reranker, --threshold, --retriever, --fusion
    and --alpha; the other retrieval flags (and a --config file's settings) apply to every row."""

    top_ks = _split(args.top_k, "--top-k", _top_k, "1,3,5,10 (each at least 1)")
    rerankers = _split(args.reranker, "--reranker", _reranker, "none,pool-bm25,pool-rrf")
    thresholds = _split(args.threshold, "--threshold", _threshold, "none,0.2,0.4")
    alphas = _split(args.alpha, "--alpha", float, "0.3,0.5,0.7") if args.alpha is not None else None
    base = retrieval_from(getattr(args, "config", None), **retrieval_overrides(args, sweep=True))
    return settings_grid(top_ks, rerankers, thresholds, retrievers=split(args.retriever) if args.retriever else None,
                         fusions=split(args.fusion) if args.fusion else None, alphas=alphas, base=base)


def format_table(results, best_row, differences=None) -> str:
    """The grid; with `differences` (evaluate.against_best), each row's MRR difference to the best
    with its 95% CI, and `=` marking rows that cannot be told apart from the best (`*`)."""
    multi = len({r.index for r in results}) > 1
    header = (["index"] if multi else []) + ["setting", "hit@k", "recall@k", "MRR", "nDCG@k", "latency ms", "misses"]
    header += ["ΔMRR vs best [95% CI], p"] if differences else []
    rows = []
    for n, r in enumerate(results):
        d = differences[n] if differences else None
        mark = "*" if r is best_row else ("=" if d is not None and not d.resolved else " ")
        rows.append(([r.index] if multi else []) + [
            f"{mark} {r.label}", f"{r.hit_rate:.3f}", f"{r.recall:.3f}", f"{r.mrr:.3f}", f"{r.ndcg:.3f}",
            f"{r.latency_ms:.2f}", f"{len(r.misses)}/{len(r.questions) - r.no_answer}",
        ] + ([("best" if r is best_row else "" if d is None else d.text(3))] if differences else []))
    widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(header)]
    numeric_from = 2 if multi else 1
    lines = []
    for row in [header, *rows]:
        cells = [c.rjust(w) if i >= numeric_from else c.ljust(w) for i, (c, w) in enumerate(zip(row, widths))]
        lines.append("  ".join(cells).rstrip())
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _open_indexes(args: argparse.Namespace, creds) -> dict:
    """Each --index once, named by its folder (the full path when two folders share a name)."""

    indexes = {}
    for directory in dict.fromkeys(args.index):
        index = Index.open(directory, credentials=creds, on_warning=warn)
        name = index.directory.name or directory
        indexes[name if name not in indexes else directory] = index
    return indexes


def _rewriter(args: argparse.Namespace, grid, creds):
    """The query rewriter on --llm when the grid rewrites (a ConfigError for extractive)."""
    rewriting = [s for s in grid if s.rewrite]
    if not rewriting:
        return None

    s = rewriting[0]
    if args.llm.strip().lower().partition(":")[0] == "extractive":  # refused before any model is loaded
        require_generative(argparse.Namespace(name=args.llm), s.rewrite)

    llm = create_llm(args.llm, credentials=creds, **answer_options(args, args.llm))
    return create_rewriter(s.rewrite, llm, s.rewrites, encoding=encoding_for_model(cost_models_for(llm, None).chat))


def cmd_eval(args: argparse.Namespace) -> int:
    question_set = question_set_from(args.questions)
    grid = parse_grid(args)
    creds = credentials(args)  # hosted embedders and rerankers (keys from secrets.toml or the environment)
    indexes = _open_indexes(args, creds)
    rewriter = _rewriter(args, grid, creds)
    bar = Progress("evaluating", "questions", args.quiet)
    try:
        results = compare_indexes(indexes, question_set, grid, progress=bar, credentials=creds, rewriter=rewriter)
    finally:
        bar.close()
    top = best(results, "mrr")
    differences = against_best(results, "mrr")
    if args.json:
        out = {
            "question_set": question_set.name,
            "questions": len(question_set),
            "best": {"index": top.index, "setting": top.label},
            "questions_to_resolve_0.02": questions_to_resolve(results, differences),
            "questions_to_resolve": resolve_json(questions_to_resolve(results, differences)),
            "results": [result_to_json(r, per_question=args.per_question) | {"vs_best": v, "vs_best_by_metric": m}
                        for r, v, m in zip(results, vs_best_json(results, "mrr", differences=differences),
                                           vs_best_by_metric(results, "mrr"))],
        }
        print(json.dumps(out, indent=2, ensure_ascii=False))
        return 0
    _print_results(args, question_set, results, top, multi=len(indexes) > 1, differences=differences)
    print(ties_line(results, differences))
    return 0


def ties_line(results, differences) -> str:
    """The footer under a table with `=` marks: how many ties, what a tie is, and the questions a
    difference of 0.02 would need at this variance."""

    needed = questions_to_resolve(results, differences)
    ties = sum(1 for d in differences if d is not None and not d.resolved)
    return (f"= {ties} setting(s) cannot be told apart from the best (paired bootstrap 95% CI of the MRR difference "
            f"includes 0, or randomisation p >= 0.05)"
            + (f"; about {needed:,} questions would resolve a difference of 0.02 at this variance "
               "(80% power, two-sided 0.05)" if needed else ""))


def _print_results(args: argparse.Namespace, question_set, results, top, multi: bool, differences=None) -> None:
    no_answer = sum(1 for q in question_set.questions if not q.relevant_sources)
    scored = f", {no_answer} with no answer in the corpus, not scored" if no_answer else ""
    print(f"question set: {question_set.name} ({len(question_set)} questions{scored}); k = top-k; "
          "latency = search + bm25 + fusion + rerank + mmr per question")
    for r in results:
        if r.missing_sources:
            print(f"warning: {len(r.missing_sources)} relevant source(s) are not in index {r.index} "
                  f"(e.g. {r.missing_sources[0]}); their questions cannot be hit", file=sys.stderr)
            break
    print(format_table(results, top, differences))
    embed = {r.index: r.embed_text for r in results}
    print("query embedding ms: " + ", ".join(f"{k} {v}" for k, v in embed.items()))
    print(f"best (by MRR): {(top.index + ' · ') if multi else ''}{top.label}")
    if args.show_misses:
        for q in top.misses:
            got = ", ".join(h.chunk.section or h.chunk.source for h in q.hits[:3]) or "no hits"
            print(f"  missed: {q.question}  (got: {got})")


def add_eval(p: argparse.ArgumentParser) -> None:
    p.add_argument("--index", action="append", required=True,
                   help="index directory; repeat to compare indexes (e.g. chunking or embedder variants)")
    p.add_argument("--questions", help="question set: demo or demo-hard (bundled), or a .jsonl, .json or .csv file "
                                       "with question and relevant_sources (sources separated by '|' in csv); "
                                       "default: demo")
    p.add_argument("--top-k", default="1,3,5,10", type=types.listing(types.top_k),
                   help="comma-separated top-k values (default 1,3,5,10)")
    p.add_argument("--reranker", default="none", help="comma-separated rerankers, e.g. none,pool-bm25,pool-rrf (default none)")
    p.add_argument("--threshold", default="none", type=types.listing(types.threshold, NONE_WORDS),
                   help="comma-separated first-stage score thresholds, e.g. none,0.3 (default none)")
    add_hosted(p)
    p.add_argument("--llm", default="extractive",
                   help="the answerer that writes the rewrites for --rewrite (a chat model, e.g. openai:gpt-4o-mini "
                        "or compatible:<model>); nothing else in eval uses it")

    add_answer_limits(p, "reply to each rewrite call")
    add_retrieval_flags(p, sweep=True)
    p.add_argument("--show-misses", action="store_true", help="list the questions the best setting missed")
    p.add_argument("--per-question", action="store_true", help="with --json: every question's hits")
    add_json(p, "print one JSON object")

    add_config_option(p)
    p.set_defaults(func=cmd_eval)
