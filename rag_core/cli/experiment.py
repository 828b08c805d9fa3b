"""`experiment`: one index per chunking of the same documents (built, or reused when it already
holds them with these settings), a grid of retrieval settings evaluated on each, and the grid
printed with the best cell starred.

    python -m rag_core experiment --demo --base demo --chunking recursive-500-50,recursive-1000-100 \\
        --questions demo-hard --top-k 5 --reranker none,rrf

Variant indexes are `<root>/<base>--<strategy>-<size>-<overlap>` (root: --root, else the app's
index folder, RAG_PLAYGROUND_INDEXES or ./indexes), so the app lists them. The same by hand:
`ingest --index <root>/<base>--recursive-500-50 --chunk-size 500 --chunk-overlap 50 --replace ...`
once per chunking, then `eval --index A --index B ...`.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from rag_core.core import catalog
from rag_core.index import saved
from rag_core.core.errors import RagError
from rag_core.cli import args as types
from rag_core.cli import data
from rag_core.cli.retrieval import add_retrieval_flags
from rag_core.cli.common import Progress, add_hosted, add_json, add_loading, credentials, warn
from rag_core.cli.eval import NONE_WORDS, format_table, parse_grid, ties_line
from rag_core.evaluation.experiments import parse_variant
from rag_core.ingest.demo import demo_documents
from rag_core.embeddings import DEFAULT_EMBEDDER, create_embedder
from rag_core.providers import is_hosted
from rag_core.evaluation.evaluate import question_set_from
from rag_core.evaluation.experiments import run_experiment
from rag_core.evaluation.evaluate import against_best, questions_to_resolve, resolve_json, result_to_json, vs_best_json
from rag_core.evaluation.experiments import varying_label, varying_fields
from rag_core.answer.config import add_config_option


def _chunkings(args: argparse.Namespace) -> list:
    specs = [s.strip() for given in args.chunking for s in given.split(",") if s.strip()]
    return [parse_variant(s) for s in specs]


def _documents(args: argparse.Namespace) -> list:
    if args.demo == bool(args.paths):
        raise RagError("give the documents: file or folder paths, or --demo for the bundled corpus (not both)")
    if args.demo:
        return demo_documents()
    documents, _ = data._load_files(args)
    if not documents:
        raise RagError("nothing to index: every file was skipped or filtered out; lower --min-words/--min-chars")
    return documents


def _embedder(args: argparse.Namespace, creds):
    name = args.embedder or DEFAULT_EMBEDDER
    if is_hosted(name) and not args.yes:
        raise RagError(f"{name} is hosted: an experiment embeds every chunking (text already in the embedding "
                       "cache is free); estimate one with `estimate`, then rerun with --yes")
    return create_embedder(name, credentials=creds, **({"on_warning": warn} if is_hosted(name) else {}))


def cmd_experiment(args: argparse.Namespace) -> int:
    chunkings = _chunkings(args)
    grid = parse_grid(args)  # the retrieval flags, over a --config file's settings
    question_set = question_set_from(args.questions)
    documents = _documents(args)
    creds = credentials(args)
    building = Progress("building", "chunks", args.quiet)
    evaluating = Progress("evaluating", "questions", args.quiet)

    def on_build(i: int, n: int, variant):
        building.desc = f"building {i + 1}/{n} {variant.name}"
        return building

    try:
        result = run_experiment(args.base, documents, chunkings, grid, question_set, _embedder(args, creds),
                                args.store, root=Path(args.root) if args.root else saved.root(),
                                on_build=on_build, on_eval=evaluating, credentials=creds, replace=args.replace)
    finally:
        building.close()
        evaluating.close()
    _print(args, result)
    return 0


def _print(args: argparse.Namespace, result) -> None:
    top = result.best("mrr")
    fields = varying_fields(result.settings)
    differences = against_best(result.results, "mrr")
    if args.json:
        rows = [{**result_to_json(r), "chunking": result.variant_of(r).slug,
                 "retriever": varying_label(r.settings, fields), "vs_best": vs}
                for r, vs in zip(result.results, vs_best_json(result.results, "mrr", differences=differences))]
        print(json.dumps({"question_set": result.question_set, "reused": list(result.reused),
                          "best": {"index": top.index, "setting": top.label},
                          "questions_to_resolve": resolve_json(questions_to_resolve(result.results, differences)),
                          "results": rows},
                         indent=2, ensure_ascii=False))
        return
    print(f"question set: {result.question_set}; indexes: {', '.join(v.name for v in result.variants)}"
          + (f" (reused: {', '.join(result.reused)})" if result.reused else ""))
    print(format_table(list(result.results), top, differences))
    print(f"best (by MRR): {top.index} · {top.label}")
    print(ties_line(result.results, differences))


_RETRIEVAL_FLAGS = ("retriever", "fusion", "normalise", "alpha", "rrf_k", "candidates", "mmr", "neighbours")


def add_experiment(p: argparse.ArgumentParser) -> None:
    p.add_argument("paths", nargs="*", help="files, folders or zip archives (or --demo)")
    p.add_argument("--demo", action="store_true", help="use the bundled demo corpus")
    p.add_argument("--base", required=True, help="base name: variants are saved as <base>--<strategy>-<size>-<overlap>")
    p.add_argument("--chunking", action="append", required=True,
                   help="strategy-size-overlap[-headers], comma-separated or repeated, e.g. "
                        "recursive-500-50,recursive-1000-100")
    p.add_argument("--root", help="folder of the variant indexes (default: RAG_PLAYGROUND_INDEXES or ./indexes)")
    p.add_argument("--embedder", help="embedder name (default local:all-MiniLM-L6-v2)")
    p.add_argument("--store", choices=catalog.choices("store"), default="faiss", help="vector store (default faiss)")
    p.add_argument("--yes", action="store_true", help="confirm spending on a hosted embedder")
    p.add_argument("--replace", action="store_true",
                   help="rebuild a variant index that this experiment did not build from these documents")
    p.add_argument("--questions", help="demo, demo-hard (bundled), or a .jsonl/.json/.csv file (default demo)")
    p.add_argument("--top-k", default="5", type=types.listing(types.top_k), help="comma-separated top-k values (default 5)")
    p.add_argument("--reranker", default="none", help="comma-separated rerankers, e.g. none,pool-rrf (default none)")
    p.add_argument("--threshold", default="none", type=types.listing(types.threshold, NONE_WORDS),
                   help="comma-separated first-stage score thresholds, e.g. none,0.3 (default none)")
    add_retrieval_flags(p, sweep=True)
    add_hosted(p)
    add_loading(p)
    add_json(p, "print one JSON object")

    add_config_option(p)
    # no retrieval flags here (a --config file's retrieval settings apply): the grid reads them as unset
    p.set_defaults(func=cmd_experiment, **dict.fromkeys(_RETRIEVAL_FLAGS))
