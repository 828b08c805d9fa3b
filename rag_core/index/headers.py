"""Contextual chunk headers: the text that is embedded and BM25-indexed gets the document's title
and section path in front, so a chunk that never names its subject ("It was completed in 1889")
can still be found by it. The text shown and sent to the answerer stays the chunk's own text.

The title comes from the source: a file's name without its suffix, or a URL's last path segment
(underscores and %-escapes decoded, as in Wikipedia URLs). The section is added when it says
something the title does not.
"""

from __future__ import annotations

from pathlib import PurePosixPath
from urllib.parse import unquote, urlsplit

from rag_core.core.types import Chunk

#: a header longer than this is cut: it should name the chunk, not repeat it
MAX_HEADER_CHARS = 200
SEPARATOR = " › "


def title_of(source: str) -> str:
    """A readable title for a file path or URL ("https://x/wiki/Al_Capone" -> "Al Capone")."""
    if "://" in source:
        parts = urlsplit(source)
        name = PurePosixPath(unquote(parts.path)).name or parts.netloc
    else:
        name = PurePosixPath(source.replace("\\", "/")).name
        stem = PurePosixPath(name).stem
        name = stem or name
    return " ".join(name.replace("_", " ").split())


def header(chunk: Chunk) -> str:
    """"Title › section" (or just the title, or just the section), at most MAX_HEADER_CHARS."""
    title = title_of(chunk.source)
    section = " ".join(chunk.section.split())
    same = section.replace("_", " ").lower()
    if not title or same in ("", title.lower()):
        text = title or section
    elif title.lower() in same:
        text = section
    else:
        text = f"{title}{SEPARATOR}{section}"
    return text[:MAX_HEADER_CHARS]


def indexed_text(chunk: Chunk, headers: bool = True) -> str:
    """What is embedded and BM25-indexed for `chunk` (its text, with the header when on)."""
    if not headers:
        return chunk.text
    head = header(chunk)
    return f"{head}\n\n{chunk.text}" if head else chunk.text


__all__ = ["MAX_HEADER_CHARS", "header", "indexed_text", "title_of"]
