"""`python -m rag_core eval`: score a grid of retrieval settings against a question set.

    python -m rag_core eval --index ./indexes/demo                       # demo questions, k=1,3,5,10
    python -m rag_core eval --index A --index B --top-k 5 --reranker none,pool-rrf --json

Prints one row per (index, setting): hit@k, recall@k, MRR, nDCG@k and latency; the best row
(by MRR; ties by hit@k, recall@k, nDCG@k, then the earlier row) is starred. Bad input raises a
RagError, which cli.main prints as one line `error: ...` (exit 2).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from typing import TypeVar

from . import cli_args as args_t
from .cli_retrieval import add_retrieval_flags
from .errors import ConfigError

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
    and --alpha (the other retrieval flags apply to every row)."""
    from .cli_retrieval import base_settings, split
    from .evaluate import settings_grid

    top_ks = _split(args.top_k, "--top-k", _top_k, "1,3,5,10 (each at least 1)")
    rerankers = _split(args.reranker, "--reranker", _reranker, "none,pool-bm25,pool-rrf")
    thresholds = _split(args.threshold, "--threshold", _threshold, "none,0.2,0.4")
    alphas = _split(args.alpha, "--alpha", float, "0.3,0.5,0.7")
    return settings_grid(top_ks, rerankers, thresholds, retrievers=split(args.retriever),
                         fusions=split(args.fusion), alphas=alphas, base=base_settings(args))


class _Bar:
    def __init__(self, quiet: bool) -> None:
        self.quiet, self.bar = quiet, None

    def __call__(self, done: int, total: int, label: str) -> None:
        if self.quiet:
            return
        if self.bar is None:
            from tqdm import tqdm

            self.bar = tqdm(total=total, desc="evaluating", unit="question", file=sys.stderr, leave=False)
        self.bar.n = done
        self.bar.refresh()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def format_table(results, best_row) -> str:
    multi = len({r.index for r in results}) > 1
    header = (["index"] if multi else []) + ["setting", "hit@k", "recall@k", "MRR", "nDCG@k", "latency ms", "misses"]
    rows = []
    for r in results:
        mark = "*" if r is best_row else " "
        rows.append(([r.index] if multi else []) + [
            f"{mark} {r.label}", f"{r.hit_rate:.3f}", f"{r.recall:.3f}", f"{r.mrr:.3f}", f"{r.ndcg:.3f}",
            f"{r.latency_ms:.2f}", f"{len(r.misses)}/{len(r.questions) - r.no_answer}",
        ])
    widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(header)]
    numeric_from = 2 if multi else 1
    lines = []
    for row in [header, *rows]:
        cells = [c.rjust(w) if i >= numeric_from else c.ljust(w) for i, (c, w) in enumerate(zip(row, widths))]
        lines.append("  ".join(cells).rstrip())
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def cmd_eval(args: argparse.Namespace) -> int:
    from .cli import _credentials, _warn  # lazy: cli imports this module
    from .evaluate import best, compare_indexes, demo_question_set, load_question_set, result_to_json
    from .index import Index

    question_set = load_question_set(args.questions) if args.questions else demo_question_set()
    grid = parse_grid(args)
    credentials = _credentials(args)  # hosted embedders and rerankers (keys from secrets.toml or the environment)
    directories = list(dict.fromkeys(args.index))
    indexes = {}
    for directory in directories:
        index = Index.open(directory, credentials=credentials, on_warning=_warn)
        name = index.directory.name or directory
        indexes[name if name not in indexes else directory] = index
    bar = _Bar(args.quiet)
    try:
        results = compare_indexes(indexes, question_set, grid, progress=bar, credentials=credentials)
    finally:
        bar.close()
    top = best(results, "mrr")
    if args.json:
        out = {
            "question_set": question_set.name,
            "questions": len(question_set),
            "best": {"index": top.index, "setting": top.label},
            "results": [result_to_json(r, per_question=args.per_question) for r in results],
        }
        print(json.dumps(out, indent=2, ensure_ascii=False))
        return 0
    no_answer = sum(1 for q in question_set.questions if not q.relevant_sources)
    scored = f", {no_answer} with no answer in the corpus, not scored" if no_answer else ""
    print(f"question set: {question_set.name} ({len(question_set)} questions{scored}); k = top-k; "
          "latency = search + bm25 + fusion + rerank + mmr per question")
    for r in results:
        if r.missing_sources:
            print(f"warning: {len(r.missing_sources)} relevant source(s) are not in index {r.index} "
                  f"(e.g. {r.missing_sources[0]}); their questions cannot be hit", file=sys.stderr)
            break
    print(format_table(results, top))
    embed = {r.index: r.embed_ms for r in results}
    print("query embedding ms (first time): " + ", ".join(f"{k} {v:.1f}" for k, v in embed.items()))
    print(f"best (by MRR): {(top.index + ' · ') if len(indexes) > 1 else ''}{top.label}")
    if args.show_misses:
        for q in top.misses:
            got = ", ".join(h.chunk.section or h.chunk.source for h in q.hits[:3]) or "no hits"
            print(f"  missed: {q.question}  (got: {got})")
    return 0


def add_eval_parser(sub, common: argparse.ArgumentParser) -> argparse.ArgumentParser:
    p = sub.add_parser("eval", parents=[common],
                       help="score retrieval settings against a question set (hit@k, MRR, nDCG, latency)")
    p.add_argument("--index", action="append", required=True,
                   help="index directory; repeat to compare indexes (e.g. chunking or embedder variants)")
    p.add_argument("--questions", help="question set: .jsonl, .json or .csv with question and relevant_sources "
                                       "(sources separated by '|' in csv); default: the demo question set")
    p.add_argument("--top-k", default="1,3,5,10", type=args_t.listing(args_t.top_k), help="comma-separated top-k values (default 1,3,5,10)")
    p.add_argument("--reranker", default="none", help="comma-separated rerankers, e.g. none,pool-bm25,pool-rrf (default none)")
    p.add_argument("--threshold", default="none", type=args_t.listing(args_t.threshold, NONE_WORDS),
                   help="comma-separated first-stage score thresholds, e.g. none,0.3 (default none)")
    p.add_argument("--base-url", help="base URL of an OpenAI-compatible server for compatible:<model> embedders, "
                   "e.g. http://localhost:11434/v1 (keys: OPENAI_API_KEY, COHERE_API_KEY, COMPATIBLE_API_KEY "
                   "or .streamlit/secrets.toml; OPENAI_BASE_URL / COHERE_BASE_URL for proxies)")
    add_retrieval_flags(p, sweep=True)
    p.add_argument("--show-misses", action="store_true", help="list the questions the best setting missed")
    p.add_argument("--per-question", action="store_true", help="with --json: every question's hits")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=cmd_eval)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Standalone entry (until cli.py wires `eval` in): same error handling as cli.main."""
    from .errors import RagError

    parser = args_t.Parser(prog="python -m rag_core")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--quiet", action="store_true", help="no progress bars")
    add_eval_parser(parser.add_subparsers(dest="command", required=True), common)
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # bad arguments: the one error line is printed, the code returned
        return int(exc.code or 0)
    try:
        return args.func(args)
    except RagError as exc:
        from .providers import Credentials, redact

        print(f"error: {redact(exc, Credentials.from_env())}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
