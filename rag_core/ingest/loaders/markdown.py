"""Markdown: one section per ATX heading ('#'..'######'), labelled with its heading path.

The label is the path of headings down to this one, e.g. "Intro > Setup", so a section is
recognisable out of context. The heading line itself is not in the section text (the label
carries it), and headings with no text of their own yield no section. Text before the
first heading is a section labelled with the file name. '#' lines inside fenced code
blocks are not headings. Setext (underlined) headings are left as text.
"""

from __future__ import annotations

import re

from rag_core.ingest.loaders.base import LoadOptions, Section, decode_text
from rag_core.ingest.loaders.text import file_label

_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")  # anchored, no nested repeats: linear


def _heading(line: str) -> tuple[int, str] | None:
    """(level, title) of an ATX heading line, else None. Plain string scans, not a regex:
    the obvious pattern backtracks quadratically on a heading with a long run of spaces."""
    stripped = line.lstrip(" ")
    if len(line) - len(stripped) > 3:
        return None
    level = len(stripped) - len(stripped.lstrip("#"))
    rest = stripped[level:]
    if not 1 <= level <= 6 or (rest and rest[0] not in " \t"):
        return None
    title = rest.strip(" \t")
    body = title.rstrip("#")  # an optional closing sequence: "## Title ##"
    if body != title and (not body or body[-1] in " \t"):
        title = body
    return level, title.strip()


def split_markdown(text: str, preamble_label: str) -> list[Section]:
    """Split markdown text into sections on ATX headings (see module docstring)."""
    sections: list[Section] = []
    path: list[tuple[int, str]] = []
    label, body = preamble_label, []
    fence: str | None = None
    for line in text.splitlines():
        fence_match = _FENCE.match(line)
        if fence_match:
            marker = fence_match.group(1)
            if fence is None:
                fence = marker
            elif marker[0] == fence[0] and len(marker) >= len(fence) and not line.strip()[len(marker):]:
                fence = None
        heading = None if fence is not None or fence_match else _heading(line)
        if heading is None:
            body.append(line)
            continue
        sections.append(Section(label, "\n".join(body)))
        level, title = heading
        while path and path[-1][0] >= level:
            path.pop()
        path.append((level, title))
        label = " > ".join(t for _, t in path if t) or preamble_label
        body = []
    sections.append(Section(label, "\n".join(body)))
    # a heading followed directly by a subheading is structure, not a lost section
    return [s for s in sections if s.text.strip()]


def load_markdown(name: str, data: bytes, options: LoadOptions) -> list[Section]:
    return split_markdown(decode_text(data), file_label(name))
