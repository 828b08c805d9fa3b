"""One error hierarchy, so the CLI and the app can show any failure as one clear line.

Every message says what happened and what to do next. Catch `RagError` at the edges.

An error may also carry a machine-readable `kind` (e.g. "no_index", "file_too_large") and the
values involved (`path`, `name`, `limit_mb` ...): the message is the core's default wording, and
each edge words its own advice from the kind (the CLI names its flags, rag_core/cli/advice.py;
the app names its controls and never a server path, ui/advice.py). `Reason` is the same idea for
the per-file and per-URL rows of a report.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping


class RagError(Exception):
    """Base of every error rag_core raises on purpose.

    `kind` is "" unless the raiser names one; `values` holds what the message mentions."""

    kind: str = ""

    def __init__(self, message: str = "", *, kind: str | None = None, **values: Any) -> None:
        super().__init__(message)
        if kind is not None:
            self.kind = kind
        self.values: dict[str, Any] = values


class ConfigError(RagError):
    """A setting is unknown or invalid (unknown provider name, overlap >= size, ...)."""


class TemplateError(ConfigError):
    """The prompt template cannot be used (a missing or unknown placeholder, stray braces)."""

    kind = "template"


class IngestError(RagError):
    """A file or page could not be turned into documents."""


class ProviderError(RagError):
    """An embedder, store, reranker or LLM failed (model missing, server error, ...)."""


class IndexMismatchError(RagError):
    """An index was opened with an embedder or dimension other than the one it was built with."""


class StoreError(RagError):
    """An index on disk is missing, unreadable, or could not be written."""


class DiskFullError(StoreError):
    """A write failed because the disk (or the user's quota) is full; nothing was changed."""

    kind = "disk_full"


def index_values(directory: str | Path) -> dict[str, str]:
    """The values an index error carries: its `path`, and its `name` (the folder) for an app
    that must not show a server path."""
    path = Path(directory)
    return {"path": str(directory), "name": path.name or str(directory)}


@dataclass(frozen=True)
class Reason:
    """Why one file or URL was skipped, as data: a stable `kind`, the values involved, and the
    core's default wording `text` (no CLI flag in it). Becomes a FileStatus's kind/values/reason."""

    kind: str
    text: str
    values: Mapping[str, Any] = field(default_factory=dict, hash=False, compare=False)

    def __str__(self) -> str:
        return self.text


def worded(kind: str, text: str, values: Mapping[str, Any], table: Mapping[str, str]) -> str:
    """`text` reworded by `table[kind]`, a template over `{text}` and the values; unknown kinds,
    and templates naming a value that is missing, keep the default wording."""
    template = table.get(kind) if kind else None
    if not template:
        return text
    try:
        return template.format_map({**values, "text": text})
    except (KeyError, IndexError, ValueError):
        return text
