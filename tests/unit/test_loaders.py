"""Loaders: every format, section splitting, encodings, and every bad-input case."""

from __future__ import annotations

import io
import os
import zipfile

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rag_core.cli import advice as cli_advice
from rag_core.core.errors import IngestError
from rag_core.ingest.loaders import (
    DEFAULT_MAX_FILE_BYTES,
    LOADERS,
    SUPPORTED_SUFFIXES,
    FileStatus,
    LoadReport,
    decode_text,
    load_bytes,
    load_paths,
    normalize_text,
)
from rag_core.ingest.loaders import html as html_loader
from rag_core.core.types import Document

# ---- tiny hand-written PDFs (reportlab is not installed) --------------------------------


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def make_pdf(pages: list[str]) -> bytes:
    """A valid PDF with one page per string (empty string -> a page with no text layer)."""
    n = len(pages)
    # objects: 1 catalog, 2 pages, 3 font, then (page, content) pairs
    objects: list[bytes] = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [" + b" ".join(f"{4 + 2 * i} 0 R".encode() for i in range(n))
        + f"] /Count {n} >>".encode(),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    for i, text in enumerate(pages):
        if text:
            lines = [f"BT /F1 12 Tf 72 {720 - 16 * j} Td ({_escape(line)}) Tj ET"
                     for j, line in enumerate(text.split("\n"))]
            stream = "\n".join(lines).encode("latin-1")
        else:
            stream = b"0 0 m 100 100 l S"  # a drawing, like a scan: no text operators
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 3 0 R >> >> "
            f"/Contents {5 + 2 * i} 0 R >>".encode()
        )
        objects.append(f"<< /Length {len(stream)} >>\nstream\n".encode() + stream + b"\nendstream")
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(f"{number} 0 obj\n".encode() + body + b"\nendobj\n")
    xref = out.tell()
    out.write(f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode())
    for offset in offsets:
        out.write(f"{offset:010d} 00000 n \n".encode())
    out.write(f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode())
    return out.getvalue()


def encrypt_pdf(data: bytes, user_password: str, owner_password: str = "owner") -> bytes:
    import pypdf

    writer = pypdf.PdfWriter(clone_from=pypdf.PdfReader(io.BytesIO(data)))
    writer.encrypt(user_password=user_password, owner_password=owner_password, algorithm="AES-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


FRENCH = ("Le garçon a mangé une crème brûlée à côté de la fenêtre. Où est la bibliothèque? "
          "Ça dépend de l'été et de l'hiver. Über die Brücke gehen Mädchen schön früh.\n")
SMART = "He said “hello” — and then ‘goodbye’… The price was 5 € only, naïve café owners noted.\n"


def sections(report: LoadReport) -> list[tuple[str, str]]:
    return [(d.section, d.text) for d in report.documents]


def only_reason(report: LoadReport) -> str:
    assert not report.documents and len(report.skipped) == 1
    return report.skipped[0].reason


# ---- contracts -------------------------------------------------------------------------


def test_public_constants():
    assert DEFAULT_MAX_FILE_BYTES == 50 * 1024 * 1024
    assert {".txt", ".md", ".html", ".htm", ".pdf", ".csv"} <= set(SUPPORTED_SUFFIXES)
    assert set(SUPPORTED_SUFFIXES) == set(LOADERS) | {".zip"}


def test_report_addition_and_views():
    a = load_bytes("a.txt", b"alpha text")
    b = load_bytes("b.txt", b"")
    both = a + b
    assert [f.source for f in both.files] == ["a.txt", "b.txt"]
    assert [f.source for f in both.ingested] == ["a.txt"] and [f.source for f in both.skipped] == ["b.txt"]
    assert both.documents == a.documents
    assert both.ingested[0] == FileStatus("a.txt", "ingested", "", 1, 10)


# ---- text and encodings ----------------------------------------------------------------


def test_txt_is_one_document_named_after_file():
    report = load_bytes("notes/today.txt", b"Hello  there.\r\nSecond line.   \r\n\r\n\r\n\r\nLast.")
    [doc] = report.documents
    assert doc == Document("notes/today.txt", "today.txt", "Hello there.\nSecond line.\n\nLast.", 0)


@pytest.mark.parametrize(
    "text, encoding",
    [(FRENCH, "latin-1"), (SMART, "cp1252"), (FRENCH, "utf-16"), (FRENCH, "utf-16-le"), (FRENCH, "utf-16-be"),
     (FRENCH, "utf-8-sig"), (FRENCH, "utf-8")],
)
def test_encoding_detection(text, encoding):
    assert decode_text(text.encode(encoding)) == text
    [doc] = load_bytes("f.txt", text.encode(encoding)).documents
    assert doc.text == text.strip()


def test_utf8_bom_is_not_in_text():
    [doc] = load_bytes("bom.txt", "\ufeffcafé".encode("utf-8")).documents
    assert doc.text == "café"


def test_normalisation_is_modest():
    raw = "  indented\tcode  with   gaps \u00a0\n\n\n\nnext\u200b line\x07\fpage two "
    assert normalize_text(raw) == "indented code with gaps\n\nnext line\npage two"
    assert normalize_text("a\n    keep indent") == "a\n    keep indent"
    assert normalize_text("cafe\u0301") == "café"  # NFC


@settings(max_examples=150, deadline=None)
@given(st.text())
def test_normalisation_is_idempotent(text):
    once = normalize_text(text)
    assert normalize_text(once) == once


# ---- markdown ----------------------------------------------------------------------------


def test_markdown_sections_follow_heading_path():
    md = (
        "Preamble text.\n"
        "# Intro\nIntro text.\n"
        "## Setup ##\nSetup text.\n"
        "```bash\n# not a heading\n```\n"
        "### Deep\nDeep text.\n"
        "#### Minor\nMinor text.\n"
        "## Usage\nUsage text.\n"
        "# Second\n## Empty parent above\nChild text.\n"
        "#NoSpace is not a heading\n"
    )
    report = load_bytes("docs/guide.md", md.encode())
    assert sections(report) == [
        ("guide.md", "Preamble text."),
        ("Intro", "Intro text."),
        ("Intro > Setup", "Setup text.\n```bash\n# not a heading\n```"),
        ("Intro > Setup > Deep", "Deep text."),
        ("Intro > Setup > Deep > Minor", "Minor text."),
        ("Intro > Usage", "Usage text."),
        ("Second > Empty parent above", "Child text.\n#NoSpace is not a heading"),
    ]
    assert [d.ordinal for d in report.documents] == list(range(7))
    assert report.ingested[0].reason == ""  # heading-only sections are structure, not losses


def test_markdown_without_preamble_starts_at_first_heading():
    report = load_bytes("a.md", b"# Title\nBody.\n# Title\nAgain.")
    assert sections(report) == [("Title", "Body."), ("Title", "Again.")]
    assert len({d.doc_id for d in report.documents}) == 2


# ---- html --------------------------------------------------------------------------------

PAGE = b"""<!doctype html><html><head><title>My  Page</title><style>.x { color: red }</style>
<script>var secret = "script text";</script></head>
<body><nav>Home | About | Contact</nav><header>Site header</header>
<main>
  <p>Lead paragraph before any heading.</p>
  <h1>Guide</h1>
  <p>Intro   text
     spanning lines.</p>
  <h2>Install</h2>
  <p>Run <code>pip install</code> now.<br>Second line.</p>
  <ul>
    <li>one</li>
    <li>two</li>
  </ul>
  <h3>Deep</h3><p>Deep text.</p><h4>Minor</h4><p>Minor text.</p>
  <h2>Use</h2><script>evil()</script><p>Use it.</p>
</main>
<footer>(c) 2024 footer text</footer></body></html>"""

EXPECTED_PAGE = [
    ("My Page", "Lead paragraph before any heading."),
    ("Guide", "Intro text spanning lines."),
    ("Guide > Install", "Run pip install now.\nSecond line.\n\n- one\n- two"),
    ("Guide > Install > Deep", "Deep text.\n\nMinor\n\nMinor text."),
    ("Guide > Use", "Use it."),
]


def test_html_fallback_sections_and_stripping(monkeypatch):
    monkeypatch.setattr(html_loader, "_trafilatura", lambda: None)
    report = load_bytes("page.html", PAGE)
    assert sections(report) == EXPECTED_PAGE
    everything = " ".join(d.text for d in report.documents)
    for junk in ("secret", "evil", "Home", "Site header", "footer", "color"):
        assert junk not in everything


def test_html_with_trafilatura_when_available():
    if html_loader._trafilatura() is None:
        pytest.skip("trafilatura is not importable here (needs lxml_html_clean)")
    report = load_bytes("page.htm", PAGE)
    assert [s for s, _ in sections(report)] == [s for s, _ in EXPECTED_PAGE]
    assert "secret" not in " ".join(d.text for d in report.documents)


def test_html_without_title_uses_file_name(monkeypatch):
    monkeypatch.setattr(html_loader, "_trafilatura", lambda: None)
    report = load_bytes("x/frag.html", b"<p>Just text</p><table><tr><td>a</td><td>b</td></tr></table>")
    assert sections(report) == [("frag.html", "Just text\n\na | b")]


# ---- pdf -----------------------------------------------------------------------------------


def test_pdf_one_document_per_page():
    data = make_pdf(["First page (one)\nsecond line", "", "Third page"])
    report = load_bytes("paper.pdf", data)
    assert sections(report) == [("page 1", "First page (one)\nsecond line"), ("page 3", "Third page")]
    assert [d.ordinal for d in report.documents] == [0, 1]
    assert "page 2" in report.ingested[0].reason  # the blank page is named, not silently lost


def test_pdf_encrypted_with_empty_user_password_opens():
    report = load_bytes("open.pdf", encrypt_pdf(make_pdf(["Readable text"]), user_password=""))
    assert sections(report) == [("page 1", "Readable text")]


def test_pdf_encrypted_with_password_is_skipped():
    data = encrypt_pdf(make_pdf(["Secret text"]), user_password="hunter2")
    reason = only_reason(load_bytes("locked.pdf", data))
    assert reason == "encrypted PDF: remove the password and upload again"


def test_scanned_pdf_is_skipped():
    reason = only_reason(load_bytes("scan.pdf", make_pdf(["", ""])))
    assert reason == "no extractable text (scanned PDF? run OCR first)"


@pytest.mark.parametrize("data", [b"%PDF-1.4\nthis is not a pdf", make_pdf(["Some text"])[:300], b"hello"])
def test_corrupt_pdf_is_skipped(data):
    reason = only_reason(load_bytes("broken.pdf", data))
    assert reason.startswith("corrupt PDF") and "re-export" in reason and "\n" not in reason


# ---- csv -----------------------------------------------------------------------------------

CSV = (
    "id,title,body,tag\n"
    "1,First post,\"A long body, with a comma and\nan embedded newline.\",x\n"
    "2,,Second body text that is long enough.,y\n"
    "\n"
    "3,Third,,z\n"
).encode()


def test_csv_picks_longest_column_and_titles():
    report = load_bytes("posts.csv", CSV)
    assert sections(report) == [
        ("First post", "A long body, with a comma and\nan embedded newline."),
        ("row 2", "Second body text that is long enough."),
    ]
    assert "Third" in report.ingested[0].reason  # the empty row is reported


def test_csv_chosen_column_and_semicolons():
    data = b"name;notes;summary\nAda;short;A much longer summary of Ada's work.\nBob;tiny;Bob's summary.\n"
    report = load_bytes("people.csv", data, csv_text_column="Notes")
    assert sections(report) == [("Ada", "short"), ("Bob", "tiny")]
    assert sections(load_bytes("people.csv", data))[0] == ("Ada", "A much longer summary of Ada's work.")


def test_csv_unknown_column_lists_columns():
    reason = only_reason(load_bytes("people.csv", b"a,b\n1,2\n", csv_text_column="text"))
    assert "no column 'text'" in reason and "a, b" in reason


def test_tsv_and_header_only():
    assert sections(load_bytes("t.tsv", b"label\ttext\nx\thello, world\n")) == [("row 1", "hello, world")]
    assert only_reason(load_bytes("h.csv", b"a,b\n")).startswith("no data rows")


# ---- bad input ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["e.txt", "e.md", "e.pdf", "e.csv", "e.html"])
def test_empty_file_is_skipped(name):
    assert only_reason(load_bytes(name, b"")).startswith("empty file")


PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256))


@pytest.mark.parametrize("data", [PNG, b"text\x00with nul"])
def test_binary_named_txt_is_skipped(data):
    assert only_reason(load_bytes("image.txt", data)).startswith("binary content, not text: ")


def test_binary_detection_raises_ingest_error():
    with pytest.raises(IngestError):
        decode_text(bytes(range(256)) * 8)


def test_whitespace_only_file_has_no_text():
    assert only_reason(load_bytes("blank.md", b"  \n\t\n# \n")).startswith("no extractable text")


def test_over_size_limit_is_skipped(tmp_path):
    report = load_bytes("big.txt", b"x" * 3 * 1024 * 1024, max_bytes=2 * 1024 * 1024)
    assert only_reason(report) == "3.0 MB is over the 2 MB limit"  # the core's words: no CLI flag
    (status,) = report.skipped
    assert (status.kind, dict(status.values)) == ("file_too_large", {"size_mb": 3.0, "limit_mb": 2.0})
    assert cli_advice.reason(status) == "3.0 MB is over the 2 MB limit; split the file or raise --max-file-mb"
    path = tmp_path / "big.txt"
    path.write_bytes(b"y" * (3 * 1024 * 1024 // 2))
    assert only_reason(load_paths([path], max_bytes=1024 * 1024)).startswith("1.5 MB is over the 1 MB limit")


def test_unsupported_and_missing_paths(tmp_path):
    (tmp_path / "photo.jpg").write_bytes(b"\xff\xd8")
    report = load_paths([tmp_path / "photo.jpg", tmp_path / "nope.txt"])
    assert [f.status for f in report.files] == ["skipped", "skipped"]
    reasons = {f.source: f.reason for f in report.files}
    assert reasons["photo.jpg"].startswith("unsupported file type '.jpg'; convert it to")
    assert reasons[str(tmp_path / "nope.txt")].startswith("not found")  # shown as given


def test_loader_crash_becomes_a_skip(monkeypatch):
    def boom(name, data, options):
        raise RuntimeError("parser bug\nwith two lines")

    monkeypatch.setitem(LOADERS, ".txt", boom)
    reason = only_reason(load_bytes("a.txt", b"fine"))
    assert "RuntimeError: parser bug with two lines" in reason and "\n" not in reason


# ---- folders -------------------------------------------------------------------------------


def test_folder_with_one_bad_file_among_fifty(tmp_path):
    for i in range(49):
        sub = tmp_path / ("a" if i % 2 else "b")
        sub.mkdir(exist_ok=True)
        (sub / f"doc{i:02d}.txt").write_text(f"Document number {i} has some words.")
    (tmp_path / "b" / "broken.pdf").write_bytes(b"%PDF-1.4 broken")
    (tmp_path / ".hidden").mkdir()
    (tmp_path / ".hidden" / "secret.txt").write_text("hidden")
    (tmp_path / ".dotfile.txt").write_text("hidden")
    calls = []
    report = load_paths([tmp_path], progress=lambda done, total, source: calls.append((done, total, source)))
    assert len(report.ingested) == 49 and len(report.documents) == 49
    [bad] = report.skipped
    assert bad.source == "b/broken.pdf" and bad.reason.startswith("corrupt PDF")
    assert [c[:2] for c in calls] == [(i, 50) for i in range(1, 51)]
    assert all("hidden" not in f.source and ".dotfile" not in f.source for f in report.files)
    assert report.documents[0].source == "a/doc01.txt"


def test_non_recursive_and_deduplicated(tmp_path):
    (tmp_path / "top.md").write_text("# T\ntop")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "inner.md").write_text("inner")
    report = load_paths([tmp_path, tmp_path / "top.md"], recursive=False)
    assert [f.source for f in report.files] == ["top.md"]
    assert report.documents[0].source == "top.md"


def test_mixed_formats_folder(tmp_path):
    (tmp_path / "a.txt").write_bytes(FRENCH.encode("cp1252"))
    (tmp_path / "b.md").write_text("# H\nbody")
    (tmp_path / "c.html").write_bytes(PAGE)
    (tmp_path / "d.pdf").write_bytes(make_pdf(["pdf text"]))
    (tmp_path / "e.csv").write_bytes(CSV)
    report = load_paths([str(tmp_path)])
    assert not report.skipped and len(report.ingested) == 5
    names = ("a.txt", "b.md", "c.html", "d.pdf", "e.csv")
    assert {d.source for d in report.documents} == set(names)


def test_source_is_the_same_whatever_the_spelling(tmp_path, monkeypatch):
    docs = tmp_path / "docs"
    (docs / "sub").mkdir(parents=True)
    (docs / "a.md").write_text("# A\nalpha")
    (docs / "sub" / "b.txt").write_text("beta")
    (docs / "photo.jpg").write_bytes(b"\xff\xd8")
    monkeypatch.chdir(tmp_path)

    def sources(*paths):
        report = load_paths(list(paths))
        return [d.source for d in report.documents], [(f.source, f.status, f.reason) for f in report.files]

    plain = sources("docs")
    assert sources("./docs") == sources(str(docs)) == sources("docs/../docs/") == plain
    assert set(plain[0]) == {"a.md", "sub/b.txt"}  # relative to the folder given: no server path
    assert ("photo.jpg", "skipped") in {f[:2] for f in plain[1]}
    # one file named two ways is read once, under its name
    assert sources("docs/a.md", "./docs/sub/../a.md")[0] == ["a.md"]
    with zipfile.ZipFile(tmp_path / "bundle.zip", "w") as archive:
        archive.writestr("in/c.md", "# C\ngamma")
    assert sources("bundle.zip")[0] == sources("./bundle.zip")[0] == ["bundle.zip!/in/c.md"]
    assert sources("nope.txt")[1] == [("nope.txt", "skipped", "not found: check the path and try again")]
