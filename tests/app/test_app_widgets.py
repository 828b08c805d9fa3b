"""ui/ pieces without a running page: escaping, the chunk-boundary preview, error display,
and that chat settings survive switching pages."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from rag_core.ingest.chunking import chunk_document
from rag_core.core.types import ChunkingConfig, Document
from ui import widgets

ROOT = Path(__file__).resolve().parents[2]


def test_document_text_cannot_inject_markup():
    nasty = 'a <script>alert("x")</script> $x$ \\n <img src=x onerror=1>\n\nnew para'
    out = widgets.esc(nasty)
    assert "<script>" not in out and "<img" not in out and "$" not in out and "\n" not in out
    assert "&lt;script&gt;" in out


def test_chunk_preview_colours_every_chunk_and_marks_overlaps():
    doc = Document("a.txt", "", " ".join(f"word{i}" for i in range(400)))
    chunks = chunk_document(doc, ChunkingConfig("chars", size=300, overlap=60))
    html = widgets.chunk_preview(doc.text, chunks)
    assert html.count('title="chunk ') >= len(chunks)
    assert html.count("overlap of chunks") == len(chunks) - 1
    # all of the document's text is there, in order, once the markup is stripped
    assert re.sub(r"<[^>]+>", "", html) == doc.text


def test_chunk_preview_escapes_text():
    doc = Document("a.md", "", "<b>bold</b> " * 50)
    html = widgets.chunk_preview(doc.text, chunk_document(doc, ChunkingConfig("chars", 100, 10)))
    assert "<b>bold" not in html and "&lt;b&gt;bold" in html


def test_score_label_keeps_first_stage_score_after_reranking():
    from rag_core.core.types import Chunk, Hit

    hit = Hit(Chunk("s", "", "t", 0, 1, "d"), 0.8, "cosine", 2).reranked(3.5, "bm25", 1)
    assert widgets.score_text(hit) == "bm25 3.500 (was #2, cosine 0.800)"


def test_cost_line_escapes_dollar_for_markdown():
    from rag_core.core.types import Usage

    text = widgets.cost_text(Usage(1, 2, 3, 0.0012, "openai:gpt-4o-mini"))
    assert "\\$0.0012 " in text and "1 embedding + 2 prompt + 3 completion" in text


def test_unexpected_error_is_an_st_error_not_a_traceback(tmp_path):
    script = tmp_path / "boom.py"
    script.write_text(
        "import sys\nsys.path.insert(0, %r)\nfrom ui.guard import guard\n"
        "with guard('testing'):\n    raise KeyError('boom')\n" % str(ROOT)
    )
    at = AppTest.from_file(str(script)).run()
    assert not at.exception
    assert "While testing: an unexpected error happened (KeyError" in at.error[0].value


@pytest.fixture
def empty_root(tmp_path, monkeypatch):
    monkeypatch.setenv("RAG_PLAYGROUND_INDEXES", str(tmp_path / "indexes"))
    monkeypatch.chdir(ROOT)


def test_pages_without_any_index_say_what_to_do(empty_root):
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=30)
    for name in ("chat", "explore"):
        at.switch_page(f"pages/{name}.py").run()
        assert not at.exception and not at.error
        assert "no index yet" in at.info[0].value


def test_damaged_index_is_listed_with_its_problem(empty_root, tmp_path):
    bad = tmp_path / "indexes" / "broken"
    bad.mkdir(parents=True)
    (bad / "CURRENT").write_text("gen-missing\n")
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=30)
    at.switch_page("pages/index.py").run()
    assert not at.exception and not at.error
    table = at.dataframe[0].value
    assert table.loc[0, "name"] == "broken" and "damaged" in table.loc[0, "problem"]
