"""`bench`: benchmarks as ratios to raw baselines measured in the same run (rag_core.bench)."""

from __future__ import annotations

import argparse

from .common import add_json, print_out


def cmd_bench(args: argparse.Namespace) -> int:
    from ..bench import micro_figures, run_bench

    if args.retrieval:
        from ..bench_retrieval import run

        print_out(run(quick=args.quick, progress=not args.quiet), args.json)
        return 0
    results = micro_figures() if args.micro else run_bench(quick=args.quick, progress=not args.quiet)
    print_out(results, args.json)
    return 0


def add_parsers(sub, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("bench", parents=[common], help="benchmarks as ratios to raw baselines measured in the same run")
    add_json(p)
    p.add_argument("--quick", action="store_true", help="10k instead of 100k chunks for the large-index figures")
    p.add_argument("--micro", action="store_true", help="only the micro figures (prompt build ms, demo chunking s)")
    p.add_argument("--retrieval", action="store_true",
                   help="only the retrieval figures: hybrid vs dense query p50, BM25 build share of the demo ingest, "
                        "a 12-setting x 1,000-question sweep (100k chunks; 10k with --quick)")
    p.set_defaults(func=cmd_bench)
