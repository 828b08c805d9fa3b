"""What every subcommand shares: the progress bar, output printing, credentials, and the option
groups (one function per group, so a new shared option is declared once and added where it applies).
"""

from __future__ import annotations

import argparse
import io
import json
import re
import sys
from typing import TextIO

from tqdm import tqdm

from rag_core.core import catalog
from rag_core.answer.config import add_config_option
from rag_core.core.types import ChunkingConfig
from rag_core.cli import args as types
from rag_core.providers import load_credentials


class Progress:
    """Adapts the core's progress callback (done, total, label) to a tqdm bar that says the
    speed and the time left in words (`12.3 chunks/s, 00:25 left`): the first demo build
    takes tens of seconds on a busy 2-core machine. `unit` is plural (chunks, files, pages)."""

    FORMAT = ("{desc}: {percentage:3.0f}%|{bar}| {n_fmt}/{total_fmt}{unit} "
              "[{elapsed} elapsed, {rate_fmt}, {remaining} left]")

    def __init__(self, desc: str, unit: str, quiet: bool = False) -> None:
        self.bar: tqdm | None = None
        self.desc, self.unit, self.quiet = desc, unit, quiet

    def __call__(self, done: int, total: int, label: str) -> None:
        if self.quiet:
            return
        if self.bar is None:
            self.bar = tqdm(total=total, desc=self.desc, unit=" " + self.unit, file=sys.stderr, leave=False,
                            bar_format=self.FORMAT)
        self.bar.total = total
        self.bar.n = done
        self.bar.refresh()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def warn(message: str) -> None:
    print(f"warning: {message}", file=sys.stderr)


def print_out(out: dict, as_json: bool) -> None:
    """One JSON object, or `key: value` lines (a list as indented `- item` lines)."""
    if as_json:
        print(json.dumps(out, indent=2, ensure_ascii=False))
        return
    for key, value in out.items():
        if isinstance(value, list):
            print(f"{key}:")
            for item in value:
                print(f"  - {item}")
        else:
            print(f"{key}: {value}")


def credentials(args: argparse.Namespace):
    """Keys from .streamlit/secrets.toml, then the environment; --base-url is the compatible server's."""

    creds = load_credentials()
    base_url = getattr(args, "base_url", None)
    return creds.with_values(compatible_base_url=base_url) if base_url else creds


def chunking(args: argparse.Namespace) -> ChunkingConfig | None:
    """The chunking options given, over the defaults; None when none was given (the index's own)."""
    given = (args.strategy, args.chunk_size, args.chunk_overlap)
    if all(v is None for v in given):
        return None
    config = getattr(args, "config", None)  # --config FILE: its encoding too (no flag for it)
    default = config.chunking if config is not None else ChunkingConfig()
    return ChunkingConfig(
        encoding=default.encoding,
        strategy=args.strategy or default.strategy,
        size=args.chunk_size if args.chunk_size is not None else default.size,
        overlap=args.chunk_overlap if args.chunk_overlap is not None else default.overlap,
    )


# ---- option groups ------------------------------------------------------------------------------


def common_parent() -> argparse.ArgumentParser:
    """Options every subcommand takes (an argparse parent)."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--quiet", action="store_true", help="no progress bars")
    return common


def add_json(p: argparse.ArgumentParser, help: str | None = None) -> None:
    p.add_argument("--json", action="store_true", help=help)


def add_hosted(p: argparse.ArgumentParser) -> None:
    p.add_argument("--base-url", help="base URL of an OpenAI-compatible server for compatible:<model> names, "
                   "e.g. http://localhost:11434/v1 (keys: OPENAI_API_KEY, COHERE_API_KEY, COMPATIBLE_API_KEY "
                   "or .streamlit/secrets.toml; OPENAI_BASE_URL / COHERE_BASE_URL for proxies)")


def add_dsn(p: argparse.ArgumentParser) -> None:
    """--dsn: the PostgreSQL of the pgvector stores, for this process (it sets RAG_PG_DSN)."""
    p.add_argument("--dsn", help="PostgreSQL for the pgvector stores, e.g. postgresql://user:password@host:5432/db "
                   "(default: RAG_PG_DSN, .streamlit/secrets.toml, else an embedded server under the app's home)")


def add_chunking(p: argparse.ArgumentParser) -> None:
    p.add_argument("--strategy", choices=["chars", "tokens", "recursive"], help="chunking strategy (default recursive)")
    p.add_argument("--chunk-size", type=types.chunk_size, help="chunk size in the strategy's unit (default 1000)")
    p.add_argument("--chunk-overlap", type=types.chunk_overlap, help="overlap in the strategy's unit (default 100)")


def add_filter(p: argparse.ArgumentParser) -> None:
    """The content filter: ingest, crawl and estimate drop the same rows."""
    p.add_argument("--min-words", type=types.count, default=15, help="drop rows with this many words or fewer (default 15)")
    p.add_argument("--min-chars", type=types.count, default=50,
                   help="drop rows with this many characters or fewer (default 50)")


def add_loading(p: argparse.ArgumentParser) -> None:
    """Loading and filter options: ingest and estimate share them, so they count the same."""
    p.add_argument("--max-file-mb", type=types.megabytes, default=50.0, help="skip files larger than this (default 50)")
    p.add_argument("--max-total-mb", type=types.megabytes, default=500.0,
                   help="skip the remaining files once this much has been loaded (default 500)")
    p.add_argument("--csv-column", help="text column of csv files (default: the longest text column)")
    add_filter(p)


def add_index_target(p: argparse.ArgumentParser) -> None:
    """Where and how to build: --index, --embedder, --store, keys, --yes and chunking."""
    p.add_argument("--index", required=True, help="index directory (created if missing)")
    p.add_argument("--embedder", help="embedder name: local:all-MiniLM-L6-v2 (default), hashing, "
                   "openai:text-embedding-3-small, openai:text-embedding-3-large@256, cohere:embed-english-v3.0, "
                   "compatible:<model> (with --base-url)")
    p.add_argument("--store", choices=catalog.choices("store"),
                   help="vector store (default faiss); pgvector and pgvector-hnsw keep the index in PostgreSQL")
    add_hosted(p)
    add_dsn(p)
    p.add_argument("--yes", action="store_true", help="confirm a hosted embedder's estimated spend without asking")
    p.add_argument("--replace", action="store_true", help="an index built with another chunking, embedder or store "
                   "is rebuilt with these settings (it stays readable until the new one is saved)")
    p.add_argument("--headers", action="store_true",
                   help="contextual chunk headers: embed and BM25-index each chunk with its document title and "
                        "section path in front (the text shown is unchanged); an index option, set when it is created")
    add_chunking(p)
    add_config_option(p)


# ---- terminal safety ----------------------------------------------------------------------

#: C0 controls but tab and newline, DEL and the C1 controls (U+009B is a CSI on some terminals),
#: and the bidi overrides and isolates (they reorder what is shown): text from documents and
#: question sets must not clear the screen, set the window title or disguise a line.
_TERMINAL_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def terminal_safe(text: str) -> str:
    """`text` with every terminal control character shown as `\\uNNNN` instead of obeyed: in
    `--json` output that is the JSON escape of the very same character, so the JSON stays valid."""
    return _TERMINAL_CONTROL.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


class TerminalSafeStream(io.TextIOBase):
    """Wraps stdout or stderr so nothing the CLI prints can drive the terminal. `keep_cr` leaves a
    carriage return that starts a write alone (the progress bar redraws its line with one); one
    inside a write (from a file name, a question) is escaped like any control."""

    def __init__(self, stream: TextIO, keep_cr: bool = False) -> None:
        self._stream, self._keep_cr = stream, keep_cr

    def write(self, text: str) -> int:
        if self._keep_cr and text.startswith("\r"):
            self._stream.write("\r" + terminal_safe(text[1:]))
        else:
            self._stream.write(terminal_safe(text))
        return len(text)

    def flush(self) -> None:
        self._stream.flush()

    def isatty(self) -> bool:
        return self._stream.isatty()

    def fileno(self) -> int:
        return self._stream.fileno()

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return getattr(self._stream, "encoding", "utf-8")

    def writable(self) -> bool:
        return True

