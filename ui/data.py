"""The Data page's work: turn uploads into a LoadReport once (not on every rerun), and
show per-file status and the content filter's effect."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from rag_core.loaders import FileStatus, LoadReport, load_bytes

from . import state


def load_uploads(files, csv_text_column: str | None) -> LoadReport:
    """Parse the uploaded files; the result is kept per (files, csv column), so reruns are free."""
    key = (tuple((f.file_id, f.name, f.size) for f in files), csv_text_column or "")
    cached = st.session_state.get("upload_cache")
    if cached and cached[0] == key:
        return cached[1]
    report = LoadReport()
    bar = st.progress(0.0, text="Reading files…")
    for i, f in enumerate(files, start=1):
        report = report + load_bytes(f.name, f.getvalue(), csv_text_column=csv_text_column or None)
        bar.progress(i / len(files), text=f"Read {i} of {len(files)}: {f.name}")
    bar.empty()
    st.session_state["upload_cache"] = (key, report)
    state.set_load_report(report)
    return report


def status_frame(files: tuple[FileStatus, ...]) -> pd.DataFrame:
    return pd.DataFrame(
        [{"file": f.source, "status": f.status, "documents": f.n_documents, "bytes": f.n_bytes,
          "reason": f.reason} for f in files],
        columns=["file", "status", "documents", "bytes", "reason"],
    )


def show_file_status(report: LoadReport) -> None:
    n_in, n_out = len(report.ingested), len(report.skipped)
    st.markdown(f"**{n_in} file(s) ingested, {n_out} skipped**")
    for f in report.skipped:
        st.warning(f"Skipped {f.source}: {f.reason}", icon=":material/warning:")
    st.dataframe(status_frame(report.files), hide_index=True, width="stretch")
