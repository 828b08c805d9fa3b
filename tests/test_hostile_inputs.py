"""Hostile inputs: pathological text must cost time linear in its size (issue 9, hostile 4).

Every regex that runs on untrusted text (loaders, normalisation, chunking, the extractive
answerer's sentence splitter, word splitting, CSV sniffing) is fed the shapes that made the old
patterns backtrack quadratically. Each case is timed at 20k and at 200k characters: linear code
takes ~10x as long, quadratic ~100x. The bound (30x plus a fixed allowance) is generous so a
busy machine does not flake; the per-test timeout fails the old code instead of hanging.
"""

from __future__ import annotations

import time
from typing import Callable

import pytest

from rag_core.chunking import chunk_documents
from rag_core.llm.extractive import sentences
from rag_core.loaders import load_bytes, normalize_text
from rag_core.text import terms
from rag_core.types import ChunkingConfig, Document

SMALL, LARGE = 20_000, 200_000


def _best_time(work: Callable[[], object], repeat: int = 2) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        work()
        best = min(best, time.perf_counter() - started)
    return best


def _ingest(name: str, data: bytes) -> None:
    """What ingest does to a file: load, normalise, chunk with the default strategy."""
    report = load_bytes(name, data)
    chunk_documents(report.documents, ChunkingConfig())


def _chunk(text: str, strategy: str = "recursive") -> None:
    size = 200 if strategy == "tokens" else 1000
    chunk_documents([Document("s.txt", "s", text)], ChunkingConfig(strategy=strategy, size=size, overlap=20))


CASES: dict[str, Callable[[int], object]] = {
    "markdown heading of spaces": lambda n: _ingest("a.md", ("# a" + " " * n + "b\nbody\n").encode()),
    "markdown heading with a closing run": lambda n: _ingest("a.md", ("## a" + " \t" * (n // 2) + "b #c\n").encode()),
    "markdown heading of hashes": lambda n: _ingest("a.md", ("# " + "#" * n + " x\n").encode()),
    "text of dots": lambda n: _ingest("a.txt", ("." * n).encode()),
    "text of dots and quotes": lambda n: _ingest("a.txt", ((".'" * (n // 4)) + ("!" * (n // 2))).encode()),
    "text of CJK stops": lambda n: _ingest("a.txt", ("。" * n).encode()),
    "combining marks": lambda n: _chunk("a" + "\u0301" * n),
    "blank lines and spaces": lambda n: _chunk("x" + "\n \n" * (n // 3)),
    "tokens strategy on dots": lambda n: _chunk("." * n, "tokens"),
    "normalise a space run": lambda n: normalize_text("a" + " " * n + "b" + "\u00a0" * n),
    "sentences of dots": lambda n: sentences("." * n + "a." * (n // 2) + "a" * n),
    "sentences of stops then text": lambda n: sentences("a" * n + "!" * n + "?a" * (n // 2)),
    "words of one long token": lambda n: terms("x" * n + " " + "é" * n),
    "html heading of spaces": lambda n: _ingest("a.html", ("<h1>a" + " " * n + "b</h1><p>" + "." * n).encode()),
    "csv that trips the sniffer": lambda n: _ingest("a.csv", ("a,b\n" + ' ,"' * (n // 3) + "\n").encode()),
}


@pytest.mark.timeout(120)
@pytest.mark.parametrize("case", sorted(CASES))
def test_time_grows_linearly_on_pathological_text(case):
    work = CASES[case]
    work(1000)  # imports and caches out of the measurement
    small = _best_time(lambda: work(SMALL))
    large = _best_time(lambda: work(LARGE))
    assert large < 30 * small + 0.5, f"{case}: {small:.3f}s at {SMALL}, {large:.3f}s at {LARGE}"


@pytest.mark.timeout(120)
def test_combining_marks_chunk_as_fast_as_letters():
    """A window of nothing but combining marks cannot be cut "between characters": the old
    hard cut then advanced one character per window (n x size steps)."""
    letters = _best_time(lambda: _chunk("a" * LARGE))
    marks = _best_time(lambda: _chunk("a" + "\u0301" * LARGE))
    assert marks < 30 * letters + 0.5, f"{marks:.3f}s for marks, {letters:.3f}s for letters"
