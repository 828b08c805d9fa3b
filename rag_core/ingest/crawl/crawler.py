"""The crawl loop: breadth-first, bounded, polite, and reporting every URL it touched.

Read `Crawler.run` first. Seeds (plus sitemap URLs when asked) are depth 0; each level is
fetched by a small thread pool (at most `concurrency` requests in flight, `delay_s` between
requests to one host, more if robots.txt asks), then the links of its HTML pages become
the next level. Breadth-first order means a URL is always reached at its smallest depth,
and the level-by-level bookkeeping keeps the report deterministic under concurrency.

Every URL ends up in `CrawlReport.urls` exactly once as fetched, skipped or failed, with a
machine-readable `kind` and a one-line `reason`. `progress` and `should_stop` are only
ever called on the caller's thread; Ctrl-C (KeyboardInterrupt) counts as a stop. On a stop
the pages fetched so far are kept and the rest are listed as "stopped by user".
`Crawler.report()` gives the partial report at any time (e.g. after the UI was interrupted).

Each request has ONE deadline (`timeout_s`, connect to last byte) and a body cap counted in
decoded bytes across every content encoding. A robots.txt that cannot be reached because of
the network fails its site's pages with that cause (host not resolved, network unreachable,
connection refused, timed out), and `CrawlReport.why_empty()` names it when nothing was fetched.
"""

from __future__ import annotations

import hashlib
import ipaddress
import threading
import time
import urllib.robotparser
from collections import deque
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Mapping, Sequence
from urllib.parse import urljoin, urlsplit

import httpx
from bs4 import BeautifulSoup

from rag_core.core.errors import ConfigError
from rag_core.ingest.loaders import LOADERS, load_bytes
from rag_core.ingest.loaders.base import decode_text, one_line
from rag_core.core.types import Document
from rag_core.ingest.crawl.causes import dns_cause, network_cause
from rag_core.ingest.crawl.decoding import ACCEPT_ENCODING, CappedDecoder, DecodingError, TooLarge
from rag_core.core.safety import AddressPolicy, AddressRefused, Resolver, resolve_checked
from rag_core.core.transport import SafeTransport, peer_address, request_deadline
from rag_core.ingest.crawl.sitemap import SitemapError, parse_sitemap
from rag_core.ingest.crawl.urls import BadUrl, Scope, host_port, normalize_url, origin, url_key

DEFAULT_USER_AGENT = ("RAGPlaygroundBot/0.1 (+https://github.com/rag-playground/rag-playground; "
                      "crawler of the RAG Playground app)")
_MB = 1024 * 1024
_REDIRECTS = (301, 302, 303, 307, 308)
_IGNORED_SCHEMES = ("mailto:", "javascript:", "tel:", "data:", "about:", "sms:", "blob:")
#: Content-Type -> the loader suffix that reads it
CONTENT_TYPES = {
    "text/html": ".html", "application/xhtml+xml": ".html", "application/pdf": ".pdf",
    "text/plain": ".txt", "text/markdown": ".md", "text/x-markdown": ".md", "text/csv": ".csv",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ".docx",
}
_GENERIC_TYPES = ("", "application/octet-stream", "binary/octet-stream")
MAX_SITEMAPS = 20
MAX_ROBOTS_BYTES = 512 * 1024
MAX_CRAWL_DELAY_S = 10.0
_NETWORK_KINDS = ("network_error", "timeout")
#: the kinds that explain an empty crawl, most telling first
_EMPTY_CAUSES = _NETWORK_KINDS + (
    "robots_unavailable", "private_address", "http_error", "robots", "too_large", "decoding_error",
    "unsupported_type", "no_text", "noindex", "redirect_loop", "too_many_redirects", "out_of_scope", "excluded",
    "unsupported_scheme", "duplicate", "depth_limit", "page_limit",
)

Progress = Callable[[int, int, str], None]
ShouldStop = Callable[[], bool]


@dataclass(frozen=True)
class CrawlConfig:
    """What to crawl and how politely. `max_bytes` caps each response body (decoded, in every
    content-encoding layer); `timeout_s` is one deadline per request, connect to last byte."""

    seeds: tuple[str, ...]
    depth: int = 2
    max_pages: int = 200
    sitemap: bool = False
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    allow_private: bool = False
    #: networks (CIDR) allowed even without allow_private, e.g. ("192.168.1.0/24",)
    allow_networks: tuple[str, ...] = ()
    delay_s: float = 0.5
    concurrency: int = 2
    timeout_s: float = 10.0
    max_bytes: int = 5 * _MB
    max_redirects: int = 5
    user_agent: str = DEFAULT_USER_AGENT

    def __post_init__(self) -> None:
        for name in ("seeds", "include", "exclude", "allow_networks"):
            value = getattr(self, name)
            object.__setattr__(self, name, (value,) if isinstance(value, str) else tuple(value))
        if not self.seeds:
            raise ConfigError("no URL to crawl: give at least one http(s) URL")
        checks = [
            (self.depth >= 0, f"depth must be 0 or more, not {self.depth}"),
            (self.max_pages >= 1, f"max pages must be at least 1, not {self.max_pages}"),
            (1 <= self.concurrency <= 8, f"concurrency must be 1..8, not {self.concurrency}"),
            (self.delay_s >= 0, f"delay must be 0 or more seconds, not {self.delay_s}"),
            (self.timeout_s > 0, f"timeout must be positive, not {self.timeout_s}"),
            (self.max_bytes > 0, f"max bytes must be positive, not {self.max_bytes}"),
            (self.max_redirects >= 0, f"max redirects must be 0 or more, not {self.max_redirects}"),
        ]
        for ok, message in checks:
            if not ok:
                raise ConfigError(message)
        for seed in self.seeds + self.include:
            try:
                normalize_url(seed)
            except BadUrl as exc:
                raise ConfigError(f"{exc}; give absolute http(s) URLs like https://example.com/docs") from exc
        for net in self.allow_networks:
            try:
                ipaddress.ip_network(net, strict=False)
            except ValueError as exc:
                raise ConfigError(f"not a network: {net!r}; use CIDR like 10.0.0.0/8") from exc


@dataclass(frozen=True)
class UrlStatus:
    """What happened to one URL. `kind` is a stable code (see KINDS); `reason` says it in words
    (the default wording: each edge may reword it from `kind` and `values`, e.g. a limit).

    `final_url` is the document source when it differs from `url` (after redirects or a
    rel=canonical). Sitemaps that were read are "fetched" with kind "sitemap" and 0 documents.
    """

    url: str
    status: str  # "fetched" | "skipped" | "failed"
    reason: str
    http_status: int | None = None
    n_documents: int = 0
    depth: int = 0
    kind: str = ""
    final_url: str = ""
    values: Mapping[str, Any] = field(default_factory=dict, hash=False, compare=False)  # e.g. depth, limit


#: kind -> what it means; the app and the CLI group the report by these
KINDS = {
    "ok": "fetched and ingested",
    "sitemap": "sitemap read for seed URLs",
    "robots": "disallowed by robots.txt",
    "robots_unavailable": "robots.txt could not be read, so the site is treated as disallowed",
    "out_of_scope": "another site, or outside the included prefixes",
    "excluded": "matches an exclude pattern",
    "duplicate": "same page as another URL (normalised URL, redirect target, canonical, or same text)",
    "depth_limit": "deeper than the depth limit",
    "page_limit": "beyond the page limit",
    "too_large": "response larger than the size cap",
    "unsupported_type": "content type that cannot be ingested",
    "unsupported_scheme": "not an http(s) URL",
    "private_address": "resolves to a loopback/private/link-local/reserved address",
    "noindex": "the page asks not to be indexed (meta robots noindex)",
    "no_text": "no extractable text",
    "http_error": "HTTP status 4xx/5xx",
    "redirect_loop": "redirects back to a URL in its own chain",
    "too_many_redirects": "more redirects than the redirect limit",
    "timeout": "no complete response within the timeout (one deadline from connect to last byte)",
    "network_error": "host name not resolved, network unreachable, connection refused or reset, TLS failure",
    "decoding_error": "a Content-Encoding that cannot be decoded (unknown, more than 3 layers, or corrupt)",
    "stopped": "not fetched because the crawl was stopped",
}


@dataclass(frozen=True)
class CrawlReport:
    documents: tuple[Document, ...] = ()
    urls: tuple[UrlStatus, ...] = ()
    seconds: float = 0.0
    stopped: bool = False

    def with_status(self, status: str) -> tuple[UrlStatus, ...]:
        return tuple(u for u in self.urls if u.status == status)

    @property
    def fetched(self) -> tuple[UrlStatus, ...]:
        return self.with_status("fetched")

    @property
    def skipped(self) -> tuple[UrlStatus, ...]:
        return self.with_status("skipped")

    @property
    def failed(self) -> tuple[UrlStatus, ...]:
        return self.with_status("failed")

    @property
    def sources(self) -> tuple[str, ...]:
        """Distinct document sources (URLs), in crawl order."""
        return tuple(dict.fromkeys(d.source for d in self.documents))

    def why_empty(self, word: Callable[[UrlStatus], str] = lambda u: u.reason) -> str | None:
        """None when some page gave documents; else one line naming the main reason none did
        (a network failure first: offline, the report must not blame robots.txt); `word` says
        a URL's reason the edge's way."""
        if self.documents:
            return None
        if self.stopped:
            return "the crawl was stopped before any page gave text"
        what = "no page gave text" if any(u.http_status for u in self.urls) else "nothing was fetched"
        for kind in _EMPTY_CAUSES:
            hits = sorted((u for u in self.urls if u.kind == kind), key=lambda u: u.url.endswith("/robots.txt"))
            if hits:
                more = f" (and {len(hits) - 1} more URL(s) like it)" if len(hits) > 1 else ""
                return f"{what}: {hits[0].url}: {word(hits[0])}{more}"
        return what

    def counts(self) -> dict[tuple[str, str], int]:
        """(status, kind) -> number of URLs: the skip-reasons table."""
        out: dict[tuple[str, str], int] = {}
        for u in self.urls:
            out[(u.status, u.kind)] = out.get((u.status, u.kind), 0) + 1
        return out


class _Outcome(Exception):
    """A URL's final status, raised from wherever it was decided."""

    def __init__(self, status: str, kind: str, reason: str, http_status: int | None = None) -> None:
        super().__init__(reason)
        self.status, self.kind, self.reason, self.http_status = status, kind, reason, http_status


def _skip(kind: str, reason: str, http_status: int | None = None) -> _Outcome:
    return _Outcome("skipped", kind, reason, http_status)


def _fail(kind: str, reason: str, http_status: int | None = None) -> _Outcome:
    return _Outcome("failed", kind, reason, http_status)


@dataclass
class _Response:
    url: str
    http_status: int
    content_type: str
    body: bytes


@dataclass
class _PageResult:
    status: UrlStatus
    documents: list[Document] = field(default_factory=list)
    links: list[str] = field(default_factory=list)  # absolute, not yet normalised


def safe_client(config: CrawlConfig, resolver: Resolver | None = None) -> httpx.Client:
    """The default client: SSRF-guarded transport, no redirects, no env proxies, honest UA."""
    policy = AddressPolicy(config.allow_private, config.allow_networks)
    return httpx.Client(
        transport=SafeTransport(policy, resolver, max_connections=config.concurrency * 2),
        follow_redirects=False, trust_env=False, timeout=httpx.Timeout(config.timeout_s),
        headers={"User-Agent": config.user_agent, "Accept-Encoding": ACCEPT_ENCODING},
    )


def _sha(documents: Sequence[Document]) -> str:
    digest = hashlib.sha256()
    for doc in documents:
        digest.update(doc.text.encode("utf-8") + b"\x1e")
    return digest.hexdigest()


def _content_suffix(content_type: str, url: str) -> str | None:
    mime = content_type.split(";")[0].strip().lower()
    if mime in CONTENT_TYPES:
        return CONTENT_TYPES[mime]
    if mime in _GENERIC_TYPES:
        path = urlsplit(url).path.lower()
        dot = path.rfind(".")
        suffix = path[dot:] if dot > path.rfind("/") else ""
        return suffix if suffix in LOADERS else None
    return None


class Crawler:
    """One crawl. `run()` once; `report()` any time (also from another thread)."""

    def __init__(self, config: CrawlConfig, client: httpx.Client | None = None,
                 resolver: Resolver | None = None) -> None:
        self.config = config
        self.resolver = resolver
        self.policy = AddressPolicy(config.allow_private, config.allow_networks)
        self._own_client = client is None
        self.client = client if client is not None else safe_client(config, resolver)
        self.seeds = tuple(normalize_url(s) for s in config.seeds)
        self.scope = Scope.for_seeds(self.seeds, config.include, config.exclude)
        self._lock = threading.RLock()
        self._robots: dict[str, urllib.robotparser.RobotFileParser | None] = {}
        self._robots_lock = threading.Lock()
        self._robots_failed: dict[str, _Outcome] = {}
        self._next_slot: dict[str, float] = {}
        self._seen: dict[str, str] = {}  # url_key -> the URL that has (or will get) a status
        self._refused: set[str] = set()  # keys seen, but refused before fetching (scope, robots, ...)
        self._spellings: set[str] = set()  # raw link spellings already reported as duplicates
        self._hashes: dict[str, str] = {}  # content sha -> first source
        self._statuses: list[UrlStatus] = []
        self._documents: list[Document] = []
        self._started = time.monotonic()
        self.stopped = False

    # ---- public --------------------------------------------------------------------

    def report(self) -> CrawlReport:
        with self._lock:
            return CrawlReport(tuple(self._documents), tuple(self._statuses),
                               round(time.monotonic() - self._started, 3), self.stopped)

    def run(self, progress: Progress | None = None, should_stop: ShouldStop | None = None) -> CrawlReport:
        self._started = time.monotonic()
        try:
            level = self._seed_level()
            self._crawl_levels(level, progress, should_stop)
        except KeyboardInterrupt:
            self.stopped = True
        finally:
            if self._own_client:
                self.client.close()
        return self.report()

    # ---- levels --------------------------------------------------------------------

    def _record(self, status: UrlStatus, documents: Sequence[Document] = ()) -> None:
        with self._lock:
            self._statuses.append(status)
            self._documents.extend(documents)

    def _refuse(self, url: str, kind: str, reason: str, depth: int, status: str = "skipped", **values: Any) -> None:
        self._seen.setdefault(url_key(url), url)
        self._refused.add(url_key(url))
        self._record(UrlStatus(url, status, reason, depth=depth, kind=kind, values=values))

    def _seed_level(self) -> list[str]:
        level: list[str] = []
        candidates = list(self.seeds)
        if self.config.sitemap:
            candidates += self._sitemap_urls()
        for url in candidates:
            self._admit(url, 0, level)
        return level

    def _admit(self, url: str, depth: int, level: list[str]) -> None:
        """Decide, before any page fetch, whether a normalised URL is queued at `depth`."""
        if url_key(url) in self._seen:
            return
        why = self.scope.why_not(url)
        if why is not None:
            self._refuse(url, "excluded" if why.startswith("excluded") else "out_of_scope", why, depth)
            return
        try:
            self._check_robots(url)
        except _Outcome as outcome:
            self._refuse(url, outcome.kind, outcome.reason, depth, outcome.status)
            return
        if depth > self.config.depth:
            self._refuse(url, "depth_limit", f"depth limit: {depth} links from a seed, over the limit of "
                                             f"{self.config.depth}", depth, limit=self.config.depth)
            return
        self._seen[url_key(url)] = url
        level.append(url)

    def _crawl_levels(self, level: list[str], progress: Progress | None, should_stop: ShouldStop | None) -> None:
        budget = self.config.max_pages
        done = 0
        depth = 0
        workers = ThreadPoolExecutor(max_workers=self.config.concurrency, thread_name_prefix="crawl")
        try:
            while level:
                batch = level[:max(budget, 0)]
                for url in level[len(batch):]:
                    self._record(UrlStatus(url, "skipped", f"page limit: {self.config.max_pages} pages "
                                                           "reached", depth=depth, kind="page_limit",
                                           values={"limit": self.config.max_pages}))
                budget -= len(batch)
                pending = deque(batch)
                inflight: dict[Future, str] = {}
                results: dict[str, _PageResult] = {}
                while pending or inflight:
                    while pending and len(inflight) < self.config.concurrency and not self.stopped:
                        if should_stop is not None and should_stop():
                            self.stopped = True
                            break
                        url = pending.popleft()
                        inflight[workers.submit(self._fetch_page, url, depth)] = url
                    if not inflight:
                        break
                    try:
                        finished, _ = wait(list(inflight), return_when=FIRST_COMPLETED)
                    except KeyboardInterrupt:  # Ctrl-C: stop submitting, keep what is in flight
                        self.stopped = True
                        continue
                    for future in finished:
                        url = inflight.pop(future)
                        results[url] = future.result()
                        done += 1
                        if progress is not None:
                            progress(done, done + len(pending) + len(inflight), url)
                next_level: list[str] = []
                for url in batch:  # batch order, not completion order: a deterministic report
                    if url not in results:
                        self._record(UrlStatus(url, "skipped", "stopped by user before it was fetched",
                                               depth=depth, kind="stopped"))
                        continue
                    result = results[url]
                    self._accept(result)
                    for link in result.links:
                        self._discover(link, depth + 1, next_level)
                if self.stopped:
                    for url in next_level:
                        self._record(UrlStatus(url, "skipped", "stopped by user before it was fetched",
                                               depth=depth + 1, kind="stopped"))
                    return
                level, depth = next_level, depth + 1
        finally:
            workers.shutdown(wait=True, cancel_futures=True)

    def _accept(self, result: _PageResult) -> None:
        """Content dedup happens here, in batch order, so the first URL in crawl order wins."""
        status, documents = result.status, result.documents
        if documents:
            sha = _sha(documents)
            first = self._hashes.get(sha)
            if first is not None and first != documents[0].source:
                status = replace(status, status="skipped", kind="duplicate", n_documents=0,
                                 reason=f"duplicate: same text as {first}")
                documents = []
            else:
                self._hashes[sha] = documents[0].source
        self._record(status, documents)

    def _discover(self, link: str, depth: int, level: list[str]) -> None:
        lowered = link.strip().lower()
        if lowered.startswith(_IGNORED_SCHEMES):
            return
        try:
            url = normalize_url(link)
        except BadUrl as exc:
            if link not in self._spellings:
                self._spellings.add(link)
                self._record(UrlStatus(link, "skipped", str(exc), depth=depth, kind="unsupported_scheme"))
            return
        known = self._seen.get(url_key(url))
        if known is not None and link != known and link not in self._spellings:
            # another spelling of a known URL (fragment, tracking parameters, slash, port): listed once
            self._spellings.add(link)
            self._record(UrlStatus(link, "skipped", f"duplicate of {known} (same URL once normalised)",
                                   depth=depth, kind="duplicate"))
            return
        self._admit(url, depth, level)

    # ---- robots.txt and sitemaps ---------------------------------------------------

    def _robots_for(self, url: str) -> urllib.robotparser.RobotFileParser | None:
        """The parsed robots.txt of url's origin (fetched once); None means allow all."""
        site = origin(url)
        with self._robots_lock:
            if site in self._robots:
                return self._robots[site]
            robots_url = site + "/robots.txt"
            parser = urllib.robotparser.RobotFileParser(robots_url)
            try:
                response = self._follow(robots_url, max_bytes=MAX_ROBOTS_BYTES, same_origin=True)
                parser.parse(response.body.decode("utf-8", errors="replace").splitlines())
            except _Outcome as outcome:
                if outcome.kind == "private_address" or (
                        outcome.http_status is not None and 400 <= outcome.http_status < 500
                        and outcome.http_status not in (401, 403)):
                    parser = None  # no robots.txt (or a refused host, which each page reports): allow all
                else:  # RFC 9309: an unreachable robots.txt means "crawl nothing"
                    parser.disallow_all = True
                    self._robots_failed[site] = outcome
                    self._record_robots_failure(robots_url, outcome)
            self._robots[site] = parser
            return parser

    def _record_robots_failure(self, robots_url: str, outcome: _Outcome) -> None:
        if outcome.kind in _NETWORK_KINDS:  # the site is unreachable: say why, robots.txt is not the cause
            self._record(UrlStatus(robots_url, "failed", outcome.reason, kind=outcome.kind))
            return
        self._record(UrlStatus(robots_url, "failed", f"robots.txt unavailable ({outcome.reason}): "
                               "the site is treated as disallowed", outcome.http_status, kind="robots_unavailable"))

    def _check_robots(self, url: str) -> None:
        parser = self._robots_for(url)
        if parser is not None and not parser.can_fetch(self.config.user_agent, url):
            failed = self._robots_failed.get(origin(url))
            if failed is not None and failed.kind in _NETWORK_KINDS:
                raise _fail(failed.kind, f"not crawled: {failed.reason}")
            if failed is not None:
                raise _skip("robots_unavailable", f"not crawled: robots.txt of {origin(url)} could not be read "
                                                  f"({failed.reason})")
            raise _skip("robots", "disallowed by robots.txt")

    def _delay_for(self, url: str) -> float:
        parser = self._robots.get(origin(url))
        crawl_delay = parser.crawl_delay(self.config.user_agent) if parser is not None else None
        return max(self.config.delay_s, min(float(crawl_delay or 0), MAX_CRAWL_DELAY_S))

    def _sitemap_urls(self) -> list[str]:
        queue: list[tuple[str, int]] = []
        for seed in self.seeds:
            parser = self._robots_for(seed)
            listed = parser.site_maps() if parser is not None else None
            for sitemap in listed or [origin(seed) + "/sitemap.xml"]:
                try:
                    queue.append((normalize_url(sitemap, base=seed), 0))
                except BadUrl:
                    continue
        found: list[str] = []
        read: set[str] = set()
        while queue and len(read) < MAX_SITEMAPS:
            sitemap, level = queue.pop(0)
            if sitemap in read:
                continue
            read.add(sitemap)
            try:
                if self.scope.why_not(sitemap) is not None and origin(sitemap) not in map(origin, self.seeds):
                    raise _skip("out_of_scope", "sitemap on another site")
                response = self._follow(sitemap, max_bytes=self.config.max_bytes, same_origin=True)
                kind, locs = parse_sitemap(response.body, limit=self.config.max_bytes)
            except _Outcome as outcome:
                self._record(UrlStatus(sitemap, outcome.status, f"sitemap: {outcome.reason}",
                                       outcome.http_status, kind=outcome.kind))
                continue
            except SitemapError as exc:
                self._record(UrlStatus(sitemap, "failed", f"sitemap: {exc}", kind="no_text"))
                continue
            self._record(UrlStatus(sitemap, "fetched", f"{kind} with {len(locs)} URLs", 200, kind="sitemap"))
            for loc in locs:
                try:
                    url = normalize_url(loc, base=sitemap)
                except BadUrl:
                    continue
                if kind == "sitemapindex":
                    if level < 2:
                        queue.append((url, level + 1))
                else:
                    found.append(url)
        return found

    # ---- one URL -------------------------------------------------------------------

    def _fetch_page(self, url: str, depth: int) -> _PageResult:
        """Worker thread: fetch `url` (following checked redirects) and turn it into documents."""
        try:
            response = self._follow(url, max_bytes=self.config.max_bytes, page=True)
            return self._to_documents(url, depth, response)
        except _Outcome as outcome:
            return _PageResult(UrlStatus(url, outcome.status, outcome.reason, outcome.http_status,
                                         depth=depth, kind=outcome.kind))
        except Exception as exc:  # noqa: BLE001 - one odd page must not end the crawl
            return _PageResult(UrlStatus(url, "failed", f"unexpected error: {type(exc).__name__}: "
                                                        f"{one_line(exc, 120)}", depth=depth, kind="network_error"))

    def _check_hop(self, target: str, chain: list[str]) -> None:
        """A redirect target must pass every rule a link does, and must not be claimed already.
        The address comes first: a redirect to 169.254.169.254 is reported as what it is."""
        host, port = host_port(target)
        try:
            resolve_checked(host, port, self.policy, self.resolver)
        except AddressRefused as exc:
            raise _skip("private_address", f"redirects to {target}: {exc}") from None
        except OSError as exc:
            raise _fail("network_error", f"redirects to {target}: {dns_cause(exc, host)}") from None
        why = self.scope.why_not(target)
        if why is not None:
            raise _skip("excluded" if why.startswith("excluded") else "out_of_scope", f"redirects to {target}: {why}")
        try:
            self._check_robots(target)
        except _Outcome as outcome:
            raise _Outcome(outcome.status, outcome.kind, f"redirects to {target}: {outcome.reason}") from None
        key = url_key(target)
        if key in {url_key(c) for c in chain}:
            return  # "/docs" -> "/docs/": the same page
        with self._lock:
            if key in self._seen and key not in self._refused:
                raise _skip("duplicate", f"duplicate: redirects to {target}, which is crawled on its own")
            self._seen[key] = target

    def _follow(self, url: str, *, max_bytes: int, page: bool = False, same_origin: bool = False) -> _Response:
        chain = [url]
        current = url
        while True:
            response = self._get_once(current, max_bytes, page)
            if response.http_status not in _REDIRECTS:
                return response
            location = response.content_type  # _get_once puts Location there for redirects
            try:
                target = normalize_url(location, base=current)
            except BadUrl as exc:
                raise _skip("unsupported_scheme", f"redirect refused: {exc}", response.http_status) from None
            if target in chain:
                raise _fail("redirect_loop", "redirect loop: " + " -> ".join(chain + [target]), response.http_status)
            if len(chain) > self.config.max_redirects:
                raise _fail("too_many_redirects", f"more than {self.config.max_redirects} redirects",
                            response.http_status)
            if same_origin and origin(target) != origin(url) and host_port(target)[0] != host_port(url)[0]:
                raise _skip("out_of_scope", f"redirects to another site: {target}", response.http_status)
            if page:
                self._check_hop(target, chain)
            chain.append(target)
            current = target

    def _wait_turn(self, url: str) -> None:
        host = urlsplit(url).netloc
        delay = self._delay_for(url)
        with self._lock:
            now = time.monotonic()
            slot = max(now, self._next_slot.get(host, 0.0))
            self._next_slot[host] = slot + delay
        if slot > now:
            time.sleep(slot - now)

    def _get_once(self, url: str, max_bytes: int, page: bool) -> _Response:
        """One GET, no redirects, within ONE deadline of `timeout_s` from connect to last byte.
        Address-checked before connecting (and again at connect time by SafeTransport, and on
        the peer address before the body is read)."""
        host, port = host_port(url)
        try:
            resolve_checked(host, port, self.policy, self.resolver)
        except AddressRefused as exc:
            raise _skip("private_address", str(exc)) from None
        except OSError as exc:
            raise _fail("network_error", dns_cause(exc, host)) from None
        self._wait_turn(url)
        timeout = self.config.timeout_s
        try:
            with request_deadline(timeout) as deadline:
                with self.client.stream("GET", url, follow_redirects=False, timeout=timeout,
                                        headers={"User-Agent": self.config.user_agent,
                                                 "Accept-Encoding": ACCEPT_ENCODING}) as response:
                    return self._read(url, response, max_bytes, page, deadline)
        except AddressRefused as exc:  # raised by SafeTransport at connect time (DNS changed)
            raise _skip("private_address", f"{exc} (refused at connect time)") from None
        except (httpx.HTTPError, OSError) as exc:
            raise _fail(*network_cause(exc, host, port, timeout)) from None

    def _read(self, url: str, response: httpx.Response, max_bytes: int, page: bool, deadline: float) -> _Response:
        """Status, headers and a body capped at `max_bytes` DECODED bytes across every content
        encoding (decoding.py), all before `deadline` (a server may drip bytes forever)."""
        peer = peer_address(response)
        refused = self.policy.why_refused(peer) if peer else None
        if refused:
            raise _skip("private_address", f"connected peer {refused}")
        code = response.status_code
        if code in _REDIRECTS and response.headers.get("location"):
            return _Response(url, code, response.headers["location"], b"")
        if code >= 400 or code in _REDIRECTS:
            raise _fail("http_error", f"HTTP {code} {response.reason_phrase}".rstrip(), code)
        content_type = response.headers.get("content-type", "")
        if page and _content_suffix(content_type, url) is None:
            shown = content_type.split(";")[0].strip() or "no Content-Type"
            raise _skip("unsupported_type", f"unsupported type: {shown}", code)
        length = response.headers.get("content-length", "")
        if length.isdigit() and int(length) > max_bytes:
            raise _skip("too_large", f"too large: {int(length) / _MB:.1f} MB declared, over the "
                                     f"{max_bytes / _MB:g} MB cap", code)
        try:
            decoder = CappedDecoder(response.headers.get("content-encoding", ""), max_bytes)
            body, raw = bytearray(), 0
            for piece in response.iter_raw():
                if time.monotonic() > deadline:  # the transport's deadline, for injected clients too
                    raise httpx.ReadTimeout("the request deadline passed")
                raw += len(piece)  # compressed bytes that decode to nothing still count
                if raw > max_bytes:
                    raise TooLarge("raw")
                body.extend(decoder.feed(piece))
            body.extend(decoder.flush())
        except TooLarge:
            raise _skip("too_large", f"too large: over the {max_bytes / _MB:g} MB cap (stopped reading"
                                     + (f"; decoded {', '.join(decoder.encodings)}" if decoder.encodings else "")
                                     + ")", code) from None
        except DecodingError as exc:
            raise _fail("decoding_error", f"cannot decode the body: {exc}", code) from None
        return _Response(url, code, content_type, bytes(body))

    def _to_documents(self, url: str, depth: int, response: _Response) -> _PageResult:
        source = response.url
        suffix = _content_suffix(response.content_type, source) or ".txt"
        links: list[str] = []
        if suffix == ".html":
            source, links, noindex = self._html_meta(url, source, response.body, depth)
            if noindex:
                return _PageResult(UrlStatus(url, "skipped", "noindex: the page asks not to be indexed",
                                             response.http_status, depth=depth, kind="noindex",
                                             final_url=source if source != url else ""), links=links)
        loaded = load_bytes(source, response.body, suffix=suffix, max_bytes=self.config.max_bytes)
        final = source if source != url else ""
        if not loaded.documents:
            reason = loaded.files[0].reason if loaded.files else "no extractable text"
            return _PageResult(UrlStatus(url, "skipped", reason, response.http_status, depth=depth,
                                         kind="no_text", final_url=final), links=links)
        note = loaded.files[0].reason if loaded.files else ""
        return _PageResult(UrlStatus(url, "fetched", note, response.http_status, len(loaded.documents), depth,
                                     "ok", final), list(loaded.documents), links)

    def _html_meta(self, url: str, source: str, body: bytes, depth: int) -> tuple[str, list[str], bool]:
        """(document source after rel=canonical, links, noindex) of an HTML page."""
        try:
            soup = BeautifulSoup(decode_text(body), "lxml")
        except Exception:  # noqa: BLE001 - load_bytes reports an undecodable page
            return source, [], False
        base = source
        base_tag = soup.find("base", href=True)
        if base_tag is not None:
            base = urljoin(source, str(base_tag["href"]))
        directives = " ".join(str(m.get("content", "")) for m in soup.find_all("meta", attrs={"name": "robots"}))
        directives = directives.lower()
        links: list[str] = []
        if "nofollow" not in directives and "none" not in directives:
            for anchor in soup.find_all("a", href=True):
                href = str(anchor["href"]).strip()
                if href and not href.startswith("#"):
                    links.append(urljoin(base, href))
        canonical_tag = soup.find("link", rel="canonical", href=True)
        if canonical_tag is not None:
            try:
                canonical = normalize_url(str(canonical_tag["href"]), base=source)
            except BadUrl:
                canonical = source
            key = url_key(canonical)
            if key != url_key(source) and key != url_key(url) and self.scope.why_not(canonical) is None:
                with self._lock:
                    if key in self._seen and key not in self._refused:
                        raise _skip("duplicate", f"duplicate: its rel=canonical {canonical} is crawled on its own")
                    self._seen[key] = canonical
                source = canonical
        return source, links, "noindex" in directives or "none" in directives


def crawl(config: CrawlConfig, client: httpx.Client | None = None, resolver: Resolver | None = None,
          progress: Progress | None = None, should_stop: ShouldStop | None = None) -> CrawlReport:
    """Crawl `config.seeds` and return documents (source = URL) plus a status for every URL.

    `client`: an httpx.Client to use (default: `safe_client(config, resolver)`, closed after).
    `resolver(host, port) -> [ip, ...]`: DNS used for the address checks (default getaddrinfo).
    `progress(done, total_known, url)` after each fetch; `should_stop()` before each fetch.
    Raises ConfigError for bad configuration; never for a bad page (that is in the report).
    """
    return Crawler(config, client, resolver).run(progress, should_stop)
