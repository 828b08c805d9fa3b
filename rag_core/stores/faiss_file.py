"""Checks a faiss index file before faiss reads it.

faiss trusts the sizes written in a file: a header claiming a terabyte vector makes it allocate
(and zero) a terabyte, and a graph pointing past its arrays makes a search read out of bounds.
This walks the two layouts the FAISS store writes (`IxFI` flat inner product, and `IHNf`
HNSW over an `IxFI` storage), checks every length prefix against the bytes left in the file and
the graph's ids against the vector count, and reads no more than the graph arrays themselves.
"""

from __future__ import annotations

import struct
from pathlib import Path
from typing import BinaryIO

import numpy as np

from rag_core.core.files import file_size, tampered

_HEADER = struct.Struct("<iqqq?i")  # d, ntotal, two unused, is_trained, metric_type
_METRIC_INNER_PRODUCT = 0


class _Reader:
    def __init__(self, handle: BinaryIO, path: Path) -> None:
        self.handle, self.path, self.left = handle, path, file_size(handle)

    def bad(self, what: str):
        return tampered(self.path, what)

    def take(self, n: int) -> bytes:
        if n > self.left:
            raise self.bad(f"needs {n} more bytes than the file holds")
        data = self.handle.read(n)
        if len(data) != n:
            raise self.bad("shorter than its size")
        self.left -= n
        return data

    def skip(self, n: int) -> None:
        if n > self.left:
            raise self.bad(f"claims {n} bytes, more than the file holds")
        self.handle.seek(n, 1)
        self.left -= n

    def count(self, itemsize: int, what: str) -> int:
        (n,) = struct.unpack("<Q", self.take(8))
        if n * itemsize > self.left:
            raise self.bad(f"its {what} claims {n} items, more than the file holds")
        return n

    def array(self, dtype: str, what: str) -> np.ndarray:
        itemsize = np.dtype(dtype).itemsize
        return np.frombuffer(self.take(self.count(itemsize, what) * itemsize), dtype=dtype)

    def header(self, fourcc: bytes, dim: int, ntotal: int) -> None:
        if self.take(4) != fourcc:
            raise self.bad(f"not a faiss {fourcc.decode()} index")
        d, n, _, _, _, metric = _HEADER.unpack(self.take(_HEADER.size))
        if (d, n, metric) != (dim, ntotal, _METRIC_INNER_PRODUCT):
            raise self.bad(f"holds {n} {d}-d vectors (metric {metric}), "
                           f"expected {ntotal} {dim}-d (inner product)")


def _flat(reader: _Reader, dim: int, ntotal: int) -> None:
    reader.header(b"IxFI", dim, ntotal)
    floats = reader.count(4, "vectors")
    if floats != dim * ntotal:
        raise reader.bad(f"holds {floats} floats, expected {dim * ntotal}")
    reader.skip(floats * 4)


def _graph(reader: _Reader, ntotal: int) -> None:
    reader.array("<f8", "level probabilities")
    cum = reader.array("<i4", "level sizes").astype(np.int64)
    levels = reader.array("<i4", "levels").astype(np.int64)
    offsets = reader.array("<u8", "offsets")
    neighbors = reader.array("<i4", "neighbors")
    entry, max_level, _, _, _ = struct.unpack("<5i", reader.take(20))
    if len(cum) < 1 or cum[0] != 0 or np.any(np.diff(cum) < 0) or len(levels) != ntotal:
        raise reader.bad("inconsistent graph levels")
    if np.any(levels < 1) or np.any(levels >= len(cum)) or len(offsets) != ntotal + 1:
        raise reader.bad("inconsistent graph levels")
    sizes_ok = np.array_equal(np.diff(offsets.astype(np.int64)), cum[levels])
    if offsets[0] != 0 or not sizes_ok or offsets[-1] != len(neighbors):
        raise reader.bad("inconsistent graph offsets")
    if len(neighbors) and (neighbors.min() < -1 or neighbors.max() >= ntotal):
        raise reader.bad("a graph edge points past the vectors")
    if ntotal and not (0 <= entry < ntotal and max_level == levels[entry] - 1):
        raise reader.bad("a bad graph entry point")
    _check_edge_levels(reader, cum, levels, offsets, neighbors)


def _check_edge_levels(reader: _Reader, cum: np.ndarray, levels: np.ndarray, offsets: np.ndarray,
                       neighbors: np.ndarray) -> None:
    """An edge at level l must lead to a node that exists at level l (else a search reads the
    wrong node's list, past the array's end for the last node). Blocks keep memory bounded."""
    starts = offsets.astype(np.int64)
    for first in range(0, len(levels), 16384):
        last = min(first + 16384, len(levels))
        lo, hi = starts[first], starts[last]
        node = np.repeat(np.arange(first, last), np.diff(starts[first : last + 1]))
        level = np.searchsorted(cum, np.arange(lo, hi) - starts[node], side="right") - 1
        targets = neighbors[lo:hi].astype(np.int64)
        used = targets >= 0
        if np.any(levels[targets[used]] <= level[used]):
            raise reader.bad("a graph edge leads to a node missing from its level")


def check_faiss_file(handle: BinaryIO, path: Path, kind: str, dim: int, ntotal: int) -> None:
    """Raise a StoreError unless `handle` holds exactly a `kind` index of `ntotal` `dim`-d vectors."""
    reader = _Reader(handle, path)
    if kind == "hnsw":
        reader.header(b"IHNf", dim, ntotal)
        _graph(reader, ntotal)
    _flat(reader, dim, ntotal)
    if reader.left:
        raise reader.bad(f"{reader.left} unexpected bytes at its end")
