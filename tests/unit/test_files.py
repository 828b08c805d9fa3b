"""Real-world files: docx, zip archives (bombs, traversal, nesting), total size limit, dedup."""

from __future__ import annotations

import io
import os
import zipfile

from test_loaders import make_pdf

from rag_core.cli import advice as cli_advice
from rag_core.ingest.loaders import LOADERS, SUPPORTED_SUFFIXES, archive, dedupe, load_bytes, load_paths

TEXT = "Nairobi is the capital of Kenya and the country lies on the equator in East Africa."


def make_docx(paragraphs: list[tuple[str, str]], table: list[list[str]] | None = None) -> bytes:
    """(style, text) pairs, e.g. ("Heading 1", "Intro"), ("Normal", "body")."""
    import docx

    document = docx.Document()
    for style, text in paragraphs:
        document.add_paragraph(text, style=style)
    if table:
        grid = document.add_table(rows=len(table), cols=len(table[0]))
        for r, row in enumerate(table):
            for c, value in enumerate(row):
                grid.cell(r, c).text = value
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def make_zip(members: dict[str, bytes], compression=zipfile.ZIP_DEFLATED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return out.getvalue()


def statuses(report) -> dict[str, tuple[str, str]]:
    return {f.source: (f.status, f.reason) for f in report.files}


# ---- docx -------------------------------------------------------------------------------


def test_docx_sections_follow_heading_styles():
    data = make_docx([
        ("Normal", "Before any heading."),
        ("Title", "Handbook"),
        ("Heading 1", "Install"),
        ("Normal", "Run the installer."),
        ("Heading 2", "On Linux"),
        ("Normal", "Use the package."),
        ("Heading 1", "Use"),
        ("Normal", "Open the app."),
    ], table=[["name", "value"], ["port", "8501"]])
    report = load_bytes("guide.docx", data)
    assert [(d.section, d.text) for d in report.documents] == [
        ("guide.docx", "Before any heading."),
        ("Handbook > Install", "Run the installer."),
        ("Handbook > Install > On Linux", "Use the package."),
        ("Handbook > Use", "Open the app.\n\nname | value\nport | 8501"),
    ]
    assert ".docx" in SUPPORTED_SUFFIXES and ".docx" in LOADERS


def test_corrupt_docx_is_skipped_with_reason():
    report = load_bytes("broken.docx", b"PK\x03\x04 not really a zip")
    assert report.skipped[0].reason.startswith("corrupt docx")
    not_word = make_zip({"hello.txt": b"hi"})
    assert load_bytes("other.docx", not_word).skipped[0].reason.startswith("corrupt docx")


def test_docx_zip_bomb_is_refused(monkeypatch):
    from rag_core.ingest.loaders import docx as docx_loader

    monkeypatch.setattr(docx_loader, "MAX_UNPACKED_BYTES", 1024)
    report = load_bytes("bomb.docx", make_docx([("Normal", "x" * 5000)]))
    assert "over the 0 MB limit (a zip bomb?)" in report.skipped[0].reason


# ---- zip archives -----------------------------------------------------------------------


def test_zip_members_are_loaded_in_memory_with_archive_sources(tmp_path):
    data = make_zip({
        "docs/a.md": b"# Alpha\n" + TEXT.encode(),
        "docs/b.pdf": make_pdf(["A page in a pdf inside a zip."]),
        "c.docx": make_docx([("Heading 1", "Gamma"), ("Normal", "Word inside a zip.")]),
        "__MACOSX/._a.md": b"junk",
        ".DS_Store": b"junk",
        "image.png": b"\x89PNG",
    })
    before = set(os.listdir(tmp_path))
    report = load_bytes("bundle.zip", data)
    assert set(os.listdir(tmp_path)) == before  # nothing written to disk
    assert {d.source for d in report.documents} == {"bundle.zip!/docs/a.md", "bundle.zip!/docs/b.pdf",
                                                     "bundle.zip!/c.docx"}
    assert statuses(report)["bundle.zip!/image.png"][0] == "skipped"
    assert not any("MACOSX" in f.source or "DS_Store" in f.source for f in report.files)


def test_zip_traversal_absolute_and_nested_members_are_refused():
    data = make_zip({
        "../evil.txt": TEXT.encode(),
        "/etc/abs.txt": TEXT.encode(),
        "C:/win.txt": TEXT.encode(),
        "inner.zip": make_zip({"x.txt": TEXT.encode()}),
        "ok.txt": b"A fine file that is read normally.",
    })
    got = statuses(load_bytes("a.zip", data))
    assert got["a.zip!/../evil.txt"] == ("skipped", "unsafe path in archive: '..' escapes the archive; member not read")
    assert got["a.zip!//etc/abs.txt"] == ("skipped", "unsafe path in archive: absolute path; member not read")
    assert got["a.zip!/C:/win.txt"][1].startswith("unsafe path in archive")
    assert got["a.zip!/inner.zip"] == ("skipped", "nested archive not opened: unzip it and load its files")
    assert got["a.zip!/ok.txt"][0] == "ingested"


def test_zip_bomb_by_ratio_and_by_declared_total():
    bomb = make_zip({"zeros.txt": b"0" * (5 * 1024 * 1024)})
    (status,) = load_bytes("bomb.zip", bomb).files
    assert status.status == "skipped" and "compression ratio" in status.reason and "zip bomb" in status.reason
    big = make_zip({"a.txt": os.urandom(600_000).hex().encode()}, zipfile.ZIP_STORED)
    (status,) = load_bytes("big.zip", big, max_unpacked_bytes=1024 * 1024).files
    assert status.source == "big.zip" and "would unpack to 1 MB, over the 1 MB limit" in status.reason


def test_zip_member_over_file_limit_and_too_many_members(monkeypatch):
    data = make_zip({"big.txt": b"word " * 5000, "small.txt": TEXT.encode()})
    got = statuses(load_bytes("z.zip", data, max_bytes=10_000))
    assert "over the" in got["z.zip!/big.txt"][1] and got["z.zip!/small.txt"][0] == "ingested"
    monkeypatch.setattr(archive, "MAX_MEMBERS", 1)
    (status,) = load_bytes("z.zip", data).files
    assert status.reason.startswith("zip has 2 files, over the limit of 1")


def test_corrupt_zip_is_skipped():
    (status,) = load_bytes("bad.zip", b"PK\x05\x06" + b"\x00" * 5).files + load_bytes("worse.zip", b"nope").files[:0]
    assert status.status == "skipped"
    assert load_bytes("worse.zip", b"nope").files[0].reason.startswith("corrupt zip")


# ---- limits and dedup over folders ------------------------------------------------------


def test_total_size_limit_skips_the_rest_with_a_reason(tmp_path):
    for i in range(4):
        (tmp_path / f"f{i}.txt").write_text(f"File {i}. " + "words " * 100)  # ~610 bytes each
    report = load_paths([tmp_path], max_total_bytes=1500)
    assert [f.status for f in report.files] == ["ingested", "ingested", "skipped", "skipped"]
    assert report.files[2].reason.startswith("total size limit reached")
    assert "--max-total-mb" not in report.files[2].reason and report.files[2].kind == "total_limit"
    assert "--max-total-mb" in cli_advice.reason(report.files[2])  # the CLI words it with its flag


def test_identical_documents_are_deduplicated_by_content(tmp_path):
    (tmp_path / "a.txt").write_text(TEXT)
    (tmp_path / "b.txt").write_text(TEXT)  # same text, another name
    (tmp_path / "c.md").write_text("Something else entirely, with its own words.")
    (tmp_path / "d.zip").write_bytes(make_zip({"copy.txt": TEXT.encode(), "new.txt": b"Only in the zip."}))
    report = load_paths([tmp_path])
    got = statuses(report)
    first = "a.txt"  # sources are relative to the folder given
    assert got["b.txt"] == ("skipped", f"duplicate of {first} (identical text)")
    assert got["d.zip!/copy.txt"] == ("skipped", f"duplicate of {first} (identical text)")
    assert {d.source for d in report.documents} == {first, "c.md", "d.zip!/new.txt"}


def test_dedupe_is_idempotent_and_keeps_order():
    report = load_bytes("a.txt", TEXT.encode()) + load_bytes("b.txt", TEXT.encode()) + load_bytes("c.txt", b"other")
    once = dedupe(report)
    assert dedupe(once) == once
    assert [f.status for f in once.files] == ["ingested", "skipped", "ingested"]


def test_changed_file_replaces_unchanged_costs_nothing(tmp_path):
    """Re-ingesting through the index: the manifest's per-source hash does the work."""
    from helpers import hashing_index

    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "a.txt").write_text(TEXT)
    (tmp_path / "docs" / "b.txt").write_text("Tokyo is the capital of Japan, an island country in East Asia.")
    index = hashing_index(tmp_path / "idx", documents=list(load_paths([tmp_path / "docs"]).documents))
    (tmp_path / "docs" / "b.txt").write_text("Kyoto was the capital of Japan for more than a thousand years.")
    result = index.ingest(list(load_paths([tmp_path / "docs"]).documents))
    assert result.unchanged == ("a.txt",)
    assert result.replaced == ("b.txt",)
