"""PDF via pypdf: one section per page, labelled "page N" (N from 1).

Encrypted files are opened with the empty password (many "protected" PDFs only restrict
printing); otherwise they are refused with a reason, never guessed at. A PDF with no text
layer at all (a scan) is refused: it needs OCR, which is outside this tool.
"""

from __future__ import annotations

import io
import time

from rag_core.core.errors import IngestError
from rag_core.ingest.loaders.base import LoadOptions, Section, normalize_text, one_line
from rag_core.ingest.loaders.noise import note

ENCRYPTED_REASON = "encrypted PDF: remove the password and upload again"
NO_TEXT_REASON = "no extractable text (scanned PDF? run OCR first)"
#: work is bounded like a docx's: pages past these are left out, with a note in the file's report
#: (20k tiny pages took 27 s; a book has a few thousand)
MAX_PAGES = 5_000
MAX_SECONDS = 60.0
BOMB_REASON = ("decompressed size exceeds limit: a stream inflates past pypdf's limit (a flate bomb?); "
               "file not read")


def _over_limit(page) -> bool:
    """True when the page's content stream inflates past pypdf's cap. extract_text swallows that
    error and returns "", which would be misreported as a scan."""
    from pypdf.errors import LimitReachedError

    try:
        contents = page.get_contents()
        if contents is not None:
            contents.get_data()
    except LimitReachedError:
        return True
    except Exception:  # noqa: BLE001 - anything else: the page is just unreadable
        return False
    return False


def _page_text(page) -> str:
    from pypdf.errors import LimitReachedError

    try:
        text = page.extract_text() or ""
    except LimitReachedError as exc:
        raise IngestError(BOMB_REASON) from exc
    except Exception:  # noqa: BLE001 - one broken page must not lose the others
        text = ""
    if not text.strip() and _over_limit(page):
        raise IngestError(BOMB_REASON)
    return text


def load_pdf(name: str, data: bytes, options: LoadOptions) -> list[Section]:
    import pypdf
    import pypdf.errors

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
    except pypdf.errors.LimitReachedError as exc:
        raise IngestError(BOMB_REASON) from exc
    except Exception as exc:  # noqa: BLE001 - pypdf raises PdfReadError, ValueError, ... on corrupt input
        reason = f"corrupt PDF ({one_line(exc, 120)}): re-export or repair it, then upload again"
        raise IngestError(reason) from exc
    sections = []
    deadline = time.monotonic() + MAX_SECONDS
    for number, page in enumerate(pages, start=1):
        if number > MAX_PAGES or (number > 1 and time.monotonic() > deadline):
            limit = f"the {MAX_SECONDS:g} s time limit" if number <= MAX_PAGES else f"the limit of {MAX_PAGES} pages"
            note(f"truncated: read the first {number - 1} of {len(pages)} pages ({limit}); "
                 "split the PDF to load the rest")
            break
        sections.append(Section(f"page {number}", _page_text(page)))
    if not any(normalize_text(s.text) for s in sections):
        raise IngestError(NO_TEXT_REASON)
    return sections
