"""Word .docx via python-docx: one section per heading (Title, Heading 1..9), labelled with its path.

Paragraphs and tables are read in document order (a table row becomes "a | b | c"). Text
before the first heading is labelled with the file name. The file is a zip, so its
declared uncompressed size is checked before python-docx opens it (a zip bomb named .docx).
"""

from __future__ import annotations

import io
import re
import zipfile

from ..errors import IngestError
from .base import LoadOptions, Section, one_line
from .text import file_label

MAX_UNPACKED_BYTES = 200 * 1024 * 1024
_HEADING = re.compile(r"^heading\s*(\d)$", re.IGNORECASE)


def _level(style_name: str) -> int | None:
    name = (style_name or "").strip()
    if name.lower() == "title":
        return 0
    match = _HEADING.match(name)
    return int(match.group(1)) if match else None


def _check_package(data: bytes) -> None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as package:
            unpacked = sum(info.file_size for info in package.infolist())
    except zipfile.BadZipFile as exc:
        raise IngestError("corrupt docx (not a zip package): re-save it from Word and try again") from exc
    if unpacked > MAX_UNPACKED_BYTES:
        raise IngestError(f"docx unpacks to {unpacked / 1024 / 1024:.0f} MB, over the "
                          f"{MAX_UNPACKED_BYTES // 1024 // 1024} MB limit (a zip bomb?); re-save it from Word")


def load_docx(name: str, data: bytes, options: LoadOptions) -> list[Section]:
    import docx
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    _check_package(data)
    try:
        document = docx.Document(io.BytesIO(data))
    except Exception as exc:  # noqa: BLE001 - PackageNotFoundError, KeyError, XML errors on corrupt files
        raise IngestError(f"corrupt docx ({one_line(exc, 120)}): re-save it from Word and try again") from exc
    preamble = file_label(name)
    sections: list[Section] = []
    path: list[tuple[int, str]] = []
    label, parts = preamble, []
    for element in document.element.body.iterchildren():
        tag = element.tag.rsplit("}", 1)[-1]
        if tag == "p":
            paragraph = Paragraph(element, document)
            style = paragraph.style.name if paragraph.style is not None else ""
            level = _level(style)
            if level is not None and paragraph.text.strip():
                sections.append(Section(label, "\n\n".join(parts)))
                while path and path[-1][0] >= level:
                    path.pop()
                path.append((level, " ".join(paragraph.text.split())))
                label, parts = " > ".join(t for _, t in path) or preamble, []
            else:
                parts.append(paragraph.text)
        elif tag == "tbl":
            rows = []
            for row in Table(element, document).rows:
                cells, seen = [], set()
                for cell in row.cells:  # a merged cell is returned once per grid column it spans
                    if id(cell._tc) not in seen:
                        seen.add(id(cell._tc))
                        cells.append(" ".join(cell.text.split()))
                rows.append(" | ".join(cells))
            parts.append("\n".join(rows))
    sections.append(Section(label, "\n\n".join(parts)))
    return [s for s in sections if s.text.strip()]
