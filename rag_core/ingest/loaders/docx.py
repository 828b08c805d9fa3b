"""Word .docx via python-docx: one section per heading (Title, Heading 1..9), labelled with its path.

Paragraphs and tables are read in document order (a table row becomes "a | b | c"). Text
before the first heading is labelled with the file name. The file is a zip, so its
declared uncompressed size is checked before python-docx opens it (a zip bomb named .docx).
"""

from __future__ import annotations

import io
import re
import time
import zipfile

from rag_core.core.errors import IngestError
from rag_core.ingest.loaders.base import LoadOptions, Section, one_line
from rag_core.ingest.loaders.noise import note
from rag_core.ingest.loaders.text import file_label

MAX_UNPACKED_BYTES = 200 * 1024 * 1024
#: Word never writes more than a few tens of thousands for a book; more is a hostile file
MAX_PARAGRAPHS = 200_000
#: reading stops here and what was read so far is kept, with a note in the file's report
MAX_SECONDS = 60.0
_HEADING = re.compile(r"^heading\s*(\d)$", re.IGNORECASE)
#: any namespace prefix: <w:p>, <w:p w:rsidR=...>, <x:p/>
_PARAGRAPH = re.compile(rb"<(?:[A-Za-z_][\w.-]{0,40}:)?p[\s/>]")
_DTD = tuple(marker.encode(codec) for marker in ("<!DOCTYPE", "<!ENTITY") for codec in ("utf-8", "utf-16-le", "utf-16-be"))
XXE_REASON = ("refused: the docx declares a DTD or XML entities (external entity / entity expansion attack?), "
              "which Word never writes; re-save it from Word")


def _level(style_name: str) -> int | None:
    name = (style_name or "").strip()
    if name.lower() == "title":
        return 0
    match = _HEADING.match(name)
    return int(match.group(1)) if match else None


def _scan_part(package: zipfile.ZipFile, info: zipfile.ZipInfo) -> int:
    """Paragraph tags in one XML part, read in blocks (bounded by its declared size); raises
    IngestError on a DTD or entity declaration, which python-docx would silently leave out."""
    count, tail = 0, b""
    with package.open(info) as handle:
        read = 0
        while block := handle.read(1024 * 1024):
            read += len(block)
            if read > info.file_size:
                raise IngestError("docx part inflates past its declared size (a zip bomb?); re-save it from Word")
            window = tail + block
            if any(marker in window for marker in _DTD):
                raise IngestError(XXE_REASON)
            count += sum(1 for m in _PARAGRAPH.finditer(window) if m.end() > len(tail))  # tail: counted
            tail = window[-64:]
    return count


def _check_package(data: bytes) -> None:
    """Before python-docx builds its tree: the unpacked size, entity declarations, paragraph count."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as package:
            infos = package.infolist()
            unpacked = sum(info.file_size for info in infos)
            if unpacked > MAX_UNPACKED_BYTES:
                raise IngestError(f"docx unpacks to {unpacked / 1024 / 1024:.0f} MB, over the "
                                  f"{MAX_UNPACKED_BYTES // 1024 // 1024} MB limit (a zip bomb?); re-save it from Word")
            paragraphs = sum(_scan_part(package, i) for i in infos if i.filename.lower().endswith((".xml", ".rels")))
    except (zipfile.BadZipFile, OSError, ValueError, RuntimeError, NotImplementedError) as exc:
        raise IngestError("corrupt docx (not a zip package): re-save it from Word and try again") from exc
    if paragraphs > MAX_PARAGRAPHS:
        raise IngestError(f"docx has {paragraphs} paragraphs, over the limit of {MAX_PARAGRAPHS} (Word never "
                          "writes that many tiny ones); split it, or save it as .txt and load that")


def _style_names(document) -> dict[str, str]:
    """Style id -> name, read once: python-docx looks a paragraph's style up by scanning every
    style (8 ms a paragraph with Word's ~200 styles), which made long documents take hours."""
    names = {}
    for style in document.styles.element.iterchildren():
        if style.tag.rsplit("}", 1)[-1] == "style":
            names[style.get(_W + "styleId") or ""] = style.name_val or ""
    return names


_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_RUN_PARTS = frozenset(_W + t for t in ("br", "cr", "noBreakHyphen", "ptab", "t", "tab"))


def _run_text(run) -> str:
    return "".join(str(e) for e in run.iterchildren() if e.tag in _RUN_PARTS)


def _paragraph_text(paragraph) -> str:
    """What python-docx's Paragraph.text returns (runs and hyperlinks' runs, tabs and breaks as
    text), by walking children: its per-call XPath compiles anew for every paragraph and run."""
    out = []
    for child in paragraph.iterchildren():
        if child.tag == _W + "r":
            out.append(_run_text(child))
        elif child.tag == _W + "hyperlink":
            out.extend(_run_text(r) for r in child.iterchildren(_W + "r"))
    return "".join(out)


def _table_text(element, document) -> str:
    from docx.table import Table

    rows = []
    for row in Table(element, document).rows:
        cells, seen = [], set()
        for cell in row.cells:  # a merged cell is returned once per grid column it spans
            if id(cell._tc) not in seen:
                seen.add(id(cell._tc))
                cells.append(" ".join(cell.text.split()))
        rows.append(" | ".join(cells))
    return "\n".join(rows)


def load_docx(name: str, data: bytes, options: LoadOptions) -> list[Section]:
    import docx

    _check_package(data)
    try:
        document = docx.Document(io.BytesIO(data))
        styles = _style_names(document)
    except Exception as exc:  # noqa: BLE001 - PackageNotFoundError, KeyError, XML errors on corrupt files
        raise IngestError(f"corrupt docx ({one_line(exc, 120)}): re-save it from Word and try again") from exc
    preamble = file_label(name)
    sections: list[Section] = []
    path: list[tuple[int, str]] = []
    label, parts = preamble, []
    deadline = time.monotonic() + MAX_SECONDS
    for done, element in enumerate(document.element.body.iterchildren()):
        if done % 256 == 0 and time.monotonic() > deadline:
            note(f"truncated: read the first {done} paragraphs and tables in the {MAX_SECONDS:g} s time limit; "
                 "split the document to load the rest")
            break
        tag = element.tag.rsplit("}", 1)[-1]
        if tag == "p":
            level = _level(styles.get(element.style or "", ""))
            text = _paragraph_text(element)
            if level is not None and text.strip():
                sections.append(Section(label, "\n\n".join(parts)))
                while path and path[-1][0] >= level:
                    path.pop()
                path.append((level, " ".join(text.split())))
                label, parts = " > ".join(t for _, t in path) or preamble, []
            else:
                parts.append(text)
        elif tag == "tbl":
            parts.append(_table_text(element, document))
    sections.append(Section(label, "\n\n".join(parts)))
    return [s for s in sections if s.text.strip()]
