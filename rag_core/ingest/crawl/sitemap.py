"""sitemap.xml and sitemap-index parsing, hardened against XML bombs.

`parse_sitemap(data)` returns ("urlset" | "sitemapindex", [loc, ...]); gzipped sitemaps
(sitemap.xml.gz) are unpacked first, up to the caller's size cap (at most the 50 MB the
protocol allows). defusedxml is used when installed (it refuses entity expansion and
external entities); otherwise the stdlib parser is used on documents that declare no DTD. The caller caps the byte size
and the recursion depth of sitemap indexes.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
import zlib

MAX_SITEMAP_URLS = 50_000  # the sitemaps.org limit per file
MAX_SITEMAP_BYTES = 50 * 1024 * 1024  # ... and its limit on the uncompressed size
GZIP_MAGIC = b"\x1f\x8b"


class SitemapError(ValueError):
    pass


def _fromstring(data: bytes) -> ET.Element:
    try:
        import defusedxml.ElementTree as safe_et
    except ImportError:  # pragma: no cover - defusedxml is a dependency
        if b"<!DOCTYPE" in data[:4096].upper() or b"<!ENTITY" in data.upper():
            raise SitemapError("sitemap declares a DTD or entities; refused")
        return ET.fromstring(data)
    try:
        return safe_et.fromstring(data)
    except Exception as exc:  # noqa: BLE001 - DefusedXmlException, ParseError
        raise SitemapError(f"not a valid sitemap ({type(exc).__name__})") from exc


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def gunzip_capped(data: bytes, limit: int = MAX_SITEMAP_BYTES) -> bytes:
    """Unpack gzip without ever holding more than `limit` bytes: a gzip bomb is refused."""
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        out = inflater.decompress(data, limit + 1)
    except zlib.error as exc:
        raise SitemapError(f"not a valid gzipped sitemap ({exc})") from exc
    if len(out) > limit:
        raise SitemapError(f"gzipped sitemap unpacks to more than {limit / (1024 * 1024):g} MB "
                           "(the size cap); refused")
    if out[:2] == GZIP_MAGIC:
        raise SitemapError("gzipped sitemap holds another gzip layer; refused")
    return out


def parse_sitemap(data: bytes, limit: int = MAX_SITEMAP_BYTES) -> tuple[str, list[str]]:
    """`limit` caps the unpacked size of a .gz sitemap: the crawler passes its page size cap,
    so a sitemap decoded by HTTP and then unpacked is capped at every layer."""
    if data[:2] == GZIP_MAGIC:
        data = gunzip_capped(data, min(limit, MAX_SITEMAP_BYTES))
    try:
        root = _fromstring(data)
    except ET.ParseError as exc:
        raise SitemapError(f"not a valid sitemap ({exc})") from exc
    kind = _local(root.tag)
    if kind not in ("urlset", "sitemapindex"):
        raise SitemapError(f"not a sitemap: root element is <{kind}>")
    locs: list[str] = []
    for entry in root:
        for child in entry:
            if _local(child.tag) == "loc" and child.text and child.text.strip():
                locs.append(child.text.strip())
                break
        if len(locs) >= MAX_SITEMAP_URLS:
            break
    return kind, locs
