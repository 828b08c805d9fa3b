"""The files of an index, read and written defensively.

Reads never follow a symlink, open only regular files (a FIFO would hang) and never take more
bytes than a stated bound, so a tampered index is a clear StoreError instead of a hang, a
MemoryError or a read outside the index. A failed write (disk full, read-only, no permission)
becomes a StoreError that says where and what to do; the caller removes what it staged.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path
from typing import BinaryIO, Callable

from rag_core.core.errors import DiskFullError, StoreError, index_values

MB = 1024 * 1024
_FULL = {errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)}
_DENIED = {errno.EACCES, errno.EPERM, errno.EROFS}


def write_error(exc: BaseException, where: str | Path) -> StoreError:
    """The StoreError for a failed write to `where` (an index or a cache directory)."""
    code = getattr(exc, "errno", None)
    reason = os.strerror(code) if isinstance(code, int) else str(exc)
    if code in _FULL:
        return DiskFullError(
            f"the disk holding {where} is full ({reason}): free some space there, or use a directory "
            "on another disk, then run again; nothing on disk was changed", reason=reason, **index_values(where)
        )
    if code in _DENIED:
        return StoreError(f"cannot write to {where} ({reason}): check its permissions or use another "
                          "directory; nothing on disk was changed", kind="write_denied", reason=reason,
                          **index_values(where))
    return StoreError(f"could not write to {where} ({reason}); nothing on disk was changed", kind="write_failed",
                      reason=reason, **index_values(where))


def write_file(path: str | Path, write: Callable[[BinaryIO], object]) -> None:
    """Create `path`, let `write` fill it, flush and fsync; an OSError becomes a StoreError."""
    try:
        with open(path, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
    except OSError as exc:
        raise write_error(exc, Path(path).parent) from exc


def tampered(path: str | Path, what: str) -> StoreError:
    return StoreError(f"{path} is not a valid index file ({what}): the index is damaged or was "
                      "tampered with; rebuild it")


def open_regular(path: str | Path, limit: int) -> BinaryIO:
    """Open a regular file inside an index for reading: no symlink, no FIFO or device, at most
    `limit` bytes (checked on the open descriptor, so a swap after the check changes nothing)."""
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise StoreError(f"{path} is missing: the index is incomplete, rebuild it") from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise tampered(path, "a symbolic link; an index never holds links") from None
        raise StoreError(f"cannot read {path} ({exc.strerror}); check its permissions") from None
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        os.close(fd)
        raise tampered(path, "not a regular file")
    if info.st_size > limit:
        os.close(fd)
        raise tampered(path, f"{info.st_size} bytes, more than the {limit} this file may hold")
    os.set_blocking(fd, True)
    return os.fdopen(fd, "rb")


def read_bounded(path: str | Path, limit: int) -> bytes:
    """The whole file, at most `limit` bytes (a file that grows while read is refused)."""
    with open_regular(path, limit) as handle:
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise tampered(path, f"more than {limit} bytes")
    return data


def file_size(handle: BinaryIO) -> int:
    return os.fstat(handle.fileno()).st_size
