"""Library warnings and log records raised while one file is read, kept for that file's report.

pypdf, python-docx, trafilatura and friends report odd input through `logging` or `warnings`;
left alone they print raw lines ("invalid pdf header", "EOF marker not found") to stderr,
breaking the CLI's one-line promise and filling the server log. Their loggers are routed
here once per process (they no longer propagate to the root logger): each record goes to the
`rag_core.ingest.loaders` logger at debug level and, while a thread is inside `capture()`, into that
capture. Warnings raised inside `capture()` are recorded the same way. Loaders add their own
notes (a truncated file) with `note()`.
"""

from __future__ import annotations

import logging
import threading
import warnings
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Iterator

from rag_core.ingest.loaders.sources import printable

#: the top-level loggers of the parsing libraries the loaders call
NOISY_LOGGERS = ("pypdf", "PyPDF2", "docx", "trafilatura", "htmldate", "courlan", "justext",
                 "charset_normalizer", "bs4", "lxml", "readability")
_log = logging.getLogger("rag_core.ingest.loaders")
_local = threading.local()
_install_lock = threading.Lock()
#: catch_warnings swaps process-wide state: one capturing thread at a time (reentrant: a zip's
#: members are captured inside the zip's capture)
_warnings_lock = threading.RLock()
_installed = False


@dataclass
class Captured:
    """What one file's reading said: the loader's own notes and the libraries' messages."""

    notes: list[str] = field(default_factory=list)
    library: list[str] = field(default_factory=list)

    def summary(self, limit: int = 3) -> str:
        """One line for the file's report ('' when nothing was said)."""
        parts = list(dict.fromkeys(self.notes))
        said = list(dict.fromkeys(self.library))
        if said:
            more = f" (+{len(said) - limit} more)" if len(said) > limit else ""
            parts.append("library warnings: " + "; ".join(said[:limit]) + more)
        return printable("; ".join(parts))


class _Router(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a library's bad format string must not break a load
            message = str(record.msg)
        _log.debug("%s: %s", record.name, message)
        captured = getattr(_local, "captured", None)
        if captured is not None:
            captured.library.append(message)


def _install() -> None:
    global _installed
    with _install_lock:
        if _installed:
            return
        router = _Router(logging.DEBUG)
        for name in NOISY_LOGGERS:
            logger = logging.getLogger(name)
            logger.addHandler(router)
            logger.propagate = False
        _installed = True


def note(message: str) -> None:
    """A loader's note for the current file's report (e.g. "truncated at ..."); logged at debug."""
    _log.debug("note: %s", message)
    captured = getattr(_local, "captured", None)
    if captured is not None:
        captured.notes.append(message)


@contextmanager
def capture() -> Iterator[Captured]:
    """Collect what the libraries say while the body runs, in this thread; nothing reaches stderr."""
    _install()
    captured = Captured()
    outer = getattr(_local, "captured", None)
    _local.captured = captured
    try:
        with _warnings_lock, warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                yield captured
            finally:
                for warning in caught:
                    message = f"{warning.category.__name__}: {warning.message}"
                    _log.debug("warning: %s", message)
                    captured.library.append(message)
    finally:
        _local.captured = outer
