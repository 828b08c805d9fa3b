"""A small hostile-ish website served on 127.0.0.1 for the crawler tests (and measurements).

    with serve_site() as site:   # site.base == "http://127.0.0.1:<port>"
        ...; site.requests       # [(path, host header, user agent)] seen by the server

Every case the crawler must handle has a page: nested docs, a link to another domain,
robots.txt with a disallowed path, a sitemap index, a redirect chain and a loop, a 404
and a 500, a slow page, a huge page, a binary file, a PDF, duplicate spellings of one URL
(fragment, tracking parameters, trailing slash), a rel=canonical duplicate, a copy with
the same text, a redirect to the cloud metadata address, a server that drips its status
line and headers a byte at a time (/slow-headers; also robots.txt with `drip_robots`), and
bodies in stacked content encodings (/stacked/<encodings>: a page, /bomb/<encodings>: a
decompression bomb of BOMB_BYTES decoded, /gzip-comment: 2 MB of gzip header that decode
to a small page).

    serve_site(drip_robots=True)            # robots.txt itself drips its headers
    serve_site(sitemap="/sitemap-big.xml.gz")  # robots.txt names another sitemap
"""

from __future__ import annotations

import contextlib
import functools
import gzip
import threading
import time
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Iterator
from urllib.parse import unquote

from test_loaders import make_pdf

SLOW_SECONDS = 1.5
HUGE_BYTES = 2 * 1024 * 1024
DRIP_SECONDS = 0.05  # between bytes of /slow-headers: far under any per-read timeout
DRIP_TOTAL_SECONDS = 4.0  # ... and the whole status line and headers take this long
BOMB_BYTES = 64 * 1024 * 1024


def _page(title: str, body: str, head: str = "") -> bytes:
    return (f"<!doctype html><html><head><title>{title}</title>{head}</head><body>"
            f"<nav><a href='/'>Home</a> <a href='/docs/'>Docs</a></nav><main>{body}</main>"
            f"<footer>Copyright the fixture site. All rights reserved.</footer></body></html>").encode()


_PROSE = ("The quick brown fox jumps over the lazy dog while the crawler reads every word of this "
          "paragraph, which exists only so that the main-text extractor has enough prose to keep. ")

INTRO = _page("Intro", f"<h1>Introduction</h1><p>{_PROSE}Install it with pip.</p>"
                       f"<h2>Install</h2><p>{_PROSE}Run pip install rag-playground to install.</p>")

ROOT = _page("Home", f"""<h1>Welcome</h1><p>{_PROSE}</p><ul>
<li><a href="/docs/">Docs</a></li>
<li><a href="/docs/intro">Intro</a></li>
<li><a href="/docs/intro#install">Install section</a></li>
<li><a href="/docs/intro?utm_source=news&amp;utm_medium=email">Intro from the newsletter</a></li>
<li><a href="/blog/print">Printable intro</a></li>
<li><a href="/copy">A copy</a></li>
<li><a href="/redirect-a">Moved</a></li>
<li><a href="/loop-a">Loop</a></li>
<li><a href="/to-private">Metadata</a></li>
<li><a href="/private/secret">Secret</a></li>
<li><a href="/missing">Missing</a></li>
<li><a href="/error">Error</a></li>
<li><a href="/slow">Slow</a></li>
<li><a href="/huge">Huge</a></li>
<li><a href="/file.bin">Binary</a></li>
<li><a href="/paper.pdf">Paper</a></li>
<li><a href="/notes.txt">Notes</a></li>
<li><a href="https://example.org/elsewhere">Another site</a></li>
<li><a href="mailto:someone@example.org">Mail</a></li>
<li><a href="ftp://example.org/file">FTP</a></li>
</ul>""")

DOCS = _page("Docs", f"<h1>Documentation</h1><p>{_PROSE}Start with the <a href='/docs/intro'>intro</a> "
                     f"or go <a href='deep'>deeper</a>.</p>")
DEEP = _page("Deep", f"<h1>Deep page</h1><p>{_PROSE}Even <a href='/docs/deep/level3'>deeper</a>.</p>")
LEVEL3 = _page("Level 3", f"<h1>Level three</h1><p>{_PROSE}</p>")
FINAL = _page("Final", f"<h1>Where redirects end</h1><p>{_PROSE}The chain ends here.</p>")
PRINT = _page("Intro (print)", f"<h1>Introduction</h1><p>{_PROSE}Printer-friendly.</p>",
              head="<link rel='canonical' href='/docs/intro'>")
FROM_SITEMAP = _page("Sitemap only", f"<h1>Only in the sitemap</h1><p>{_PROSE}No page links here.</p>")
SECRET = _page("Secret", "<h1>Secret</h1><p>robots.txt says no.</p>")
NOTES = ("Plain text notes served as text/plain. " + _PROSE).encode()
PDF = make_pdf(["Portable document page one about crawling.", "Page two mentions robots and sitemaps."])


def encode(data: bytes, encodings: str) -> bytes:
    """`data` with each Content-Encoding in `encodings` ("gzip, deflate") applied in order."""
    for name in (n.strip() for n in encodings.split(",")):
        data = gzip.compress(data, mtime=0) if name == "gzip" else zlib.compress(data)
    return data


@functools.lru_cache(maxsize=8)
def bomb(encodings: str) -> bytes:
    """A few KB that decode to BOMB_BYTES of HTML through the stacked `encodings`."""
    return encode(b"<p>" + b" " * BOMB_BYTES + b"</p>", encodings)


def gzip_with_comment(data: bytes, comment_bytes: int) -> bytes:
    """A valid gzip member whose header carries a `comment_bytes` comment (FCOMMENT): many raw
    bytes that decode to nothing, so only a cap on the raw bytes stops it."""
    deflate = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    body = deflate.compress(data) + deflate.flush()
    header = b"\x1f\x8b\x08\x10" + b"\0" * 4 + b"\x02\xff" + b"c" * comment_bytes + b"\0"
    return header + body + zlib.crc32(data).to_bytes(4, "little") + len(data).to_bytes(4, "little")


def big_sitemap_gz(base: str, size: int) -> bytes:
    """A valid .xml.gz sitemap whose XML is `size` bytes (padded with whitespace)."""
    xml = (f'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
           f"<url><loc>{base}/docs/</loc></url>").encode()
    return gzip.compress(xml + b" " * (size - len(xml) - 9) + b"</urlset>", mtime=0)


class Site:
    def __init__(self, server: ThreadingHTTPServer, drip_robots: bool = False, sitemap: str = "/sitemap.xml") -> None:
        self.server = server
        self.port = server.server_address[1]
        self.base = f"http://127.0.0.1:{self.port}"
        self.requests: list[tuple[str, str, str]] = []
        self.drip_robots, self.sitemap = drip_robots, sitemap

    def url(self, path: str) -> str:
        return self.base + path


def _routes(site: Site) -> dict[str, tuple[int, str, bytes | str]]:
    """path -> (status, content type or Location, body)."""
    robots = f"User-agent: *\nDisallow: /private/\n\nSitemap: {site.base}{site.sitemap}\n"
    index = (f'<?xml version="1.0" encoding="UTF-8"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/'
             f'sitemap/0.9"><sitemap><loc>{site.base}/sitemap-pages.xml</loc></sitemap></sitemapindex>')
    pages = (f'<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
             f"<url><loc>{site.base}/from-sitemap</loc></url><url><loc>{site.base}/docs/</loc></url>"
             f"<url><loc>https://example.org/not-ours</loc></url></urlset>")
    html = "text/html; charset=utf-8"
    return {
        "/robots.txt": (200, "text/plain", robots),
        "/sitemap.xml": (200, "application/xml", index),
        "/sitemap-pages.xml": (200, "application/xml", pages),
        "/": (200, html, ROOT),
        "/docs": (200, html, DOCS),  # "/docs/" is normalised to "/docs" by the crawler
        "/docs/": (200, html, DOCS),
        "/docs/intro": (200, html, INTRO),
        "/docs/deep": (200, html, DEEP),
        "/docs/deep/level3": (200, html, LEVEL3),
        "/docs/final": (200, html, FINAL),
        "/blog/print": (200, html, PRINT),
        "/copy": (200, html, INTRO),
        "/from-sitemap": (200, html, FROM_SITEMAP),
        "/private/secret": (200, html, SECRET),
        "/redirect-a": (301, "/redirect-b", b""),
        "/redirect-b": (302, f"{site.base}/docs/final", b""),
        "/loop-a": (302, "/loop-b", b""),
        "/loop-b": (302, "/loop-a", b""),
        "/to-private": (302, "http://169.254.169.254/latest/meta-data/", b""),
        "/missing": (404, "text/html", b"<h1>Not found</h1>"),
        "/error": (500, "text/html", b"<h1>Server error</h1>"),
        "/file.bin": (200, "application/octet-stream", bytes(range(256)) * 64),
        "/paper.pdf": (200, "application/pdf", PDF),
        "/notes.txt": (200, "text/plain; charset=utf-8", NOTES),
        "/sitemap-big.xml.gz": (200, "application/gzip", big_sitemap_gz(site.base, 2 * 1024 * 1024)),
        "/gzip-comment": (200, "text/html", gzip_with_comment(INTRO, 2 * 1024 * 1024)),
    }


def _handler(site: Site) -> type[BaseHTTPRequestHandler]:
    routes = _routes(site)

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:  # quiet
            pass

        def do_GET(self) -> None:  # noqa: N802
            path = self.path.split("?")[0]
            site.requests.append((self.path, self.headers.get("Host", ""), self.headers.get("User-Agent", "")))
            if path == "/slow-headers" or (path == "/robots.txt" and site.drip_robots):
                return self._drip(routes["/robots.txt"][2].encode() if path == "/robots.txt" else NOTES)
            if path.startswith(("/stacked/", "/bomb/")):
                encodings = unquote(path.split("/", 2)[2])
                body = encode(INTRO, encodings) if path.startswith("/stacked/") else bomb(encodings)
                return self._send(200, "text/html; charset=utf-8", body, encodings)
            if path == "/slow":
                time.sleep(SLOW_SECONDS)
                return self._send(200, "text/html", _page("Slow", "<p>finally</p>"))
            if path == "/huge":  # no Content-Length: the cap must stop the streamed body
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.end_headers()
                chunk = b"<p>" + b"x" * 65530 + b"</p>"
                try:
                    for _ in range(HUGE_BYTES // len(chunk) + 1):
                        self.wfile.write(chunk)
                except OSError:
                    pass  # the crawler hung up at its cap, as it should
                return None
            if path not in routes:
                return self._send(404, "text/html", b"<h1>Not found</h1>")
            status, kind, body = routes[path]
            if path == "/gzip-comment":  # no Content-Length: only a raw-byte cap stops it early
                return self._send(status, kind, body, "gzip", declare_length=False)
            if 300 <= status < 400:
                self.send_response(status)
                self.send_header("Location", kind)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return None
            return self._send(status, kind, body.encode() if isinstance(body, str) else body)

        def _drip(self, body: bytes) -> None:
            """Status line and headers one byte every DRIP_SECONDS (each read gets a byte in time)."""
            head = f"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {len(body)}\r\n".encode()
            filler = max(int(DRIP_TOTAL_SECONDS / DRIP_SECONDS) - len(head) - 12, 1)
            head += b"X-Drip: " + b"d" * filler + b"\r\n\r\n"
            try:
                for i in range(len(head)):
                    self.wfile.write(head[i:i + 1])
                    time.sleep(DRIP_SECONDS)
                self.wfile.write(body)
            except OSError:
                pass  # the crawler hung up at its deadline, as it should
            self.close_connection = True

        def _send(self, status: int, kind: str, body: bytes, encoding: str = "", declare_length: bool = True) -> None:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            if encoding:
                self.send_header("Content-Encoding", encoding)
            if declare_length:
                self.send_header("Content-Length", str(len(body)))
            else:
                self.close_connection = True  # the body ends when the connection does
            self.end_headers()
            try:
                self.wfile.write(body)
            except OSError:
                pass

    return Handler


@contextlib.contextmanager
def serve_site(drip_robots: bool = False, sitemap: str = "/sitemap.xml") -> Iterator[Site]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    server.daemon_threads = True
    site = Site(server, drip_robots, sitemap)
    server.RequestHandlerClass = _handler(site)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield site
    finally:
        server.shutdown()
        server.server_close()
