"""PDF via pypdf: one section per page, labelled "page N" (N from 1).

Encrypted files are opened with the empty password (many "protected" PDFs only restrict
printing); otherwise they are refused with a reason, never guessed at. A PDF with no text
layer at all (a scan) is refused: it needs OCR, which is outside this tool.
"""

from __future__ import annotations

import io

from ..errors import IngestError
from .base import LoadOptions, Section, normalize_text, one_line

ENCRYPTED_REASON = "encrypted PDF: remove the password and upload again"
NO_TEXT_REASON = "no extractable text (scanned PDF? run OCR first)"


def load_pdf(name: str, data: bytes, options: LoadOptions) -> list[Section]:
    import pypdf

    try:
        reader = pypdf.PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            try:
                decrypted = reader.decrypt("")
            except Exception as exc:  # noqa: BLE001 - unsupported algorithm, missing crypto lib, ...
                raise IngestError(ENCRYPTED_REASON) from exc
            if not decrypted:
                raise IngestError(ENCRYPTED_REASON)
        pages = list(reader.pages)
    except IngestError:
        raise
    except Exception as exc:  # noqa: BLE001 - pypdf raises PdfReadError, ValueError, ... on corrupt input
        reason = f"corrupt PDF ({one_line(exc, 120)}): re-export or repair it, then upload again"
        raise IngestError(reason) from exc
    sections = []
    for number, page in enumerate(pages, start=1):
        try:
            text = page.extract_text() or ""
        except Exception:  # noqa: BLE001 - one broken page must not lose the others
            text = ""
        sections.append(Section(f"page {number}", text))
    if not any(normalize_text(s.text) for s in sections):
        raise IngestError(NO_TEXT_REASON)
    return sections
