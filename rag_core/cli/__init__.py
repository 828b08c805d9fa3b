"""Headless command line: `python -m rag_core {demo,ingest,crawl,query,info,estimate,eval,experiment,bench} --help`.

Every command exits 0 on success, 2 with a one-line `error: ...` on bad input (a RagError or bad
arguments), and shows a progress bar on stderr for long work.

Read in this order: `args` (checked argparse types), `common` (progress bar, printing, option
groups), then one module per subcommand group, each with `cmd_*` functions and `add_parsers`:
`data` (demo, ingest, crawl, estimate), `query`, `info`, `eval`, `experiment` (chunking variants
built and evaluated), `bench`; `advice` words the
core's reasons (by kind) with this CLI's flags. An option shared by several subcommands is one
`add_*` function in `common`, called by each subcommand that takes it.
"""

from __future__ import annotations

import os
import sys
from typing import Sequence

from rag_core.answer.config import parse_args
from rag_core.core.errors import RagError
from rag_core.cli import advice, bench, data, eval, experiment, info, query, questions
from rag_core.cli.args import Parser
from rag_core.cli.common import TerminalSafeStream, common_parent

#: each subcommand group's parser declarations, in the order `--help` lists them
PARSERS = (data.add_parsers, query.add_parsers, info.add_parsers, data.add_estimate_parser, eval.add_parsers,
           experiment.add_parsers, questions.add_parsers, bench.add_parsers)


def build_parser() -> Parser:
    parser = Parser(prog="python -m rag_core", description="RAG Playground core, headless.")
    sub = parser.add_subparsers(dest="command", required=True)
    common = common_parent()
    for add in PARSERS:
        add(sub, common)
    return parser


def _redacted(exc: BaseException) -> str:
    """The error's text with every configured key masked (environment and secrets.toml)."""
    from rag_core.providers import Credentials, redact

    return redact(exc, Credentials.from_env())


def _configure_postgres() -> None:
    """The pgvector store's waits and limits (RAG_PG_*_S, ...), read here once and passed down."""
    from rag_core.stores import pg_server
    from rag_core.stores.pg_limits import PgLimits

    pg_server.configure(PgLimits.from_env(os.environ))


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
        args = parse_args(build_parser(), argv)  # --config FILE: the file's values, under explicit flags
    except SystemExit as exc:  # bad arguments (one `error:` line already printed) or --help
        return exc.code if isinstance(exc.code, int) else 2
    except RagError as exc:  # a --config file that does not hold
        print(f"error: {advice.error_text(exc, _redacted(exc))}", file=sys.stderr)
        return 2
    if getattr(args, "dsn", None):  # --dsn beats RAG_PG_DSN and secrets.toml for this process
        os.environ["RAG_PG_DSN"] = args.dsn
    try:
        _configure_postgres()
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
        if os.environ.get("RAG_DEBUG"):
            raise
        print(f"error: unexpected {type(exc).__name__}: {_redacted(exc)} "
              "(a bug: rerun with RAG_DEBUG=1 for the traceback and report it)", file=sys.stderr)
        return 1


__all__ = ["PARSERS", "build_parser", "main"]
