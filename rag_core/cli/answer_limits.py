"""`--answer-timeout` and `--max-answer-tokens`: the limits of a chat model's answer (and of each
query-rewrite call), checked against the one range in rag_core/llm/limits.py."""

from __future__ import annotations

import argparse

from rag_core.llm.limits import ANSWER_DEADLINE_S, ANSWER_TOKENS, DEFAULT_ANSWER_DEADLINE_S, DEFAULT_ANSWER_TOKENS
from rag_core.cli import args as types
from rag_core.llm import LLMS


def add_answer_limits(p: argparse.ArgumentParser, what: str = "whole answer (and each rewrite call)") -> None:
    p.add_argument("--answer-timeout", type=types.real(*ANSWER_DEADLINE_S), default=None, metavar="SECONDS",
                   help=f"a chat model's {what} must arrive within this (default {DEFAULT_ANSWER_DEADLINE_S:g}, "
                        f"{ANSWER_DEADLINE_S[0]:g}-{ANSWER_DEADLINE_S[1]:g})")
    p.add_argument("--max-answer-tokens", type=types.integer(*ANSWER_TOKENS), default=None, metavar="TOKENS",
                   help=f"the tokens a chat model's answer may use (default {DEFAULT_ANSWER_TOKENS}, "
                        f"{ANSWER_TOKENS[0]}-{ANSWER_TOKENS[1]:,}); a stream longer than 16 characters per token "
                        "(plus 1,000) is cut off")


def answer_options(args: argparse.Namespace, llm_name: str) -> dict:
    """The limits given on the command line, for a hosted chat model (the offline answerer has none)."""

    if not LLMS.is_hosted(llm_name):
        return {}
    options = {"answer_deadline_s": getattr(args, "answer_timeout", None),
               "max_answer_tokens": getattr(args, "max_answer_tokens", None)}
    return {k: v for k, v in options.items() if v is not None}
