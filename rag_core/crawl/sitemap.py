"""sitemap.xml and sitemap-index parsing, hardened against XML bombs.

`parse_sitemap(data)` returns ("urlset" | "sitemapindex", [loc, ...]). defusedxml is used
when installed (it refuses entity expansion and external entities); otherwise the stdlib
parser is used on documents that declare no DTD at all. The caller caps the byte size
and the recursion depth of sitemap indexes.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

MAX_SITEMAP_URLS = 50_000  # the sitemaps.org limit per file


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


def parse_sitemap(data: bytes) -> tuple[str, list[str]]:
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
