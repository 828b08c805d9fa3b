"""The contract every format loader follows, plus the text helpers they share.

A loader turns raw bytes into `Section`s (label + raw text). It does not normalise
whitespace, number sections or build Documents: `rag_core.ingest.loaders.load_bytes` does that
once for every format, so all Documents are normalised the same way. A loader raises
`IngestError` with a one-line, what-to-do-next message when a file cannot be read.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Callable

import charset_normalizer

from rag_core.core.errors import IngestError, Reason
from rag_core.ingest.loaders.sources import printable


@dataclass(frozen=True)
class Section:
    """A labelled span of a file before normalisation (heading path, "page N", "row N")."""

    label: str
    text: str


@dataclass(frozen=True)
class LoadOptions:
    """Per-call choices a loader may need; only CSV has one so far."""

    csv_text_column: str | None = None


#: (name as given, raw bytes, options) -> sections in reading order
Loader = Callable[[str, bytes, LoadOptions], list[Section]]

_BOMS = (
    (b"\xef\xbb\xbf", "utf-8-sig"),
    (b"\xff\xfe\x00\x00", "utf-32"),
    (b"\x00\x00\xfe\xff", "utf-32"),
    (b"\xff\xfe", "utf-16"),
    (b"\xfe\xff", "utf-16"),
)
_BINARY_HINT = "upload a text file, or give it the extension of its real format"


def _utf16_without_bom(data: bytes) -> str | None:
    """Guess BOM-less UTF-16 from where the NUL bytes sit (ASCII-heavy text has one per char)."""
    sample = data[:4096]
    even, odd = sample[0::2], sample[1::2]
    if not odd:
        return None
    even_nul, odd_nul = even.count(0) / len(even), odd.count(0) / len(odd)
    if odd_nul > 0.3 and even_nul < 0.05:
        return "utf-16-le"
    if even_nul > 0.3 and odd_nul < 0.05:
        return "utf-16-be"
    return None


#: on a tie, the Western code pages win: they are by far the most common non-UTF-8 text
_TIE_PREFERENCE = ("cp1252", "latin_1", "iso8859_15")


def _guess_decode(data: bytes) -> str:
    """charset-normalizer's best guess, except that equally good guesses prefer cp1252.

    It scores cp1250/cp1257 the same as cp1252 on French or German text and would pick
    the first, turning "crème" into "crčme".
    """
    matches = list(charset_normalizer.from_bytes(data))
    if not matches:
        raise IngestError(f"binary content, not text: no text encoding fits; {_BINARY_HINT}")
    best = matches[0]
    ties = [m for m in matches if (m.chaos, m.coherence) == (best.chaos, best.coherence)]
    for encoding in _TIE_PREFERENCE:
        for match in ties:
            if match.encoding == encoding:
                return str(match)
    return str(best)


def _decode_mixed_lines(data: bytes) -> str | None:
    """A file of UTF-8 lines with some lines in a legacy code page (two files pasted together):
    each line that is valid UTF-8 decodes as UTF-8, the others with the best guess for them.
    None when no line with non-ASCII bytes is valid UTF-8: then the whole file is one encoding."""
    lines = data.split(b"\n")
    decoded: list[str | None] = []
    bad: list[bytes] = []
    utf8_seen = False
    for line in lines:
        try:
            decoded.append(line.decode("utf-8"))
            utf8_seen = utf8_seen or not line.isascii()
        except UnicodeDecodeError:
            decoded.append(None)
            bad.append(line)
    if not utf8_seen:
        return None
    try:
        guessed = _guess_decode(b"\n".join(bad)).split("\n")
    except IngestError:
        guessed = []
    if len(guessed) != len(bad):  # the guess changed the line structure: a fixed Western code page
        guessed = [line.decode("cp1252", errors="strict") if _cp1252_ok(line) else line.decode("latin-1")
                   for line in bad]
    fill = iter(guessed)
    return "\n".join(line if line is not None else next(fill) for line in decoded)


def _cp1252_ok(line: bytes) -> bool:
    try:
        line.decode("cp1252")
    except UnicodeDecodeError:
        return False
    return True


def decode_text(data: bytes) -> str:
    """Bytes -> str: BOMs first, then strict UTF-8, then charset-normalizer's best guess.

    Raises IngestError("binary content, not text: ...") when nothing fits, because a
    mis-decoded binary would silently fill the index with garbage.
    """
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(encoding)
            except UnicodeDecodeError as exc:
                reason = f"binary content, not text: invalid {encoding} after a BOM; {_BINARY_HINT}"
                raise IngestError(reason) from exc
    if b"\x00" in data:
        encoding = _utf16_without_bom(data)
        nul_reason = f"binary content, not text: the file contains NUL bytes; {_BINARY_HINT}"
        if encoding is None:
            raise IngestError(nul_reason)
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError as exc:
            raise IngestError(nul_reason) from exc
    else:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            text = _decode_mixed_lines(data)
            if text is None:
                text = _guess_decode(data)
    if _control_ratio(text) > 0.05:
        raise IngestError(f"binary content, not text: too many control characters; {_BINARY_HINT}")
    return text


def _control_ratio(text: str) -> float:
    sample = text[:20000]
    if not sample:
        return 0.0
    bad = sum(1 for ch in sample if unicodedata.category(ch) == "Cc" and ch not in "\n\r\t\f\v")
    return bad / len(sample)


_INVISIBLE = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad]")
_CONTROL = re.compile("[\x00-\x08\x0e-\x1f\x7f-\x9f]")
_SPACES = re.compile("[\t\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]")
_INNER_RUNS = re.compile(r"(?<=\S) {2,}")
_BLANK_RUNS = re.compile(r"\n{3,}")


def normalize_text(text: str) -> str:
    """Modest, deterministic and idempotent clean-up, applied once to every Document.

    Newlines to "\\n" (form/vertical feeds too); control and zero-width characters
    dropped; NFC; tabs and exotic spaces to " "; runs of spaces inside a line to one (leading
    indentation kept); trailing spaces cut; at most one blank line in a row; outer blank
    space stripped. Chunk offsets index into the result, so nothing may change it later.
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\f", "\n").replace("\v", "\n")
    text = text.replace("\u2028", "\n").replace("\u2029", "\n\n").replace("\x85", "\n")
    text = _INVISIBLE.sub("", text)
    text = _CONTROL.sub("", text)
    text = unicodedata.normalize("NFC", text)
    text = _SPACES.sub(" ", text)
    lines = [_INNER_RUNS.sub(" ", line).rstrip() for line in text.split("\n")]
    text = _BLANK_RUNS.sub("\n\n", "\n".join(lines))
    return text.strip()


def one_line(message: object, limit: int = 200) -> str:
    """Exception text squeezed into one short line for a FileStatus reason, control characters
    escaped (a member name in a zipfile error must not reach the terminal raw)."""
    flat = printable(" ".join(str(message).split()))
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def clean_label(label: str) -> str:
    """A section label (heading, title cell) on one line without control characters: labels are
    printed in query output, so a heading cannot carry a terminal escape sequence."""
    return " ".join(_CONTROL.sub("", label).split())


def too_big(n_bytes: int, max_bytes: int) -> Reason:
    """Over the per-file limit (a file or a zip member): the CLI advises --max-file-mb, the app
    splitting the upload."""
    size_mb, limit_mb = round(n_bytes / (1024 * 1024), 1), max_bytes / (1024 * 1024)
    return Reason("file_too_large", f"{size_mb:.1f} MB is over the {limit_mb:g} MB limit",
                  {"size_mb": size_mb, "limit_mb": limit_mb})
