"""`bench`: benchmarks as ratios to raw baselines measured in the same run (rag_core.bench)."""

from __future__ import annotations

import argparse

from .common import add_json, print_out


def cmd_bench(args: argparse.Namespace) -> int:
    from ..bench import micro_figures, run_bench

    results = micro_figures() if args.micro else run_bench(quick=args.quick, progress=not args.quiet)
    print_out(results, args.json)
    return 0


def add_parsers(sub, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("bench", parents=[common], help="benchmarks as ratios to raw baselines measured in the same run")
    add_json(p)
    p.add_argument("--quick", action="store_true", help="10k instead of 100k chunks for the large-index figures")
    p.add_argument("--micro", action="store_true", help="only the micro figures (prompt build ms, demo chunking s)")
    p.set_defaults(func=cmd_bench)
