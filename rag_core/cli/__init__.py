"""Headless command line: `python -m rag_core {demo,ingest,crawl,query,info,estimate,eval,experiment,bench,snapshots,sessions} --help`.

Every command exits 0 on success, 2 with a one-line `error: ...` on bad input (a RagError or bad
arguments), and shows a progress bar on stderr for long work.

Read in this order: `args` (checked argparse types), `common` (progress bar, printing, option
groups), then one module per subcommand group, each with `cmd_*` functions and an `add_<command>`
for each command's options: `data` (demo, ingest, crawl, estimate), `query`, `info`, `eval`,
`experiment` (chunking variants built and evaluated), `questions`, `bench`; `advice` words the
core's reasons (by kind) with this CLI's flags. An option shared by several subcommands is one
`add_*` function in `common`, called by each subcommand that takes it.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from typing import Sequence

from rag_core.answer.config import parse_args
from rag_core.core import tokens
from rag_core.core.errors import RagError
from rag_core.core.paths import home_path
from rag_core.cli import advice
from rag_core.cli.args import Parser
from rag_core.cli.common import TerminalSafeStream, common_parent
from rag_core.core.settings import OperatorSettings, using
from rag_core.providers import load_credentials, redact
from rag_core.stores import pg_server
from rag_core.stores.pg_limits import PgLimits

#: command -> (module, what it does), in the order `--help` lists them. Only the command being run
#: has its module imported (and its options added): start-up time, since `--help` or `info` need
#: none of the index, retrieval or evaluation code the other commands load.
COMMANDS: dict[str, tuple[str, str]] = {
    "demo": ("data", "build an index of the bundled demo corpus (Wikipedia summaries)"),
    "ingest": ("data", "load files/folders and add them to an index"),
    "crawl": ("data", "crawl web pages (politely, same site) and add them to an index"),
    "query": ("query", "ask a question against an index"),
    "info": ("info", "show an index's manifest, or list the saved indexes"),
    "estimate": ("data", "tokens and dollars to embed files with a hosted model, before spending (the same "
                         "loading, filter and chunking as ingest)"),
    "eval": ("eval", "score retrieval settings against a question set (hit@k, MRR, nDCG, latency)"),
    "experiment": ("experiment", "build one index per chunking (2-5) of the same documents and evaluate a grid "
                                 "of retrieval settings on each"),
    "questions": ("questions", "make a question set from an index"),
    "bench": ("bench", "benchmarks as ratios to raw baselines measured in the same run"),
    "snapshots": ("room", "list or delete the app's shared snapshots"),
    "sessions": ("room", "remove expired kept browser sessions (or clear all)"),
}


def add_command(sub, common: argparse.ArgumentParser, command: str) -> argparse.ArgumentParser:
    """`command`'s parser with its options (its module imported now)."""
    module, help_text = COMMANDS[command]
    p = sub.add_parser(command, parents=[common], help=help_text)
    add = getattr(importlib.import_module(f"rag_core.cli.{module}"), f"add_{command}")
    add(p, common) if command == "questions" else add(p)
    return p


def build_parser(argv: Sequence[str] | None = None) -> Parser:
    """Every command's parser; with `argv`, only the command it runs gets its options (the others
    are listed by name for --help and an unknown-command error)."""
    parser = Parser(prog="python -m rag_core", description="RAG Playground core, headless.")
    sub = parser.add_subparsers(dest="command", required=True)
    common = common_parent()
    chosen = next((a for a in argv if not a.startswith("-")), None) if argv is not None else None
    for command, (_, help_text) in COMMANDS.items():
        if argv is None or command == chosen:
            add_command(sub, common, command)
        else:
            sub.add_parser(command, help=help_text)
    return parser


def _redacted(exc: BaseException) -> str:
    """The error's text with every configured key masked (environment and secrets.toml)."""
    return redact(exc, load_credentials())


def main(argv: Sequence[str] | None = None) -> int:
    """Parse, run the subcommand, and turn every failure into one stderr line and an exit code."""
    stdout, stderr = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = TerminalSafeStream(stdout), TerminalSafeStream(stderr, keep_cr=True)
    try:
        return _main(argv)
    finally:
        sys.stdout.flush()
        sys.stdout, sys.stderr = stdout, stderr


def _main(argv: Sequence[str] | None) -> int:
    try:
        argv = list(sys.argv[1:] if argv is None else argv)
        args = parse_args(build_parser(argv), argv)  # --config FILE: the file's values, under explicit flags
    except SystemExit as exc:  # bad arguments (one `error:` line already printed) or --help
        return exc.code if isinstance(exc.code, int) else 2
    except RagError as exc:  # a --config file that does not hold
        print(f"error: {advice.error_text(exc, _redacted(exc))}", file=sys.stderr)
        return 2
    try:
        # read once here and passed down: the environment, secrets.toml, and --dsn over both
        with using(OperatorSettings.load(os.environ, flags={"RAG_PG_DSN": getattr(args, "dsn", None)})) as settings:
            pg_server.configure(PgLimits.from_env(settings.environ))  # the pgvector store's waits and limits
            tokens.configure(home_path() / "tiktoken")  # parsed tokenizer ranks, kept under the app's home
            return _run(args, settings)
    except RagError as exc:  # a secrets file that is not TOML, a RAG_PG_* value out of range
        print(f"error: {advice.error_text(exc, str(exc))}", file=sys.stderr)
        return 2


def _run(args, settings: OperatorSettings) -> int:
    try:
        return args.func(args)
    except RagError as exc:
        print(f"error: {advice.error_text(exc, _redacted(exc))}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"error: {exc.strerror or exc}: {exc.filename or ''}".rstrip(": "), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted: the index on disk is unchanged", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - a bug: still one line, the traceback on request
        if settings.enabled("RAG_DEBUG"):
            raise
        print(f"error: unexpected {type(exc).__name__}: {_redacted(exc)} "
              "(a bug: rerun with RAG_DEBUG=1 for the traceback and report it)", file=sys.stderr)
        return 1


__all__ = ["COMMANDS", "add_command", "build_parser", "main"]
