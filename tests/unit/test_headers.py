"""Contextual headers: title from the source, section when it adds something, text unchanged."""

from __future__ import annotations

from rag_core.index.headers import MAX_HEADER_CHARS, header, indexed_text, title_of
from rag_core.core.types import Chunk


def _chunk(source: str, section: str, text: str = "It was completed in 1889.") -> Chunk:
    return Chunk(source, section, text, 0, len(text), "d-0")


def test_titles_from_urls_and_paths():
    assert title_of("https://en.wikipedia.org/wiki/Al_Capone") == "Al Capone"
    assert title_of("https://en.wikipedia.org/wiki/Xi%27an") == "Xi'an"
    assert title_of("/data/docs/eiffel_tower.md") == "eiffel tower"
    assert title_of("C:\\docs\\Report 2024.pdf") == "Report 2024"
    assert title_of("https://example.com") == "example.com"


def test_header_names_title_and_a_distinct_section():
    assert header(_chunk("guide.md", "Installing")) == "guide › Installing"
    assert header(_chunk("https://en.wikipedia.org/wiki/Paris", "Paris")) == "Paris"
    assert header(_chunk("notes.txt", "")) == "notes"
    assert header(_chunk("https://en.wikipedia.org/wiki/Al_Capone", "Al_Capone")) == "Al Capone"
    assert header(_chunk("a.md", "a: setup")) == "a: setup"
    assert len(header(_chunk("a.md", "x" * 1000))) == MAX_HEADER_CHARS


def test_indexed_text_prepends_the_header_only_when_on():
    chunk = _chunk("https://en.wikipedia.org/wiki/Eiffel_Tower", "Eiffel Tower")
    assert indexed_text(chunk) == "Eiffel Tower\n\nIt was completed in 1889."
    assert indexed_text(chunk, headers=False) == chunk.text
    assert chunk.text == "It was completed in 1889."
