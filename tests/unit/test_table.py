"""The documents table: exact columns, the content filter's counts, and the round trip."""

from __future__ import annotations

import pandas as pd
import pytest

from rag_core.core.errors import ConfigError
from rag_core.ingest.table import COLUMNS, FilterResult, content_filter, documents_frame, frame_to_documents
from rag_core.core.types import Document

LONG = "one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen"
DOCS = [
    Document("a.md", "Intro", LONG, 0),  # 16 words, 94 chars: kept
    Document("a.md", "Short", "too short", 1),  # fails both rules
    Document("b.txt", "b.txt", "x" * 60, 0),  # 1 word, 60 chars: fails words only
    Document("b.txt", "b.txt", " ".join(["ab"] * 16), 1),  # 16 words, 47 chars: fails chars only
    Document("c.pdf", "page 2", LONG + " more", 5),  # kept
]


def test_frame_has_exactly_the_five_columns():
    df = documents_frame(DOCS)
    assert list(df.columns) == ["source", "section", "text", "word_count", "char_count"] == list(COLUMNS)
    assert df["word_count"].tolist() == [d.word_count for d in DOCS]
    assert df["char_count"].tolist() == [d.char_count for d in DOCS]
    assert df.index.name == "ordinal" and df.index.tolist() == [0, 1, 0, 1, 5]


def test_empty_frame_keeps_columns():
    df = documents_frame([])
    assert list(df.columns) == list(COLUMNS) and len(df) == 0
    result = content_filter(df)
    assert result.total_dropped == 0 and len(result.kept) == 0


def test_content_filter_counts_each_rule():
    result = content_filter(documents_frame(DOCS), min_words=15, min_chars=50)
    assert isinstance(result, FilterResult)
    assert result.kept["section"].tolist() == ["Intro", "page 2"]
    assert result.dropped == {"word_count <= 15": 2, "char_count <= 50": 2}
    assert result.total_dropped == 3 == len(result.removed)
    assert list(result.kept.columns) == list(COLUMNS)


def test_content_filter_thresholds_are_strict():
    doc = Document("s", "s", " ".join(["w"] * 15), 0)  # exactly 15 words
    assert content_filter(documents_frame([doc]), min_words=15, min_chars=0).total_dropped == 1
    assert content_filter(documents_frame([doc]), min_words=14, min_chars=0).total_dropped == 0


def test_content_filter_uses_edited_text():
    df = documents_frame(DOCS[:1])
    df.loc[:, "text"] = "now short"
    result = content_filter(df)
    assert result.total_dropped == 1 and result.removed["word_count"].tolist() == [2]


def test_round_trip_keeps_ordinals():
    kept = content_filter(documents_frame(DOCS)).kept
    assert frame_to_documents(kept) == [DOCS[0], DOCS[4]]
    assert frame_to_documents(documents_frame(DOCS)) == DOCS


def test_round_trip_after_reset_index_and_without_ordinals():
    df = documents_frame(DOCS)
    assert frame_to_documents(df.reset_index()) == DOCS
    renumbered = frame_to_documents(df.reset_index(drop=True).drop(index=[1]))
    expected = [("a.md", 0), ("b.txt", 0), ("b.txt", 1), ("c.pdf", 0)]
    assert [(d.source, d.ordinal) for d in renumbered] == expected


def test_rows_without_text_are_dropped_and_columns_checked():
    df = documents_frame(DOCS[:2])
    df.loc[df.index[1], "text"] = None
    assert frame_to_documents(df) == [DOCS[0]]
    with pytest.raises(ConfigError):
        frame_to_documents(pd.DataFrame({"source": ["a"]}))
