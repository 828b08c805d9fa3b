"""`questions generate`: a question set from any index, so settings can be measured on a
person's own documents (rag_core/question_gen.py says how, and what it cannot do)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import args as types
from .common import Progress, credentials, warn

MAX_QUESTIONS = 5_000


def cmd_questions(args: argparse.Namespace) -> int:
    from ..index import Index
    from ..question_gen import COPY_BOUND, offline_questions, to_jsonl

    index = Index.open(args.index, credentials=credentials(args), on_warning=warn)
    bar = Progress("generating", "questions", args.quiet)
    try:
        questions = offline_questions(index.store.chunks(), n=args.n, seed=args.seed,
                                      progress=lambda done, total: bar(done, total, ""))
    finally:
        bar.close()
    if not questions:
        warn("no chunk of this index has enough distinctive words to ask about; nothing was written")
        return 2
    if len(questions) < args.n:
        warn(f"{len(questions)} questions, not {args.n}: the index has too few usable chunks for more")
    text = to_jsonl(questions)
    if args.out == "-":
        sys.stdout.write(text)
    else:
        Path(args.out).write_text(text, encoding="utf-8")
        print(f"wrote {len(questions)} questions to {args.out} (offline key-term generator, seed {args.seed}; no "
              f"question repeats more than {COPY_BOUND} consecutive words of its chunk); score settings with: "
              f"python -m rag_core eval --index {args.index} --questions {args.out}")
    return 0


def add_parsers(sub, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("questions", parents=[common], help="make a question set from an index")
    verbs = p.add_subparsers(dest="verb", required=True, metavar="generate")
    g = verbs.add_parser("generate", parents=[common],
                         help="questions with known relevant sources, sampled across the index's sources")
    g.add_argument("--index", required=True, help="index directory")
    g.add_argument("--n", type=types.integer(1, MAX_QUESTIONS), default=200, help="how many (default 200)")
    g.add_argument("--seed", type=types.integer(0, 2**31 - 1), default=0, help="sampling seed (default 0)")
    g.add_argument("--out", required=True, help="the .jsonl file to write (- for standard output)")
    g.set_defaults(func=cmd_questions)
