"""More hostile inputs of the kinds in issue 9, beyond the files the first run used.

HTML whose work grows faster than its bytes (many tags, many attributes, deep nesting),
symlink loops, and the other shapes an acceptance run would try with its own inputs.
"""

from __future__ import annotations

import os

import pytest

from rag_core.ingest.loaders import html as html_loader
from rag_core.ingest.loaders import load_bytes, load_paths

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
    from rag_core.index.index import Index
    from rag_core.core.types import Document

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


# ---- question sets (new-user 1 / hostile 11: validate at every boundary, exit 2) ----------------

import json  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

from rag_core.evaluation import evaluate  # noqa: E402
from rag_core.core.errors import ConfigError  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("name, text, expected", [
    ("deep.json", "[" * 100_000 + "]" * 100_000, "nested too deeply"),
    ("deep.jsonl", '{"question": "a", "relevant_sources": ' + "[" * 100_000 + "]" * 100_000 + "}\n",
     "line 1: JSON nested too deeply"),
    ("cell.csv", 'question,relevant_sources\n"' + "what " * 40_000 + '",a.txt\n', "row 2 is not valid CSV"),
    ("long.jsonl", json.dumps({"question": "what " * 2_000, "relevant_sources": ["a.txt"]}) + "\n",
     "over the limit of 4000"),
    ("nan.json", '[{"question": NaN, "relevant_sources": ["a.txt"]}]', "must be text, not float"),
    ("num.jsonl", '{"question": 12, "relevant_sources": ["a.txt"]}\n', "must be text, not int"),
])
def test_hostile_question_sets_are_clear_errors(name, text, expected):
    """Deep nesting was a RecursionError and a long CSV cell a csv.Error (CLI exit 1, "a bug");
    a 10 MB question was run as a query (46 s); NaN was called "empty"."""
    with pytest.raises(ConfigError, match=expected):
        evaluate.parse_question_set(text.encode(), name)


def test_a_question_set_over_the_limits_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(evaluate, "MAX_QUESTIONS", 3)
    rows = "".join(json.dumps({"question": f"q{i}", "relevant_sources": ["a.txt"]}) + "\n" for i in range(4))
    with pytest.raises(ConfigError, match="more than 3 questions"):
        evaluate.parse_question_set(rows, "many.jsonl")
    monkeypatch.setattr(evaluate, "MAX_QUESTION_SET_BYTES", 1024)
    big = tmp_path / "big.csv"
    big.write_text("question,relevant_sources\n" + "what is it,a.txt\n" * 200)
    with pytest.raises(ConfigError, match="too large for a question set"):
        evaluate.load_question_set(big)


@pytest.mark.timeout(120)
def test_cli_eval_on_a_deeply_nested_question_set_exits_2(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.txt").write_text(WORDS)
    run = [sys.executable, "-m", "rag_core"]
    subprocess.run([*run, "ingest", "--quiet", "--index", str(tmp_path / "idx"), "--embedder", "hashing",
                    "--store", "numpy", str(docs)], cwd=ROOT, check=True, capture_output=True)
    questions = tmp_path / "q.json"
    questions.write_text("[" * 50_000 + "]" * 50_000)
    out = subprocess.run([*run, "eval", "--quiet", "--index", str(tmp_path / "idx"), "--questions", str(questions)],
                         cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 2, out.stderr
    assert out.stderr.strip().splitlines() == [
        'error: q.json: JSON nested too deeply to be a question set; each question is one flat object like '
        '{"question": "...", "relevant_sources": ["..."]}']


# ---- --config on a special file -----------------------------------------------------------------


@pytest.mark.timeout(120)
def test_config_that_is_a_fifo_is_refused_not_waited_on(tmp_path):
    """`--config x.toml` naming a FIFO blocked in open() forever (no writer ever comes)."""
    from rag_core.answer import config

    fifo = tmp_path / "setup.toml"
    os.mkfifo(fifo)
    out = subprocess.run([sys.executable, "-c", "import sys; from rag_core.answer import config; config.load(sys.argv[1])",
                          str(fifo)], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert "is not a regular file" in out.stderr
    with pytest.raises(ConfigError, match="not a regular file"):
        config.load("/dev/zero")


# ---- PDF of many tiny pages ---------------------------------------------------------------------


def test_a_pdf_of_many_pages_is_read_up_to_the_page_limit(monkeypatch):
    """20k tiny pages (3 MB) took 27 s with no bound; a PDF is bounded like a docx: pages past
    MAX_PAGES (or the time limit) are left out, with a note."""
    from test_loaders import make_pdf

    from rag_core.ingest.loaders import pdf

    monkeypatch.setattr(pdf, "MAX_PAGES", 3)
    report = load_bytes("book.pdf", make_pdf([f"page {i} words here" for i in range(1, 11)]))
    assert [d.section for d in report.documents] == ["page 1", "page 2", "page 3"]
    assert report.files[0].reason.startswith("truncated: read the first 3 of 10 pages (the limit of 3 pages)")


def test_a_pdf_past_its_time_limit_keeps_what_was_read(monkeypatch):
    from test_loaders import make_pdf

    from rag_core.ingest.loaders import pdf

    monkeypatch.setattr(pdf, "MAX_SECONDS", 0.0)
    report = load_bytes("book.pdf", make_pdf(["first page words", "second page words"]))
    assert [d.section for d in report.documents] == ["page 1"]
    assert "time limit" in report.files[0].reason


# ---- the filter table of many rows --------------------------------------------------------------


def test_table_rows_back_to_documents_without_a_series_per_row(monkeypatch):
    """50k one-line files (or a 300k-row CSV) spent 13 s in DataFrame.iterrows turning the
    filtered table back into Documents; the rows are read column-wise now."""
    import pandas as pd

    from rag_core.ingest.table import documents_frame, frame_to_documents
    from rag_core.core.types import Document

    docs = [Document(f"f{i % 7}.txt", f"row {i}", f"text {i}", i) for i in range(500)]
    frame = pd.concat([documents_frame(docs), documents_frame([Document("g.txt", "s", "x", 0)]).assign(text="")])

    def refuse(self):
        raise AssertionError("iterrows builds a Series per row")

    monkeypatch.setattr(pd.DataFrame, "iterrows", refuse)
    assert frame_to_documents(frame) == docs  # the row without text is left out
    edited = frame.reset_index(drop=True)  # ordinals lost (an editor added rows): renumbered per source
    edited.loc[3, "section"] = float("nan")
    back = frame_to_documents(edited)
    assert [d.ordinal for d in back[:8]] == [0, 0, 0, 0, 0, 0, 0, 1] and back[3].section == ""
