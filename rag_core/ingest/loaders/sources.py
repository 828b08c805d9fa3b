"""How a loaded file is named: its `source`, the key the index stores its chunks under.

A source says what was ingested, never where the server keeps it: an upload's name, a path
relative to the folder given ("guide/faq.md"), a single file's name, or a zip member
"archive.zip!/folder/member.md". So a question set written in the app ("faq.md") works with
the CLI, and re-ingesting the same folder finds the same sources to replace.

Two rules keep sources unambiguous and safe to print:
- a zip member's "!/" cannot come from a real path: in a real path (and a member's own path) a
  run of "!" that ends a folder name is doubled, so "a.zip!/b.txt" names only b.txt inside
  a.zip, while a real folder "a.zip!" holding b.txt is "a.zip!!/b.txt";
- control characters (terminal escape sequences) and bidi overrides in names are written as
  \\xNN / \\uNNNN escapes before a name reaches a report, a terminal or the index.
Two inputs that would still share a name get "name (2).ext" (`distinct`), in input order.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from pathlib import PurePath
from typing import Collection, Iterable, Sequence

MEMBER_SEPARATOR = "!/"
_BIDI = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def _unsafe(ch: str) -> bool:
    return ch in _BIDI or unicodedata.category(ch) == "Cc"


def _escape(ch: str) -> str:
    code = ord(ch)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: str) -> str:
    """`text` with control characters and bidi overrides escaped (\\x1b, \\u202e): safe to print."""
    if not any(_unsafe(ch) for ch in text):
        return text
    return "".join(_escape(ch) if _unsafe(ch) else ch for ch in text)


def terminal_safe(text: str) -> str:
    """`text` for a terminal: like `printable`, but line breaks and tabs stay (answers and
    chunks are multi-line); an escape sequence from a document never reaches the terminal."""
    if not any(_unsafe(ch) and ch not in "\n\t" for ch in text):
        return text
    return "".join(_escape(ch) if _unsafe(ch) and ch not in "\n\t" else ch for ch in text)


def _folder_part(part: str) -> str:
    bangs = len(part) - len(part.rstrip("!"))
    return part + "!" * bangs


def path_source(parts: Sequence[str]) -> str:
    """Relative path parts -> a source: printable names joined by "/", folder names' trailing
    "!" runs doubled (see the module docstring)."""
    names = [printable(p) for p in parts if p not in ("", ".", "..")]
    return "/".join([_folder_part(p) for p in names[:-1]] + names[-1:])


def name_source(name: str) -> str:
    """An upload's (or any given) name as a source: a relative path, "\\" read as "/"."""
    return path_source(name.replace("\\", "/").split("/")) or "unnamed"


def member_source(archive_source: str, member: str) -> str:
    """The source of a zip member: "<archive source>!/<member path>"."""
    return f"{archive_source}{MEMBER_SEPARATOR}{name_source(member)}"


def distinct(names: Sequence[str]) -> list[str]:
    """`names` made distinct: a repeated name becomes "notes (2).txt", "notes (3).txt", … (the
    suffix kept, so the same loader reads it), never clashing with another given name."""
    taken = set(names)
    seen: set[str] = set()
    out: list[str] = []
    for name in names:
        if name in seen:
            suffix = PurePath(name).suffix
            stem = name[: len(name) - len(suffix)]
            n = 2
            while f"{stem} ({n}){suffix}" in taken:
                n += 1
            name = f"{stem} ({n}){suffix}"
            taken.add(name)
        seen.add(name)
        out.append(name)
    return out


# ---- matching a question set's sources -------------------------------------------------------


@dataclass(frozen=True)
class SourceMatch:
    """`found`: wanted -> the stored source it names; `ambiguous`: wanted -> the candidates."""

    found: dict[str, str]
    ambiguous: dict[str, tuple[str, ...]]

    def missing(self, wanted: Iterable[str]) -> tuple[str, ...]:
        return tuple(sorted(w for w in set(wanted) if w not in self.found))


def _parts(source: str) -> list[str]:
    path = source.strip().replace("\\", "/")
    while path.startswith("./"):
        path = path[2:]
    return [p for p in path.split("/")]


def match_sources(wanted: Iterable[str], known: Collection[str]) -> SourceMatch:
    """Which stored source each wanted source names: the same string, else the one stored
    source that ends with it as whole path parts ("faq.md" -> "docs/faq.md") or that it ends
    with ("/home/me/docs/faq.md" -> "faq.md"). Two or more candidates: ambiguous, no match."""
    known_set = set(known)
    by_suffix: dict[str, list[str]] = {}
    for source in known_set:
        parts = _parts(source)
        for i in range(1, len(parts)):
            by_suffix.setdefault("/".join(parts[i:]), []).append(source)
    found: dict[str, str] = {}
    ambiguous: dict[str, tuple[str, ...]] = {}
    for source in dict.fromkeys(wanted):
        if source in known_set:
            found[source] = source
            continue
        parts = _parts(source)
        key = "/".join(parts)
        candidates = set(by_suffix.get(key, ())) | {key} & known_set
        candidates |= {s for i in range(1, len(parts)) for s in ["/".join(parts[i:])] if s in known_set}
        if len(candidates) == 1:
            found[source] = candidates.pop()
        elif candidates:
            ambiguous[source] = tuple(sorted(candidates))
    return SourceMatch(found, ambiguous)
