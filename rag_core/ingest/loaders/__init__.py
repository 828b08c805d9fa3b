"""Files -> Documents, with a per-file report of what was ingested and what was skipped.

`load_bytes` reads one upload, `load_paths` files and folders. Neither raises on bad input:
every file ends up in `LoadReport.files` as "ingested" or "skipped" with a one-line reason
that says what to do. Each format is one module exposing a `Loader` (see base.py);
`LOADERS` maps a suffix to it, so a new format is one file and one entry here. Zip
archives are the exception: one file, many sources (archive.py). Identical texts are
ingested once (`dedupe`), and `load_paths` has a total size limit besides the per-file one.

Normalisation happens once, here: every Section's text goes through `normalize_text`, empty
sections are dropped, and the rest are numbered 0.. in reading order (`Document.ordinal`).
`Document.text` is final: chunk offsets index into it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePath
from typing import Any, Callable, Mapping, Sequence

from rag_core.core.errors import IngestError, Reason
from rag_core.core.types import Document, sha256_text
from rag_core.ingest.loaders.archive import ARCHIVE_SUFFIXES, DEFAULT_MAX_UNPACKED_BYTES, load_zip
from rag_core.ingest.loaders.base import Loader, LoadOptions, Section, clean_label, decode_text, normalize_text, one_line, too_big
from rag_core.ingest.loaders.csv_loader import load_csv
from rag_core.ingest.loaders.docx import load_docx
from rag_core.ingest.loaders.files import NotReadable, expand, read_regular
from rag_core.ingest.loaders.html import load_html
from rag_core.ingest.loaders.markdown import load_markdown
from rag_core.ingest.loaders.noise import capture
from rag_core.ingest.loaders.pdf import load_pdf
from rag_core.ingest.loaders.report import FileStatus, LoadReport, skipped
from rag_core.ingest.loaders.sources import distinct, printable
from rag_core.ingest.loaders.text import load_text

__all__ = [
    "ARCHIVE_SUFFIXES", "DEFAULT_MAX_FILE_BYTES", "DEFAULT_MAX_TOTAL_BYTES", "LOADERS", "SUPPORTED_SUFFIXES",
    "FileStatus", "LoadOptions", "LoadReport", "Loader", "Section", "decode_text", "dedupe", "load_bytes",
    "load_paths", "normalize_text",
]


LOADERS: dict[str, Loader] = {
    ".txt": load_text,
    ".text": load_text,
    ".md": load_markdown,
    ".markdown": load_markdown,
    ".html": load_html,
    ".htm": load_html,
    ".pdf": load_pdf,
    ".csv": load_csv,
    ".tsv": load_csv,
    ".docx": load_docx,
}
#: one file -> sections by LOADERS; archives (many files) are opened by load_bytes itself
SUPPORTED_SUFFIXES: tuple[str, ...] = tuple(sorted((*LOADERS, *ARCHIVE_SUFFIXES)))
DEFAULT_MAX_FILE_BYTES = 50 * 1024 * 1024
DEFAULT_MAX_TOTAL_BYTES = 500 * 1024 * 1024
_MB = 1024 * 1024

Progress = Callable[[int, int, str], None]


def _skip(source: str, reason: str | Reason, n_bytes: int) -> LoadReport:
    return LoadReport((), (skipped(source, reason, n_bytes),))




def _unsupported(suffix: str) -> str:
    shown = f"'{suffix}'" if suffix else "(no extension)"
    return f"unsupported file type {shown}; convert it to one of {', '.join(SUPPORTED_SUFFIXES)}"


def _documents(source: str, sections: list[Section]) -> tuple[list[Document], str]:
    """Normalise, drop empty sections, number the rest; also a note naming what was dropped."""
    documents: list[Document] = []
    empty: list[str] = []
    for section in sections:
        text = normalize_text(section.text)
        if text:
            documents.append(Document(source, clean_label(section.label), text, len(documents)))
        else:
            empty.append(section.label)
    note = ""
    if empty and documents:
        shown = ", ".join(empty[:5]) + (", …" if len(empty) > 5 else "")
        note = f"{len(empty)} empty section(s) left out: {shown}"
    return documents, note


def load_bytes(name: str, data: bytes, *, csv_text_column: str | None = None,
               max_bytes: int = DEFAULT_MAX_FILE_BYTES, suffix: str | None = None,
               max_unpacked_bytes: int | None = None) -> LoadReport:
    """One file's bytes -> a LoadReport with its Documents (`source` = `name`), never raising.

    `suffix` (e.g. ".html") chooses the loader when the name has no telling extension, as
    for a crawled URL whose format comes from its Content-Type. A .zip is opened in memory
    (see archive.py; `max_unpacked_bytes` caps what it may unpack) and each member becomes
    a source "name.zip!/member" (sources.py); identical members are deduplicated (`dedupe`).
    What the parsing libraries warn about goes into the file's reason (noise.py), not stderr."""
    n_bytes = len(data)
    suffix = (suffix or PurePath(name).suffix).lower()
    if suffix not in SUPPORTED_SUFFIXES:
        return _skip(name, _unsupported(suffix), n_bytes)
    if n_bytes == 0:
        return _skip(name, "empty file: it has 0 bytes; check the export and upload it again", 0)
    if n_bytes > max_bytes:
        return _skip(name, too_big(n_bytes, max_bytes), n_bytes)
    if suffix in ARCHIVE_SUFFIXES:
        def member(source: str, content: bytes) -> LoadReport:
            return load_bytes(source, content, csv_text_column=csv_text_column, max_bytes=max_bytes)

        return dedupe(load_zip(name, data, member, max_bytes=max_bytes,
                               max_unpacked_bytes=max_unpacked_bytes or DEFAULT_MAX_UNPACKED_BYTES))
    with capture() as said:
        try:
            sections = LOADERS[suffix](name, data, LoadOptions(csv_text_column=csv_text_column))
        except IngestError as exc:
            sections, reason = [], one_line(exc)
        except Exception as exc:  # noqa: BLE001 - a parser bug on odd input must not stop a batch
            sections, reason = [], (f"could not read it ({type(exc).__name__}: {one_line(exc, 120)}); "
                                    "re-export the file and try again")
        else:
            reason = "no extractable text: the file holds no words; check it has content"
    documents, note = _documents(name, sections)
    extra = said.summary()
    if not documents:
        return _skip(name, one_line(f"{reason} ({extra})" if extra else reason, 400), n_bytes)
    note = one_line("; ".join(n for n in (note, extra) if n), 400)
    return LoadReport(tuple(documents), (FileStatus(name, "ingested", note, len(documents), n_bytes),))


def load_paths(paths: Sequence[str | Path], *, recursive: bool = True, csv_text_column: str | None = None,
               max_bytes: int = DEFAULT_MAX_FILE_BYTES, progress: Progress | None = None,
               max_total_bytes: int = DEFAULT_MAX_TOTAL_BYTES) -> LoadReport:
    """Files, folders and zip archives -> one LoadReport.

    Sources say what was given, not where it lives (sources.py): a folder's files are named
    by their path relative to that folder, a file given alone by its name, a zip member
    "<archive>!/member". Names that would collide get "name (2).ext", noted in the report.
    Only regular files are read; symlinks leaving a folder, special files and unreadable
    folders are reported (files.py). Folders are walked (hidden entries skipped); unsupported
    files are listed as skipped. Once `max_total_bytes` have been ingested, the remaining
    files are skipped with a reason. A file whose text is identical to an earlier one is
    skipped as "duplicate of <first source>". `progress(done, total, source)` is called after
    each file. Only a failing `progress` callback can raise."""
    found, refused = expand(list(paths), recursive)
    documents: list[Document] = []
    files = [FileStatus(r.name, "skipped", r.reason, 0, 0) for r in refused]
    names = distinct([f.name for f in found])
    used = 0
    for done, (item, source) in enumerate(zip(found, names), start=1):
        loaded = _load_file(item.path, source, csv_text_column, max_bytes, max_total_bytes - used)
        if source != item.name:
            loaded = _with_note(loaded, f"named {source}: another file given is also {item.name}")
        used += sum(f.n_bytes for f in loaded.ingested)
        documents.extend(loaded.documents)  # lists, not report + report: linear in the number of files
        files.extend(loaded.files)
        if progress is not None:
            progress(done, len(found), source)
    return dedupe(LoadReport(tuple(documents), tuple(files)))


def _with_note(report: LoadReport, note: str) -> LoadReport:
    return LoadReport(report.documents, tuple(
        replace(f, reason=f"{note}; {f.reason}" if f.reason else note) for f in report.files))  # kind kept


def dedupe(report: LoadReport) -> LoadReport:
    """Skip every ingested source whose documents repeat an earlier source's text exactly.

    The hash is over the normalised texts of the source's documents in order, so the same
    file under two names (or copied into a zip) is embedded once."""
    first: dict[str, str] = {}
    duplicates: dict[str, str] = {}
    texts: dict[str, list[str]] = {}
    for doc in report.documents:
        texts.setdefault(doc.source, []).append(doc.text)
    for status in report.files:
        if status.status != "ingested" or status.source not in texts:
            continue
        key = sha256_text("\x1e".join(texts[status.source]))
        if key in first and first[key] != status.source:
            duplicates[status.source] = first[key]
        else:
            first.setdefault(key, status.source)
    if not duplicates:
        return report
    files = tuple(
        FileStatus(f.source, "skipped", f"duplicate of {duplicates[f.source]} (identical text)", 0, f.n_bytes)
        if f.status == "ingested" and f.source in duplicates else f
        for f in report.files
    )
    return LoadReport(tuple(d for d in report.documents if d.source not in duplicates), files)


def _load_file(path: str, source: str, csv_text_column: str | None, max_bytes: int, budget: int) -> LoadReport:
    suffix = PurePath(source).suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        try:
            n_bytes = os.stat(path).st_size
        except OSError:
            n_bytes = 0
        return _skip(source, _unsupported(suffix), n_bytes)
    try:
        data = read_regular(path, max_bytes, budget, lambda size: too_big(size, max_bytes))
    except NotReadable as exc:
        return _skip(source, exc.reason, 0)
    except OSError as exc:
        return _skip(source, f"could not read it ({printable(one_line(exc.strerror or exc, 120))}); "
                             "check its permissions", 0)
    return load_bytes(source, data, csv_text_column=csv_text_column, max_bytes=max_bytes,
                      max_unpacked_bytes=max(budget, 0))
