"""Findings of a new-user QA walk through the app in a real browser, one test per fix."""

from __future__ import annotations

import re

from rag_core.costs import TurnCosts
from rag_core.types import Answer, Chunk, Hit, RetrievalSettings, Usage
from ui import compare, state


def _hit(n: int, rank: int) -> Hit:
    return Hit(Chunk(f"doc{n}.md", "s", f"text number {n}", n * 20, n * 20 + 14, f"d{n}"), 0.5, "cosine", rank)


def _entry(ids: list[int]) -> state.ChatEntry:
    hits = tuple(_hit(i, r) for r, i in enumerate(ids, start=1))
    answer = Answer(question="q", text="a", hits=hits, prompt="p", usage=Usage(), settings=RetrievalSettings())
    return state.ChatEntry(answer, "demo", False, TurnCosts())


def test_blind_swapped_diff_reads_left_before_right():
    """A blind turn that drew B on the left showed the diff as 'rank Right | rank Left' and
    'only by Right' first: the table read in the opposite order to the columns above it."""
    a, b = _entry([1, 2]), _entry([2, 3])
    entry = compare.CompareEntry("q", a, b, "A cfg", "B cfg", blind=True, swapped=True)
    html = compare.diff_html(entry)
    heads = re.findall(r"<th[^>]*>([^<]*)</th>", html)
    assert heads == ["chunk", "rank Left", "rank Right", "Right vs Left"]
    assert html.index("only by Left") < html.index("only by Right")
    rows = compare.diff_rows(entry)
    # B (drawn Left) found doc3 alone; A (drawn Right) found doc1 alone
    only = {row[3]: row[0] for row in rows if row[3].startswith("only")}
    assert "doc3.md" in only["only Left"] and "doc1.md" in only["only Right"]
    both = [row for row in rows if not row[3].startswith("only")]
    assert both[0][1:] == ("[1]", "[2]", "down 1")  # doc2: Left rank 1 (B), Right rank 2 (A)


def test_unswapped_diff_keeps_a_then_b():
    entry = compare.CompareEntry("q", _entry([1, 2]), _entry([2, 3]), "A cfg", "B cfg")
    heads = re.findall(r"<th[^>]*>([^<]*)</th>", compare.diff_html(entry))
    assert heads == ["chunk", "rank A", "rank B", "B vs A"]
