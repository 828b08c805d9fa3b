"""The Data page's work: turn uploads into a LoadReport once (not on every rerun), and
show per-file status and the content filter's effect.

Uploads are read with `rag_core.ingest.loaders.load_bytes` (zip archives and .docx included), under a
per-file limit and a total limit for one upload, then deduplicated by content (`dedupe`).
Two uploads with one name get distinct sources ("notes (2).txt"), noted in the second's status.
Each uploaded csv/tsv gets a "text column" selectbox listing its own columns.
Every file name and reason reaches the page through a dataframe or `md_literal`, never as markup.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import PurePath

import pandas as pd
import streamlit as st

from rag_core.core.errors import IngestError, Reason
from rag_core.ingest.loaders import (
    DEFAULT_MAX_FILE_BYTES,
    DEFAULT_MAX_TOTAL_BYTES,
    FileStatus,
    LoadReport,
    decode_text,
    dedupe,
    load_bytes,
    skipped,
)
from rag_core.ingest.loaders.csv_loader import sniff_dialect
from rag_core.ingest.loaders.sources import distinct, name_source
from rag_core.ingest.table import content_filter, documents_frame, frame_to_documents, to_safe_csv
from rag_core.core.types import Document

from ui import advice, state
from ui.widgets import md_literal, table_height

MAX_FILE_BYTES = DEFAULT_MAX_FILE_BYTES
MAX_TOTAL_BYTES = DEFAULT_MAX_TOTAL_BYTES
CSV_SUFFIXES = (".csv", ".tsv")
AUTO_COLUMN = "(longest text column)"
_MB = 1024 * 1024

@dataclass(frozen=True)
class Upload:
    """An uploaded file's name and bytes (Streamlit's UploadedFile has more; tests pass these)."""

    name: str
    data: bytes
    file_id: str = ""

    @classmethod
    def of(cls, f) -> Upload:
        return cls(f.name, f.getvalue(), getattr(f, "file_id", ""))


def is_csv(name: str) -> bool:
    return PurePath(name).suffix.lower() in CSV_SUFFIXES


def csv_columns(name: str, data: bytes) -> list[str]:
    """The header row of a csv/tsv (same delimiter rules as the loader); [] if unreadable."""
    try:
        text = decode_text(data[:256 * 1024])
    except IngestError:
        return []
    try:
        for row in csv.reader(io.StringIO(text, newline=""), sniff_dialect(text, name)):
            if any(cell.strip() for cell in row):
                return list(dict.fromkeys(c.strip() for c in row if c.strip()))
    except csv.Error:
        return []
    return []


def distinct_names(names: Sequence[str]) -> list[str]:
    """Upload names as sources (`name_source`: control characters escaped, a "!" ending a folder
    name doubled so no upload passes for a zip member) made distinct: a repeated name becomes "notes (2).txt", "notes (3).txt", … The
    name is the source, as a folder's relative path is in the CLI, so question sets travel."""
    return distinct([name_source(n) for n in names])


def _renamed_note(original: str, reason: str) -> str:
    note = f"renamed from {name_source(original)}: another uploaded file has that name"
    return f"{note}; {reason}" if reason else note


def read_uploads(uploads: Sequence[Upload], csv_text_columns: dict[str, str | None] | None = None, *,
                 max_bytes: int | None = None, max_total_bytes: int | None = None) -> LoadReport:
    """Uploads -> one deduplicated LoadReport, never raising. Files after the total limit are
    skipped with a reason; a zip may unpack at most what is left of it."""
    max_bytes = MAX_FILE_BYTES if max_bytes is None else max_bytes
    max_total = MAX_TOTAL_BYTES if max_total_bytes is None else max_total_bytes
    columns = csv_text_columns or {}
    report = LoadReport()
    used = 0
    for upload, name in zip(uploads, distinct_names([u.name for u in uploads])):
        size = len(upload.data)
        if size <= max_bytes and used + size > max_total:
            reason = Reason("total_limit", f"total upload limit reached: {used / _MB:.1f} MB already read, and this "
                            f"file would go over the {max_total / _MB:g} MB allowed in one upload",
                            {"used_mb": round(used / _MB, 1), "limit_mb": max_total / _MB})
            loaded = LoadReport((), (skipped(name, reason, size),))
        else:
            loaded = load_bytes(name, upload.data, csv_text_column=columns.get(upload.name) or None,
                                max_bytes=max_bytes, max_unpacked_bytes=max(max_total - used, 1))
            used += size if loaded.ingested else 0
        if name != name_source(upload.name):  # say so on every status it gave (a zip gives one per member)
            loaded = LoadReport(loaded.documents, tuple(
                replace(f, reason=_renamed_note(upload.name, f.reason)) for f in loaded.files))
        report = report + loaded
    report = dedupe(report)  # reasons in the app's words (their kind and values kept)
    return LoadReport(report.documents, tuple(replace(f, reason=advice.reason(f)) for f in report.files))


def csv_column_choices(uploads: Sequence[Upload], where) -> dict[str, str | None]:
    """A selectbox per uploaded csv/tsv listing its columns; name -> the chosen column (None: auto)."""
    choices: dict[str, str | None] = {}
    for upload in uploads:
        if not is_csv(upload.name) or upload.name in choices:  # one box per name: same-named files share it
            continue
        options = [AUTO_COLUMN] + csv_columns(upload.name, upload.data)
        key = state.default(f"csv_column:{upload.name}", AUTO_COLUMN)
        if st.session_state[key] not in options:
            st.session_state[key] = AUTO_COLUMN
        chosen = where.selectbox(f"Text column of {md_literal(upload.name)}", options, key=key,
                                 help="Each row becomes a document from this column; the default is the "
                                      "column with the longest text.")
        choices[upload.name] = None if chosen == AUTO_COLUMN else chosen
    return choices


def load_uploads(files, csv_text_columns: dict[str, str | None]) -> tuple[LoadReport, bool]:
    """Parse the uploaded files once per (files, csv choices); (report, whether it is new)."""
    key = (tuple((f.file_id, f.name, f.size) for f in files), tuple(sorted(csv_text_columns.items(),
                                                                            key=lambda kv: kv[0])))
    cached = st.session_state.get("upload_cache")
    if cached and cached[0] == key:
        return cached[1], False
    with st.spinner(f"Reading {len(files)} file(s)…"):
        report = read_uploads([Upload.of(f) for f in files], csv_text_columns)
    st.session_state["upload_cache"] = (key, report)
    state.set_load_report(report)
    return report, True


_EARLIER = "show_earlier_upload"


def _forget_earlier_upload() -> None:
    st.session_state[_EARLIER] = False
    st.session_state.pop("upload_cache", None)
    state.set_load_report(LoadReport())
    state.set_staged_documents([])
    if st.session_state.get("data_source") == "upload":
        st.session_state["data_source"] = None


def earlier_upload(has_files: bool, uploader_was_kept: bool) -> LoadReport | None:
    """Streamlit's uploader forgets its files when the person opens another page, but what was
    read from them is still in this session: show it again (with a note) instead of an empty
    page, until new files are uploaded or the person forgets them."""
    report = state.load_report()
    if has_files:
        st.session_state[_EARLIER] = False
        return None
    if not uploader_was_kept:  # the first run back on this page
        st.session_state[_EARLIER] = bool(report.files)
    if not st.session_state.get(_EARLIER) or not report.files:
        return None
    st.info(f"Showing the {len(report.files)} file(s) uploaded earlier in this session: the upload box empties "
            "when you open another page, but what was read is kept. Upload files to replace them.",
            icon=":material/history:")
    st.button("Forget these files", key="forget_earlier_upload", on_click=_forget_earlier_upload)
    return report


def upload_limits_caption() -> str:
    return (f"Many files at once, or a zip of a folder. Limits: {MAX_FILE_BYTES / _MB:g} MB per file (zip members "
            f"too), {MAX_TOTAL_BYTES / _MB:g} MB in one upload. Identical documents are kept once.")


def status_frame(files: tuple[FileStatus, ...]) -> pd.DataFrame:
    return pd.DataFrame(
        [{"file": f.source, "status": f.status, "documents": f.n_documents, "bytes": f.n_bytes,
          "reason": f.reason} for f in files],
        columns=["file", "status", "documents", "bytes", "reason"],
    )


def show_file_status(report: LoadReport) -> None:
    n_in, n_out = len(report.ingested), len(report.skipped)
    st.markdown(f"**{n_in} file(s) ingested, {n_out} skipped**")
    for f in report.skipped[:20]:
        st.warning(f"Skipped {md_literal(f.source)}: {md_literal(f.reason)}", icon=":material/warning:")
    if n_out > 20:
        st.warning(f"… and {n_out - 20} more skipped: see the table.", icon=":material/warning:")
    st.dataframe(status_frame(report.files), hide_index=True, width="stretch")


def documents_columns(source_label: str = "source") -> dict:
    """Fixed widths for the documents table (775 px in all: a laptop's wide layout), so the long
    text column cannot push the counts off the right edge; a wider page shares out the rest.
    The counts are numbers (right-aligned, sortable)."""
    col = st.column_config
    return {
        source_label: col.TextColumn(source_label, width=150),
        "section": col.TextColumn("section", width=140),
        "text": col.TextColumn("text", width=320, help="The document's text; widen the column or "
                                                          "double-click a cell to read more."),
        "word_count": col.NumberColumn("words", width=70, format="%d", help="words in the text"),
        "char_count": col.NumberColumn("characters", width=95, format="%d", help="characters in the text"),
    }


def filter_and_stage(documents: list[Document], source_label: str = "source") -> None:
    """The content filter, the documents table (text as data, never markup) and staging for Index."""
    st.subheader("Content filter")
    c1, c2, c3 = st.columns(3)
    min_words = c1.number_input("Drop rows with at most this many words", 0, 10_000,
                                key=state.default("min_words", 15))
    min_chars = c2.number_input("Drop rows with at most this many characters", 0, 1_000_000,
                                key=state.default("min_chars", 50))
    result = content_filter(documents_frame(documents), min_words=int(min_words), min_chars=int(min_chars))
    c3.metric("Rows kept", f"{len(result.kept)} of {len(documents)}", delta=-result.total_dropped or None)
    for rule, count in result.dropped.items():
        st.markdown(f"- rule `{rule}` drops **{count}** row(s)")
    shown = {"source": source_label}
    st.subheader(f"Documents ({len(result.kept)} kept)")
    st.dataframe(result.kept.rename(columns=shown), hide_index=True, width="stretch",
                 height=table_height(len(result.kept)), column_config=documents_columns(source_label))
    if result.total_dropped:
        with st.expander(f"Rows dropped by the filter ({result.total_dropped})", expanded=False):
            st.dataframe(result.removed.rename(columns=shown), hide_index=True, width="stretch",
                         height=table_height(len(result.removed)),
                         column_config=documents_columns(source_label))
    st.download_button("Download the kept rows (CSV)", to_safe_csv(result.kept), file_name="documents.csv",
                       mime="text/csv", key="documents_csv",
                       help="Cells that a spreadsheet would run as a formula (=, +, -, @) start with an apostrophe.")
    staged = frame_to_documents(result.kept)
    state.set_staged_documents(staged)
    st.success(f"{len(staged)} document(s) ready to index.")
    st.page_link("pages/index.py", label="Go to Index to chunk and embed them", icon=":material/view_in_ar:")
