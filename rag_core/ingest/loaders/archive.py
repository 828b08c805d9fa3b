"""Zip archives, read in memory (never extracted to disk) and guarded against zip bombs.

`load_zip` opens each member with the regular loaders; a member's source is
"archive.zip!/folder/file.md" (sources.py: never the source of a real file, escapes shown). Refused with a reason, before anything is decompressed:
more than MAX_MEMBERS members, a declared unpacked total over the limit, a member over the
per-file limit, a compression ratio over MAX_RATIO (on members over 1 MB), absolute paths
and ".." components, encrypted members, and nested archives (not followed: unzip them
first). Declared sizes can lie, so reading is bounded too: a member that inflates past
what it declared, or past the remaining total budget, is cut off and skipped.
Hidden members (.DS_Store, __MACOSX/) are ignored, as hidden files are in folders.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import PurePosixPath
from typing import Callable

from rag_core.core.errors import Reason
from rag_core.ingest.loaders.base import one_line, too_big
from rag_core.ingest.loaders.report import LoadReport, skipped
from rag_core.ingest.loaders.sources import MEMBER_SEPARATOR, member_source, printable

ARCHIVE_SUFFIXES = (".zip",)
MAX_MEMBERS = 10_000
MAX_RATIO = 100
DEFAULT_MAX_UNPACKED_BYTES = 500 * 1024 * 1024
_MB = 1024 * 1024

#: (member source, member bytes) -> LoadReport; load_bytes with the caller's options
MemberLoader = Callable[[str, bytes], LoadReport]


def _unsafe(name: str) -> str | None:
    if name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":"):
        return "unsafe path in archive: absolute path; member not read"
    if ".." in PurePosixPath(name.replace("\\", "/")).parts:
        return "unsafe path in archive: '..' escapes the archive; member not read"
    return None


def _hidden(name: str) -> bool:
    return any(part.startswith(".") or part == "__MACOSX" for part in PurePosixPath(name).parts)


def load_zip(name: str, data: bytes, load_member: MemberLoader, *, max_bytes: int,
             max_unpacked_bytes: int = DEFAULT_MAX_UNPACKED_BYTES) -> "LoadReport":
    def skip(source: str, reason: str | Reason, n_bytes: int = 0) -> LoadReport:
        return LoadReport((), (skipped(source, reason, n_bytes),))

    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = [i for i in archive.infolist() if not i.is_dir()]
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        return skip(name, f"corrupt zip ({one_line(exc, 120)}): re-create the archive and try again", len(data))
    if len(infos) > MAX_MEMBERS:
        return skip(name, f"zip has {len(infos)} files, over the limit of {MAX_MEMBERS}; unzip it and load "
                          "the folder", len(data))
    declared = sum(i.file_size for i in infos)
    if declared > max_unpacked_bytes:
        return skip(name, f"zip would unpack to {declared / _MB:.0f} MB, over the {max_unpacked_bytes / _MB:g} MB "
                          "limit (a zip bomb?); unzip it and load fewer files", len(data))
    report = LoadReport()
    budget = max_unpacked_bytes
    with archive:
        for info in infos:
            member = info.filename
            reason = _unsafe(member)  # before the hidden check: ".." must be reported, not ignored
            # a refused member is shown as it is named in the archive (escaped), a read one by its source
            source = f"{name}{MEMBER_SEPARATOR}{printable(member)}" if reason else member_source(name, member)
            if reason is None and _hidden(member):
                continue
            if reason is None and PurePosixPath(member).suffix.lower() in ARCHIVE_SUFFIXES:
                reason = "nested archive not opened: unzip it and load its files"
            if reason is None and info.flag_bits & 0x1:
                reason = "encrypted zip member: unzip it with its password first"
            if reason is None and info.file_size > max_bytes:
                reason = too_big(info.file_size, max_bytes)
            if reason is None and info.file_size > _MB and info.file_size > MAX_RATIO * max(info.compress_size, 1):
                reason = (f"compression ratio {info.file_size // max(info.compress_size, 1)}:1 is over {MAX_RATIO}:1 "
                          "(a zip bomb?); member not read")
            if reason is not None:
                report = report + skip(source, reason, info.file_size)
                continue
            limit = min(info.file_size, budget)
            try:
                with archive.open(info) as handle:
                    content = handle.read(limit + 1)
            except (zipfile.BadZipFile, OSError, ValueError, RuntimeError, NotImplementedError) as exc:
                report = report + skip(source, f"could not unpack it ({one_line(exc, 120)})", info.file_size)
                continue
            if len(content) > limit:
                report = report + skip(source, "member inflates past its declared size or the archive's unpacked "
                                               "limit (a zip bomb?); member not read", info.file_size)
                continue
            budget -= len(content)
            report = report + load_member(source, content)
    return report
