"""Files and folders on disk -> what to read, under which source name, and what to report.

Only regular files are read. A FIFO would block the read forever and a character device
(/dev/zero) never ends, so the type is checked before opening (lstat), and again on the
opened descriptor (fstat: the path may have been swapped in between); the open itself is
non-blocking and does not follow a final symlink. Inside a folder given, a symlink is followed
only when it stays inside that folder; one that leads out is reported, not followed. A folder
that cannot be listed is reported, never silently left out. Hidden entries are skipped.
"""

from __future__ import annotations

import errno
import os
import stat
from dataclasses import dataclass
from typing import Sequence

from rag_core.core.errors import Reason
from rag_core.ingest.loaders.sources import path_source, printable

_KINDS = ((stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
          (stat.S_ISSOCK, "a socket"), (stat.S_ISDIR, "a folder"))
_OPEN_FLAGS = (os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOFOLLOW", 0)
               | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_BINARY", 0))
OUTSIDE_REASON = ("symlink leads outside the folder given: not followed; copy the file into the folder "
                  "to load it")


def not_regular(mode: int) -> str:
    kind = next((name for test, name in _KINDS if test(mode)), "not a file")
    return f"not a regular file ({kind}): only regular files are read"


@dataclass(frozen=True)
class Found:
    """A regular file to read: its real path, and its source before names are made distinct."""

    path: str
    name: str


@dataclass(frozen=True)
class Refused:
    """A path that is not read, with the reason for the report."""

    name: str
    reason: str


def _inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def _classify(path: str, root: str) -> tuple[str, str]:
    """("file" | "dir" | "ignore" | "refuse", real path or reason) for an entry of a folder walk."""
    try:
        info = os.lstat(path)
        real = path
        if stat.S_ISLNK(info.st_mode):
            real = os.path.realpath(path)
            if not _inside(real, root):
                return "refuse", OUTSIDE_REASON
            try:
                info = os.stat(real)
            except OSError as exc:
                if exc.errno == errno.ELOOP:
                    return "refuse", "symlink loop: it leads back to itself; not followed"
                return "refuse", "broken symlink: its target does not exist"
            if stat.S_ISDIR(info.st_mode):
                return "ignore", ""  # a folder inside: its files are read where they are
    except OSError as exc:
        return "refuse", f"could not read it ({exc.strerror or exc}); check its permissions"
    if stat.S_ISDIR(info.st_mode):
        return "dir", real
    if stat.S_ISREG(info.st_mode):
        return "file", real
    return "refuse", not_regular(info.st_mode)


def _walk(root: str, recursive: bool, found: list[Found], refused: list[Refused]) -> None:
    """Depth first like os.walk top-down: a folder's files (sorted), then its subfolders."""
    stack: list[tuple[str, ...]] = [()]
    while stack:
        rel = stack.pop()
        try:
            with os.scandir(os.path.join(root, *rel)) as listing:
                names = sorted(entry.name for entry in listing)
        except OSError as exc:
            refused.append(Refused((path_source(rel) + "/") if rel else ".",
                                   f"could not read this folder ({exc.strerror or exc}); check its permissions"))
            continue
        folders = []
        for name in names:
            if name.startswith("."):
                continue
            kind, value = _classify(os.path.join(root, *rel, name), root)
            if kind == "file":
                found.append(Found(value, path_source((*rel, name))))
            elif kind == "dir" and recursive:
                folders.append((*rel, name))
            elif kind == "refuse":
                refused.append(Refused(path_source((*rel, name)), value))
        stack.extend(reversed(folders))


def expand(paths: Sequence[str | os.PathLike], recursive: bool = True) -> tuple[list[Found], list[Refused]]:
    """Regular files to read (each real file once, first name wins) and paths refused.

    A folder's files are named by their path relative to it; a file given alone by its name."""
    found: list[Found] = []
    refused: list[Refused] = []
    for given in paths:
        path = os.fspath(given)
        shown = path_source([os.path.basename(os.path.normpath(os.path.abspath(path)))]) or printable(path)
        try:
            info = os.stat(path)
        except FileNotFoundError:
            refused.append(Refused(printable(path), "not found: check the path and try again"))
            continue
        except OSError as exc:
            refused.append(Refused(printable(path), f"could not read it ({exc.strerror or exc}); check its permissions"))
            continue
        real = os.path.realpath(path)
        if stat.S_ISDIR(info.st_mode):
            _walk(real, recursive, found, refused)
        elif stat.S_ISREG(info.st_mode):
            found.append(Found(real, shown))
        else:
            refused.append(Refused(shown, not_regular(info.st_mode)))
    seen: set[str] = set()
    unique = []
    for item in found:
        if item.path not in seen:
            seen.add(item.path)
            unique.append(item)
    return unique, refused


class NotReadable(Exception):
    """A file that turned out not to be readable as a regular file; `reason` says why (text or a Reason)."""

    def __init__(self, reason: str | Reason) -> None:
        super().__init__(str(reason))
        self.reason = reason


def read_regular(path: str, max_bytes: int, budget: int, too_big) -> bytes:
    """The bytes of the regular file at `path`, read through one non-blocking descriptor whose
    type and size are checked first. Raises NotReadable (reason from `too_big(size)` when over
    `max_bytes`, a total-limit reason when over `budget`) or OSError."""
    fd = os.open(path, _OPEN_FLAGS)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise NotReadable(not_regular(info.st_mode))
        if info.st_size > max_bytes:  # checked before reading, so a huge file is never loaded
            raise NotReadable(too_big(info.st_size))
        if info.st_size > budget:
            left_mb = round(max(budget, 0) / 1024 / 1024, 1)
            raise NotReadable(Reason("total_limit", f"total size limit reached: {left_mb:.1f} MB left of the total "
                                     "allowed in one load", {"left_mb": left_mb}))
        chunks, size = [], 0
        while size <= max_bytes:  # the file may grow while it is read: never past the limit
            block = os.read(fd, min(1024 * 1024, max_bytes + 1 - size))
            if not block:
                break
            chunks.append(block)
            size += len(block)
    finally:
        os.close(fd)
    if size > max_bytes:
        raise NotReadable(too_big(size))
    return b"".join(chunks)
