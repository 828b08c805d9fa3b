"""Documents as a table the person can inspect and filter before indexing.

The visible columns are exactly `source | section | text | word_count | char_count`.
`Document.ordinal` travels in the DataFrame index (named "ordinal"), so filtering rows
keeps it and `frame_to_documents` restores each Document as it was. (source, ordinal)
is unique; the ordinal alone is not, across files.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from typing import Iterable

import pandas as pd

from rag_core.core.errors import ConfigError
from rag_core.core.types import Document

COLUMNS = ("source", "section", "text", "word_count", "char_count")
INDEX_NAME = "ordinal"


def documents_frame(docs: Iterable[Document]) -> pd.DataFrame:
    docs = list(docs)
    frame = pd.DataFrame(
        {
            "source": [d.source for d in docs],
            "section": [d.section for d in docs],
            "text": [d.text for d in docs],
            "word_count": pd.Series([d.word_count for d in docs], dtype="int64"),
            "char_count": pd.Series([d.char_count for d in docs], dtype="int64"),
        },
        columns=list(COLUMNS),
    )
    frame.index = pd.Index([d.ordinal for d in docs], dtype="int64", name=INDEX_NAME)
    return frame


@dataclass(frozen=True, eq=False)
class FilterResult:
    """Rows kept, and how many rows each rule dropped (a row failing both counts for both)."""

    kept: pd.DataFrame
    dropped: dict[str, int]
    total_dropped: int
    removed: pd.DataFrame = field(repr=False, default_factory=pd.DataFrame)


def content_filter(df: pd.DataFrame, min_words: int = 15, min_chars: int = 50) -> FilterResult:
    """Keep rows with word_count > min_words AND char_count > min_chars.

    Counts are recomputed from `text`, so a table whose text was edited is judged on what
    it says now.
    """
    text = df["text"].fillna("").astype(str)
    words = text.str.split().str.len().fillna(0).astype("int64")
    chars = text.str.len().astype("int64")
    fresh = df.assign(word_count=words, char_count=chars)
    too_few_words = words <= min_words
    too_few_chars = chars <= min_chars
    failing = too_few_words | too_few_chars
    return FilterResult(
        kept=fresh[~failing],
        dropped={f"word_count <= {min_words}": int(too_few_words.sum()),
                 f"char_count <= {min_chars}": int(too_few_chars.sum())},
        total_dropped=int(failing.sum()),
        removed=fresh[failing],
    )


def frame_to_documents(df: pd.DataFrame) -> list[Document]:
    """Rows back to Documents, ordinals from the index (or an `ordinal` column).

    Rows without text are left out. If the ordinals are missing or not whole numbers (rows
    added in an editor), each source's rows are numbered 0.. in table order instead.
    """
    missing = [c for c in ("source", "section", "text") if c not in df.columns]
    if missing:
        raise ConfigError(f"the table lacks column(s) {', '.join(missing)}; keep {', '.join(COLUMNS)}")
    if "ordinal" in df.columns:
        ordinals = pd.to_numeric(df["ordinal"], errors="coerce")
    elif df.index.name == INDEX_NAME:
        ordinals = pd.to_numeric(pd.Series(df.index, index=df.index), errors="coerce")
    else:
        ordinals = pd.Series([float("nan")] * len(df), index=df.index)
    keep_index = bool(len(df)) and ordinals.notna().all() and (ordinals % 1 == 0).all()
    docs: list[Document] = []
    per_source: dict[str, int] = {}
    # columns as lists, not iterrows: a Series per row cost 150 µs (13 s for 50k one-line files)
    rows = zip(df["source"].tolist(), df["section"].tolist(), df["text"].tolist(), ordinals.tolist())
    for raw_source, raw_section, text, ordinal in rows:
        if not isinstance(text, str) or not text:
            continue
        source = str(raw_source)
        section = "" if pd.isna(raw_section) else str(raw_section)
        number = int(ordinal) if keep_index else per_source.get(source, 0)
        per_source[source] = per_source.get(source, 0) + 1
        docs.append(Document(source, section, text, number))
    return docs


#: a cell starting with one of these is a formula to Excel, LibreOffice and Google Sheets (OWASP;
#: ASVS 1.2.10 adds the NUL)
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\0")
#: the same signs behind leading blanks (some spreadsheets trim them) or in full width
_FORMULA_SIGNS = ("=", "+", "-", "@", "\uff1d", "\uff0b", "\uff0d", "\uff20")
_BLANKS = " \t\r\n\0\x0b\x0c\u00a0\u2007\u202f\u3000"


def is_formula(value: object) -> bool:
    """True for a text cell a spreadsheet could run as a formula."""
    return isinstance(value, str) and (value.startswith(FORMULA_STARTS)
                                       or value.lstrip(_BLANKS).startswith(_FORMULA_SIGNS))


def csv_safe(df: pd.DataFrame) -> pd.DataFrame:
    """A copy whose text cells cannot run as spreadsheet formulas (OWASP's CSV injection advice):
    a cell that starts with = + - @ tab, carriage return or NUL (or one of those signs behind
    blanks, or in full width) gets a leading apostrophe, which a spreadsheet shows as text.
    Numbers are left alone."""
    out = df.copy()
    for column in out.columns:
        if out[column].dtype == object or pd.api.types.is_string_dtype(out[column]):
            out[column] = out[column].map(
                lambda v: "'" + v if is_formula(v) else v)
    return out


def to_safe_csv(df: pd.DataFrame) -> str:
    """CSV with formula cells neutralised and every text cell quoted (pandas leaves a lone carriage
    return unquoted, which a spreadsheet reads as a new row whose first cell could be a formula)."""
    return csv_safe(df).to_csv(index=False, quoting=csv.QUOTE_NONNUMERIC)

