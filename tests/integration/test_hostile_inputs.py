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

from rag_core.ingest.chunking import chunk_documents
from rag_core.llm.extractive import sentences
from rag_core.ingest.loaders import load_bytes, normalize_text
from rag_core.core.text import terms
from rag_core.core.types import ChunkingConfig, Document

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


# ---- special files, symlinks, unreadable folders (hostile 7) -----------------------------------

import io  # noqa: E402
import os  # noqa: E402
import re  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import zipfile  # noqa: E402
import zlib  # noqa: E402
from pathlib import Path  # noqa: E402

from rag_core.ingest.loaders import docx as docx_loader  # noqa: E402
from rag_core.ingest.loaders import load_paths  # noqa: E402
from rag_core.ingest.loaders.files import NotReadable, read_regular  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
WORDS = ("A perfectly ordinary document with enough words in it to pass the content filter easily, "
         "and a few more words to be sure.")


def _reasons(report) -> dict[str, str]:
    return {f.source: f.reason for f in report.files}


@pytest.mark.timeout(60)
def test_a_fifo_in_a_folder_is_reported_not_read(tmp_path):
    (tmp_path / "ok.txt").write_text(WORDS)
    os.mkfifo(tmp_path / "x.txt")
    report = load_paths([tmp_path])
    assert [d.source for d in report.documents] == ["ok.txt"]
    assert _reasons(report)["x.txt"] == "not a regular file (a FIFO): only regular files are read"
    given = load_paths([tmp_path / "x.txt"])  # named on its own: the same, not "not found"
    assert _reasons(given)["x.txt"].startswith("not a regular file (a FIFO)")
    with pytest.raises(NotReadable, match="a FIFO"):  # the opened descriptor is checked too
        read_regular(str(tmp_path / "x.txt"), 1024, 1024, str)


@pytest.mark.timeout(120)
def test_cli_estimate_and_ingest_do_not_hang_on_a_fifo(tmp_path):
    (tmp_path / "ok.txt").write_text(WORDS)
    os.mkfifo(tmp_path / "x.txt")
    for args in (["estimate", str(tmp_path)], ["ingest", str(tmp_path), "--index", str(tmp_path / "idx"),
                                               "--embedder", "hashing"]):
        out = subprocess.run([sys.executable, "-m", "rag_core", *args, "--quiet"], cwd=ROOT, capture_output=True,
                             text=True, timeout=100)
        assert out.returncode == 0, out.stderr
        assert "x.txt: not a regular file (a FIFO)" in out.stdout


@pytest.mark.timeout(60)
@pytest.mark.parametrize("device", ["/dev/zero", "/dev/null"])
def test_a_character_device_is_not_read(device):
    if not os.path.exists(device):
        pytest.skip(f"{device} missing")
    (status,) = load_paths([device]).files
    assert status.status == "skipped" and status.reason.startswith("not a regular file (a character device)")


def test_symlinks_leaving_the_folder_are_reported_and_not_followed(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("The secret lives outside the folder that was given to ingest.")
    docs = tmp_path / "docs"
    (docs / "sub").mkdir(parents=True)
    (docs / "real.txt").write_text(WORDS)
    (docs / "leak.txt").symlink_to(outside / "secret.txt")
    (docs / "leakdir").symlink_to(outside)
    (docs / "sub" / "alias.txt").symlink_to(docs / "real.txt")  # inside: the same file, read once
    (docs / "dangling.txt").symlink_to(docs / "gone.txt")
    report = load_paths([docs])
    assert [d.source for d in report.documents] == ["real.txt"]
    reasons = _reasons(report)
    assert reasons["leak.txt"].startswith("symlink leads outside the folder given: not followed")
    assert reasons["leakdir"].startswith("symlink leads outside the folder given")
    assert reasons["dangling.txt"].startswith("broken symlink")
    assert not any("secret" in d.text for d in report.documents)


def test_an_unreadable_subfolder_is_reported(tmp_path, monkeypatch):
    (tmp_path / "locked").mkdir()
    (tmp_path / "locked" / "a.txt").write_text(WORDS)
    (tmp_path / "b.txt").write_text(WORDS + " Another one.")
    real_scandir = os.scandir

    def scandir(path="."):  # root ignores permissions: a folder that cannot be listed, as a fake
        if os.path.basename(os.fspath(path)) == "locked":
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    report = load_paths([tmp_path])
    assert [d.source for d in report.documents] == ["b.txt"]
    assert _reasons(report)["locked/"] == "could not read this folder (Permission denied); check its permissions"


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any folder")
def test_an_unreadable_subfolder_is_reported_for_real(tmp_path):
    (tmp_path / "locked").mkdir()
    (tmp_path / "locked" / "a.txt").write_text(WORDS)
    os.chmod(tmp_path / "locked", 0)
    try:
        assert "locked/" in _reasons(load_paths([tmp_path]))
    finally:
        os.chmod(tmp_path / "locked", 0o755)


# ---- library noise and accurate reasons (new user 4, hostile 12) --------------------------------


def test_pypdf_noise_goes_to_the_report_not_stderr(capfd, caplog):
    broken = b"garbage that is not a pdf " * 20
    report = load_bytes("broken.pdf", broken)
    err = capfd.readouterr().err
    assert err == "", err
    (status,) = report.files
    assert status.status == "skipped" and status.reason.startswith("corrupt PDF")
    assert "library warnings: invalid pdf header" in status.reason
    with caplog.at_level("DEBUG", logger="rag_core.ingest.loaders"):
        load_bytes("again.pdf", broken)
    assert any("invalid pdf header" in r.getMessage() for r in caplog.records)


def test_cli_ingest_of_a_broken_pdf_keeps_stderr_clean(tmp_path):
    (tmp_path / "ok.txt").write_text(WORDS)
    (tmp_path / "broken.pdf").write_bytes(b"%PDF-1.4 nothing else" * 10)
    out = subprocess.run([sys.executable, "-m", "rag_core", "ingest", str(tmp_path), "--index", str(tmp_path / "i"),
                          "--embedder", "hashing", "--quiet"], cwd=ROOT, capture_output=True, text=True, timeout=200)
    assert out.returncode == 0 and out.stderr == "", out.stderr
    assert "broken.pdf: corrupt PDF" in out.stdout


def _flate_bomb_pdf(n: int = 120_000_000) -> bytes:
    stream = zlib.compress(b"0" * n, 9)
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>",
               f"<< /Length {len(stream)} /Filter /FlateDecode >>\nstream\n".encode() + stream + b"\nendstream"]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(f"{number} 0 obj\n".encode() + body + b"\nendobj\n")
    xref = out.tell()
    out.write(f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode())
    out.write(b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets))
    out.write(f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode())
    return out.getvalue()


def test_a_flate_bomb_pdf_is_named_as_such():
    (status,) = load_bytes("bomb.pdf", _flate_bomb_pdf()).files
    assert status.status == "skipped" and status.reason.startswith("decompressed size exceeds limit")


def _docx_with_body(body: bytes, prolog: bytes = b"") -> bytes:
    import docx

    out = io.BytesIO()
    docx.Document().save(out)
    source = zipfile.ZipFile(io.BytesIO(out.getvalue()))
    result = io.BytesIO()
    with zipfile.ZipFile(result, "w", zipfile.ZIP_DEFLATED) as package:
        for info in source.infolist():
            data = source.read(info)
            if info.filename == "word/document.xml":
                data = re.sub(rb"<w:body>.*</w:body>", b"<w:body>" + body + b"</w:body>", data, flags=re.S)
                if prolog:
                    data = data.replace(b"?>", b"?>" + prolog, 1)
            package.writestr(info.filename, data)
    return result.getvalue()


def test_an_xxe_docx_is_refused_as_such():
    prolog = b'<!DOCTYPE w:document [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
    data = _docx_with_body(b"<w:p><w:r><w:t>&xxe; and words</w:t></w:r></w:p>", prolog)
    (status,) = load_bytes("xxe.docx", data).files
    assert status.status == "skipped" and status.reason.startswith("refused: the docx declares a DTD or XML entities")


def test_a_file_mixing_utf8_and_latin1_lines_decodes_line_by_line():
    data = ("Crème brûlée is a dessert.\n".encode() + "Le café était très bon, à Noël.\n".encode("cp1252")
            + "Straße und Größe.\n".encode())
    (doc,) = load_bytes("mixed.txt", data).documents
    assert doc.text == "Crème brûlée is a dessert.\nLe café était très bon, à Noël.\nStraße und Größe."


# ---- a docx of many tiny paragraphs (hostile 5) -------------------------------------------------

TINY = b"<w:p><w:r><w:t>x</w:t></w:r></w:p>"


def test_a_docx_with_too_many_paragraphs_is_refused_before_parsing(monkeypatch):
    monkeypatch.setattr(docx_loader, "MAX_PARAGRAPHS", 5000)
    (status,) = load_bytes("tiny.docx", _docx_with_body(TINY * 5001)).files
    assert status.status == "skipped" and "docx has 5001 paragraphs, over the limit of 5000" in status.reason
    body = b"<w:p><w:r><w:t>" + WORDS.encode() + b"</w:t></w:r></w:p>"
    assert load_bytes("ok.docx", _docx_with_body(body * 10)).files[0].status == "ingested"


def test_a_docx_that_takes_too_long_is_truncated_with_a_note(monkeypatch):
    class Clock:  # one "second" per look at the clock: the limit is reached after the first check
        now = 0.0

        def monotonic(self):
            self.now += 1.0
            return self.now

    monkeypatch.setattr(docx_loader, "time", Clock())
    monkeypatch.setattr(docx_loader, "MAX_SECONDS", 1.5)
    body = b"<w:p><w:r><w:t>" + WORDS.encode() + b"</w:t></w:r></w:p>"
    report = load_bytes("slow.docx", _docx_with_body(body * 1000))
    (status,) = report.files
    assert status.status == "ingested" and status.reason.startswith("truncated: read the first 256 paragraphs")
    assert report.documents[0].text.count("perfectly ordinary") == 256


@pytest.mark.timeout(200)
def test_docx_reading_time_grows_linearly_with_paragraphs():
    small, large = _docx_with_body(TINY * 2000), _docx_with_body(TINY * 20000)
    t_small = _best_time(lambda: load_bytes("s.docx", small))
    t_large = _best_time(lambda: load_bytes("l.docx", large))
    assert t_large < 30 * t_small + 0.5, f"{t_small:.3f}s for 2k paragraphs, {t_large:.3f}s for 20k"
