"""CSV/TSV: one section per row, from one text column; other columns are ignored.

The text column is the one named by the caller, else the column with the longest mean
text length (ties go to the leftmost). A row's label is its value in a title-ish column
(title, name, heading, headline, subject) when there is one and it is filled, else
"row N" with N counting data rows from 1. The first row must be a header.
"""

from __future__ import annotations

import csv
import io
from pathlib import PurePath

from rag_core.core.errors import IngestError
from rag_core.ingest.loaders.base import LoadOptions, Section, decode_text, one_line

TITLE_COLUMNS = ("title", "name", "heading", "headline", "subject")


#: csv.Sniffer's quote-guessing regex is quadratic in its sample (1 s at 8 KB of ' ,"' repeats),
#: so it sees at most this much: the header and the first rows, cut at a line end.
SNIFF_CHARS = 4096


def sniff_dialect(text: str, name: str) -> type[csv.Dialect] | csv.Dialect:
    """The file's dialect: tab for .tsv, else sniffed from a bounded sample (excel if unsure)."""
    if PurePath(name).suffix.lower() == ".tsv":
        return csv.excel_tab
    sample = text[:SNIFF_CHARS]
    if len(text) > SNIFF_CHARS and "\n" in sample:
        sample = sample[: sample.rindex("\n") + 1]
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t|")
    except csv.Error:
        return csv.excel


def _read_rows(text: str, name: str) -> list[list[str]]:
    limit = csv.field_size_limit()
    csv.field_size_limit(max(limit, 64 * 1024 * 1024))  # long text cells are the point here
    try:
        return list(csv.reader(io.StringIO(text, newline=""), sniff_dialect(text, name)))
    except csv.Error as exc:
        raise IngestError(f"malformed CSV ({one_line(exc, 120)}): check its quoting and delimiter") from exc
    finally:
        csv.field_size_limit(limit)


def choose_text_column(header: list[str], rows: list[list[str]], wanted: str | None) -> int:
    """Index of the text column: `wanted` (case-insensitive) or the longest on average."""
    names = [h.strip() for h in header]
    if wanted is not None:
        lowered = [n.lower() for n in names]
        if wanted.strip().lower() not in lowered:
            raise IngestError(f"no column {wanted!r}; columns are: {', '.join(names)}; choose one of them")
        return lowered.index(wanted.strip().lower())

    def mean_length(i: int) -> float:
        return sum(len(r[i].strip()) if i < len(r) else 0 for r in rows) / max(len(rows), 1)

    return max(range(len(names)), key=lambda i: (mean_length(i), -i))


def load_csv(name: str, data: bytes, options: LoadOptions) -> list[Section]:
    rows = [r for r in _read_rows(decode_text(data), name) if any(cell.strip() for cell in r)]
    if not rows:
        raise IngestError("no rows: the CSV is empty; export it with a header row and data")
    header, body = rows[0], rows[1:]
    if not body:
        raise IngestError("no data rows: the CSV has only a header; export it with its data")
    text_col = choose_text_column(header, body, options.csv_text_column)
    lowered = [h.strip().lower() for h in header]
    titles = [lowered.index(t) for t in TITLE_COLUMNS if t in lowered and lowered.index(t) != text_col]
    title_col = titles[0] if titles else None
    sections = []
    for number, row in enumerate(body, start=1):
        text = row[text_col] if text_col < len(row) else ""
        title = row[title_col].strip() if title_col is not None and title_col < len(row) else ""
        sections.append(Section(" ".join(title.split()) or f"row {number}", text))
    return sections
