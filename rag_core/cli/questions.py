"""`questions generate`: a question set from any index, so settings can be measured on a
person's own documents (rag_core/evaluation/question_gen.py says how, and what it cannot do)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rag_core.cli import args as types
from rag_core.cli.common import Progress, add_hosted, credentials, warn
from rag_core.index.index import Index
from rag_core.evaluation.question_gen import COPY_BOUND, offline_questions, to_jsonl
from rag_core.costs import DEFAULT_PRICES, cost_models_for, format_usd
from rag_core.llm import create_llm
from rag_core.evaluation.question_gen import llm_plan, llm_questions

MAX_QUESTIONS = 5_000


def cmd_questions(args: argparse.Namespace) -> int:
    creds = credentials(args)
    index = Index.open(args.index, credentials=creds, on_warning=warn)
    bar = Progress("generating", "questions", args.quiet)
    try:
        if args.llm:
            questions = _with_a_model(args, creds, index.store.chunks(), bar)
            if questions is None:
                return 2
        else:
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
        how = (f"{args.llm}, filtered" if args.llm else
               f"offline key-term generator; no question repeats more than {COPY_BOUND} consecutive words of its chunk")
        print(f"wrote {len(questions)} questions to {args.out} ({how}; seed {args.seed}); score settings with: "
              f"python -m rag_core eval --index {args.index} --questions {args.out}")
    return 0


def _with_a_model(args: argparse.Namespace, creds, chunks, bar):
    """Questions from a chat model: the estimate first (and --yes to spend), the true cost after."""

    llm = create_llm(args.llm, credentials=creds)
    model = cost_models_for(llm, None).chat
    price = DEFAULT_PRICES.find(model)
    plan = llm_plan(chunks, args.n, args.seed, price)
    estimate = format_usd(plan.cost_usd) if plan.cost_usd is not None else "an unknown amount (no price)"
    print(f"estimate: {len(plan.prompts)} calls to {args.llm}, about {plan.prompt_tokens:,} prompt and "
          f"{plan.completion_tokens:,} completion tokens, {estimate} on {model}", file=sys.stderr)
    if not args.yes:
        warn("nothing was sent: add --yes to spend that")
        return None
    questions, spent_in, spent_out = llm_questions(plan, llm, progress=lambda done, total: bar(done, total, ""))
    cost = ((spent_in * price.input_per_mtok + spent_out * price.output_per_mtok) / 1_000_000) if price else None
    print(f"spent: {spent_in:,} prompt and {spent_out:,} completion tokens, "
          f"{format_usd(cost) if cost is not None else 'unpriced'}; kept {len(questions)} of {len(plan.prompts)} "
          "questions (dropped: not a question, a long copied span, the title, or a repeat)", file=sys.stderr)
    return questions


def add_questions(p: argparse.ArgumentParser, common: argparse.ArgumentParser) -> None:
    verbs = p.add_subparsers(dest="verb", required=True, metavar="generate")
    g = verbs.add_parser("generate", parents=[common],
                         help="questions with known relevant sources, sampled across the index's sources")
    g.add_argument("--index", required=True, help="index directory")
    g.add_argument("--n", type=types.integer(1, MAX_QUESTIONS), default=200, help="how many (default 200)")
    g.add_argument("--seed", type=types.integer(0, 2**31 - 1), default=0, help="sampling seed (default 0)")
    g.add_argument("--out", required=True, help="the .jsonl file to write (- for standard output)")
    g.add_argument("--llm", help="ask this chat model instead (openai:<model> or compatible:<model>): natural "
                                 "questions, filtered and deduplicated; prints the cost estimate first")
    g.add_argument("--yes", action="store_true", help="spend what the estimate says (with --llm)")
    add_hosted(g)
    g.set_defaults(func=cmd_questions)
