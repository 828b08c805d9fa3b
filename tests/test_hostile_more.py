"""More hostile inputs of the kinds in issue 9, beyond the files the first run used.

HTML whose work grows faster than its bytes (many tags, many attributes, deep nesting),
symlink loops, and the other shapes an acceptance run would try with its own inputs.
"""

from __future__ import annotations

import os

import pytest

from rag_core.loaders import html as html_loader
from rag_core.loaders import load_bytes, load_paths

WORDS = ("A perfectly ordinary document with enough words in it to pass the content filter easily, "
         "and a few more words to be sure.")


def _reasons(report) -> dict[str, str]:
    return {f.source: f.reason for f in report.files}


@pytest.fixture
def trafilatura_calls(monkeypatch):
    """Count the pages handed to trafilatura (its time grows faster than linearly in tags)."""
    calls: list[int] = []
    real = html_loader._trafilatura_events

    def counting(html: str):
        calls.append(len(html))
        return real(html)

    monkeypatch.setattr(html_loader, "_trafilatura_events", counting)
    return calls


@pytest.mark.timeout(120)
def test_a_page_of_many_tags_skips_trafilatura(trafilatura_calls):
    """40k tags took trafilatura 22 s (6 s at 20k): a large page takes the linear walk."""
    page = "<html><body>" + "<h2>Part</h2><p>word one two three</p>" * 20_000 + "</body></html>"
    report = load_bytes("big.html", page.encode())
    assert trafilatura_calls == []
    assert report.documents and "word one two three" in report.documents[0].text


@pytest.mark.timeout(120)
def test_a_tag_with_many_attributes_skips_trafilatura(trafilatura_calls):
    """One <p> with 100k attributes hung trafilatura (0.5 s at 8k attributes, growing ~x7 per x2)."""
    page = "<p " + " ".join(f"a{i}=x" for i in range(100_000)) + ">" + WORDS + "</p>"
    report = load_bytes("attrs.html", page.encode())
    assert trafilatura_calls == []
    assert [d.text for d in report.documents] == [WORDS]


def test_a_small_page_still_uses_trafilatura(trafilatura_calls):
    load_bytes("small.html", f"<html><body><article><p>{WORDS}</p></article></body></html>".encode())
    assert len(trafilatura_calls) == 1


@pytest.mark.timeout(120)
def test_a_page_over_the_tag_limit_is_read_up_to_it_with_a_note(monkeypatch):
    """100k empty headings took 73 s; the page is cut at MAX_TAGS and the report says so."""
    monkeypatch.setattr(html_loader, "MAX_TAGS", 2_000)
    page = f"<p>{WORDS}</p>" + "<h1>x</h1><p>y</p>" * 5_000 + "<p>the tail is not read</p>"
    report = load_bytes("many.html", page.encode())
    text = " ".join(d.text for d in report.documents)
    assert WORDS in text and "the tail is not read" not in text
    assert "truncated: read the first 2000 HTML tags" in report.files[0].reason


@pytest.mark.timeout(120)
@pytest.mark.parametrize("depth", [3_000, 20_000])
def test_deeply_nested_html_keeps_its_text(depth):
    """Thousands of nested <div>s hit Python's recursion limit in the walk ("could not read it
    (RecursionError ...)") and the page's text was lost."""
    page = "<div>" * depth + WORDS + "</div>" * depth + "<p>after the divs</p>"
    report = load_bytes("deep.html", page.encode())
    assert report.files[0].status == "ingested", report.files[0].reason
    assert WORDS in report.documents[0].text and "after the divs" in report.documents[0].text


def test_a_symlink_loop_is_reported_as_a_loop(tmp_path):
    """A link to itself was reported as "broken symlink: its target does not exist"."""
    (tmp_path / "ok.txt").write_text(WORDS)
    os.symlink("self.txt", tmp_path / "self.txt")
    os.symlink("b.txt", tmp_path / "a.txt")
    os.symlink("a.txt", tmp_path / "b.txt")
    reasons = _reasons(load_paths([tmp_path]))
    assert reasons["ok.txt"] == ""
    for name in ("self.txt", "a.txt", "b.txt"):
        assert reasons[name].startswith("symlink loop"), reasons[name]


# ---- many tiny files: the store is not copied once per batch ----------------------------------


def test_ingest_adds_to_the_store_in_growing_batches(tmp_path):
    """50k one-line files spent 10 of 17 s re-copying the numpy store's matrix: ingest added
    every 64-chunk batch separately (782 adds, each copying all vectors so far)."""
    from rag_core.embeddings import create_embedder
    from rag_core.index import Index
    from rag_core.types import Document

    index = Index.create(tmp_path / "idx", create_embedder("hashing"), "numpy")
    sizes: list[int] = []
    real_add = index.store.add
    index.store.add = lambda chunks, vectors: (sizes.append(len(chunks)), real_add(chunks, vectors))[1]
    docs = [Document(f"f{i}.txt", "s", f"document {i} about topic {i % 97}") for i in range(20_000)]
    result = index.ingest(docs)
    assert result.n_chunks == 20_000 == index.store.count() == sum(sizes)
    assert len(sizes) <= 8, sizes  # geometric: 1024, 1024, 2048, 4096, ... not 313 adds
    hits = index.store.search(create_embedder("hashing").embed_query("document 19999 about topic"), 1)
    assert hits and hits[0].chunk.source == "f19999.txt"
