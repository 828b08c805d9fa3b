"""Content-Encoding decoding with one cap on the DECODED bytes of every layer.

httpx decodes `Content-Encoding: gzip, gzip` itself, but each raw chunk is inflated in one
go, so a 26 KB body of two gzip layers becomes gigabytes before any size check sees it.
The crawler therefore reads the raw bytes (`iter_raw`) and feeds them through
`CappedDecoder`: one zlib inflater per layer, each asked for at most "what is left under
the cap + 1" bytes per call (`max_length`), so no layer ever holds more than the cap and the
final output stops at the cap. Only gzip, deflate and identity are accepted (that is what
the crawler's Accept-Encoding asks for), at most MAX_LAYERS of them.
"""

from __future__ import annotations

import zlib

ACCEPT_ENCODING = "gzip, deflate"
MAX_LAYERS = 3
_GZIP = ("gzip", "x-gzip")


class DecodingError(ValueError):
    """The body cannot be decoded (unknown or too many encodings, corrupt data)."""


class TooLarge(ValueError):
    """A layer's decoded output went over the cap."""


class _Layer:
    """One inflater with a running total of its output, refusing to produce more than `limit`."""

    def __init__(self, name: str, limit: int) -> None:
        self.name, self.limit, self.total = name, limit, 0
        self.raw_deflate = False  # deflate: zlib-wrapped first, raw DEFLATE if that fails
        self.started = False
        self.inflater = self._new()

    def _new(self):
        if self.name in _GZIP:
            return zlib.decompressobj(16 + zlib.MAX_WBITS)
        return zlib.decompressobj(-zlib.MAX_WBITS if self.raw_deflate else zlib.MAX_WBITS)

    def _inflate(self, data: bytes) -> bytes:
        room = self.limit - self.total + 1
        try:
            out = self.inflater.decompress(data, room)
        except zlib.error as exc:
            if self.name == "deflate" and not self.started and not self.raw_deflate:
                self.raw_deflate = True
                self.inflater = self._new()
                return self._inflate(data)
            raise DecodingError(f"corrupt {self.name} data ({exc})") from None
        self.started = True
        self.total += len(out)
        if self.total > self.limit or self.inflater.unconsumed_tail:
            raise TooLarge(self.name)
        return out

    def feed(self, data: bytes) -> bytes:
        out = self._inflate(data)
        # gzip allows several members back to back; each starts a fresh inflater
        while self.name in _GZIP and self.inflater.eof and self.inflater.unused_data[:2] == b"\x1f\x8b":
            rest = self.inflater.unused_data  # (anything else after the last member is ignored)
            self.inflater = self._new()
            out += self._inflate(rest)
        return out

    def flush(self) -> bytes:
        out = self.inflater.flush()
        self.total += len(out)
        if self.total > self.limit:
            raise TooLarge(self.name)
        return out


class CappedDecoder:
    """Decode a body sent with `content_encoding` (the header value) in pieces, never holding
    or producing more than `limit` decoded bytes in any layer. Raises TooLarge/DecodingError."""

    def __init__(self, content_encoding: str, limit: int) -> None:
        names = [n.strip().lower() for n in content_encoding.split(",") if n.strip()]
        names = [n for n in names if n != "identity"]
        if len(names) > MAX_LAYERS:
            raise DecodingError(f"{len(names)} stacked content encodings (at most {MAX_LAYERS} are read)")
        for name in names:
            if name not in _GZIP + ("deflate",):
                raise DecodingError(f"unsupported content encoding {name[:40]!r} (only gzip and deflate)")
        self.encodings = tuple(names)
        # the last encoding listed was applied last, so it is undone first; a layer that feeds
        # another holds compressed data, which may exceed what it decodes to by deflate's framing
        # (a few bytes per block, ~20 per stream), so it gets that much slack over the cap
        slack = limit + limit // 256 + 1024
        self.layers = [_Layer(name, limit if i == len(names) - 1 else slack)
                       for i, name in enumerate(reversed(names))]
        self.limit, self.total = limit, 0

    def _count(self, out: bytes) -> bytes:
        self.total += len(out)
        if self.total > self.limit:
            raise TooLarge("body")
        return out

    def feed(self, data: bytes) -> bytes:
        for layer in self.layers:
            data = layer.feed(data)
        return self._count(data)

    def flush(self) -> bytes:
        data = b""
        for layer in self.layers:
            data = layer.feed(data) if data else b""
            data += layer.flush()
        return self._count(data)
