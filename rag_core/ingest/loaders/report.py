"""What loading did to each file: ingested (with how many Documents) or skipped (with why).
Its own module so the archive reader, which loads members through the loaders, can build one."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from rag_core.core.errors import Reason
from rag_core.core.types import Document


@dataclass(frozen=True)
class FileStatus:
    """What happened to one file. `reason` is empty or a note when ingested, required when skipped."""

    source: str
    status: str  # "ingested" | "skipped"
    reason: str  # the default wording; each edge may reword it from `kind` and `values`
    n_documents: int
    n_bytes: int
    kind: str = ""  # e.g. "file_too_large", "total_limit"; "" when the reason needs no advice
    values: Mapping[str, Any] = field(default_factory=dict, hash=False, compare=False)


@dataclass(frozen=True)
class LoadReport:
    documents: tuple[Document, ...] = ()
    files: tuple[FileStatus, ...] = ()

    @property
    def ingested(self) -> tuple[FileStatus, ...]:
        return tuple(f for f in self.files if f.status == "ingested")

    @property
    def skipped(self) -> tuple[FileStatus, ...]:
        return tuple(f for f in self.files if f.status == "skipped")

    def __add__(self, other: "LoadReport") -> "LoadReport":
        return LoadReport(self.documents + other.documents, self.files + other.files)


def skipped(source: str, reason: str | Reason, n_bytes: int) -> FileStatus:
    """A skipped file's status; a Reason brings its kind and values along."""
    if isinstance(reason, Reason):
        return FileStatus(source, "skipped", reason.text, 0, n_bytes, reason.kind, reason.values)
    return FileStatus(source, "skipped", reason, 0, n_bytes)
