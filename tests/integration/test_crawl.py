"""The crawler against a real local website (tests/crawl_site.py), plus URL and address rules.

Traffic never leaves loopback: pytest-socket blocks other hosts, private-address refusals
are tested with an injected resolver and fake host names (nothing is connected to), and
the fixture site is reached on 127.0.0.1 through `allow_networks=("127.0.0.1/32",)`, which
still refuses every other private address (so the redirect to 169.254.169.254 is refused).
"""

from __future__ import annotations

import httpx
import pytest
from crawl_site import serve_site
from hypothesis import given
from hypothesis import strategies as st

from rag_core.cli import advice as cli_advice
from rag_core.ingest.crawl import (
    DEFAULT_USER_AGENT,
    AddressPolicy,
    AddressRefused,
    CrawlConfig,
    Crawler,
    SafeTransport,
    crawl,
    normalize_url,
    safe_client,
)
from rag_core.core.safety import forbidden_kind
from rag_core.ingest.crawl.urls import Scope, url_key
from rag_core.core.errors import ConfigError

LOOPBACK = ("127.0.0.1/32",)


@pytest.fixture(scope="module")
def site():
    with serve_site() as served:
        yield served


def config(site, *paths: str, **overrides) -> CrawlConfig:
    options = dict(allow_networks=LOOPBACK, delay_s=0, timeout_s=0.5, max_bytes=1024 * 1024)
    options.update(overrides)
    return CrawlConfig(seeds=tuple(site.url(p) for p in paths or ("/",)), **options)


def short(site, url: str) -> str:
    return url.replace(site.base, "")


def table(site, report) -> dict[str, tuple[str, str]]:
    return {short(site, u.url): (u.status, u.kind) for u in report.urls}


# ---- the whole site ---------------------------------------------------------------------


def test_fixture_site_exact_outcome(site):
    report = crawl(config(site, "/"))
    assert [short(site, s) for s in report.sources] == [
        "/", "/docs/", "/docs/intro", "/docs/final", "/paper.pdf", "/notes.txt", "/docs/deep"]
    assert table(site, report) == {
        "/": ("fetched", "ok"),
        "/docs/": ("fetched", "ok"),
        "/docs/intro": ("fetched", "ok"),
        "/redirect-a": ("fetched", "ok"),  # -> /redirect-b -> /docs/final
        "/paper.pdf": ("fetched", "ok"),
        "/notes.txt": ("fetched", "ok"),
        "/docs/deep": ("fetched", "ok"),  # relative link from /docs/ (the trailing slash is kept)
        "/docs/intro#install": ("skipped", "duplicate"),
        "/docs/intro?utm_source=news&utm_medium=email": ("skipped", "duplicate"),
        "/blog/print": ("skipped", "duplicate"),  # rel=canonical -> /docs/intro
        "/copy": ("skipped", "duplicate"),  # same text as /docs/intro
        "/private/secret": ("skipped", "robots"),
        "https://example.org/elsewhere": ("skipped", "out_of_scope"),
        "ftp://example.org/file": ("skipped", "unsupported_scheme"),
        "/to-private": ("skipped", "private_address"),
        "/huge": ("skipped", "too_large"),
        "/file.bin": ("skipped", "unsupported_type"),
        "/docs/deep/level3": ("skipped", "depth_limit"),
        "/loop-a": ("failed", "redirect_loop"),
        "/missing": ("failed", "http_error"),
        "/error": ("failed", "http_error"),
        "/slow": ("failed", "timeout"),
    }
    by_url = {short(site, u.url): u for u in report.urls}
    assert by_url["/redirect-a"].final_url == site.url("/docs/final")
    assert by_url["/missing"].http_status == 404 and by_url["/missing"].reason == "HTTP 404 Not Found"
    assert by_url["/error"].http_status == 500
    assert by_url["/blog/print"].reason.startswith("duplicate: its rel=canonical")
    assert by_url["/copy"].reason == f"duplicate: same text as {site.url('/docs/intro')}"
    assert "169.254.169.254" in by_url["/to-private"].reason and "link-local" in by_url["/to-private"].reason
    assert by_url["/loop-a"].reason == "redirect loop: " + " -> ".join(site.url(p) for p in ("/loop-a", "/loop-b", "/loop-a"))
    assert "1 MB cap" in by_url["/huge"].reason and "timed out" in by_url["/slow"].reason
    assert by_url["/docs/deep/level3"].depth == 3
    # exactly one status per URL, and the pdf and text were read by their loaders
    assert len(report.urls) == len({u.url for u in report.urls})
    sections = {(short(site, d.source), d.section) for d in report.documents}
    assert {("/paper.pdf", "page 1"), ("/paper.pdf", "page 2"), ("/docs/intro", "Introduction > Install")} <= sections


def test_honest_user_agent_and_no_request_to_disallowed_paths(site):
    site.requests.clear()
    crawl(config(site, "/"))
    assert {ua for _, _, ua in site.requests} == {DEFAULT_USER_AGENT}
    paths = [p for p, _, _ in site.requests]
    assert "/private/secret" not in paths and "/docs/deep/level3" not in paths
    assert paths.count("/robots.txt") == 1 and paths.count("/docs/intro") == 1


def test_sitemap_index_seeds_the_crawl(site):
    report = crawl(config(site, "/", sitemap=True, depth=0))
    statuses = table(site, report)
    assert statuses["/sitemap.xml"] == ("fetched", "sitemap") and statuses["/sitemap-pages.xml"] == ("fetched", "sitemap")
    assert statuses["https://example.org/not-ours"] == ("skipped", "out_of_scope")
    assert {short(site, s) for s in report.sources} == {"/", "/from-sitemap", "/docs/"}
    assert statuses["/docs/intro"] == ("skipped", "depth_limit")


def test_max_pages_lists_the_rest(site):
    report = crawl(config(site, "/", max_pages=3))
    fetched_or_failed = [u for u in report.urls if u.kind not in {"page_limit", "duplicate", "robots", "out_of_scope",
                                                                  "unsupported_scheme", "depth_limit"}]
    assert len(fetched_or_failed) == 3
    assert sum(u.kind == "page_limit" for u in report.urls) >= 10


def test_include_and_exclude(site):
    report = crawl(config(site, "/docs/", include=(site.url("/docs/"),), exclude=("*/deep*",)))
    statuses = table(site, report)
    assert {short(site, s) for s in report.sources} == {"/docs/", "/docs/intro"}
    assert statuses["/docs/deep"] == ("skipped", "excluded")
    assert statuses["/"] == ("skipped", "out_of_scope")


def test_stop_keeps_what_was_fetched(site):
    calls = []

    def should_stop() -> bool:
        calls.append(1)
        return len(calls) > 3

    seen = []
    report = crawl(config(site, "/", concurrency=1), progress=lambda d, t, u: seen.append((d, t, u)),
                   should_stop=should_stop)
    assert report.stopped
    assert [short(site, s) for s in report.sources] == ["/", "/docs/", "/docs/intro"]
    stopped = [u for u in report.urls if u.kind == "stopped"]
    assert stopped and all(u.reason == "stopped by user before it was fetched" for u in stopped)
    assert [d for d, _, _ in seen] == [1, 2, 3] and all(t >= d for d, t, _ in seen)


def test_progress_reports_every_fetch(site):
    seen = []
    report = crawl(config(site, "/"), progress=lambda d, t, u: seen.append((d, t)))
    attempted = [u for u in report.urls if u.kind in {"ok", "http_error", "timeout", "too_large", "unsupported_type",
                                                       "redirect_loop", "private_address"}
                 or (u.kind == "duplicate" and u.reason.startswith("duplicate:"))]
    assert [d for d, _ in seen] == list(range(1, len(attempted) + 1))


def test_politeness_delay_spaces_requests(site):
    import time

    started = time.monotonic()
    report = crawl(config(site, "/docs/", delay_s=0.15, depth=1, include=(site.url("/docs/"),)))
    # robots.txt, /docs/, /docs/intro, /docs/deep: four requests to one host, three gaps
    assert len(report.sources) == 3 and time.monotonic() - started >= 0.45


def test_injected_client_is_used(site):
    cfg = config(site, "/notes.txt")
    with safe_client(cfg) as client:
        report = crawl(cfg, client=client)
        assert not client.is_closed  # the caller's client is the caller's to close
    assert [short(site, s) for s in report.sources] == ["/notes.txt"]


# ---- security ---------------------------------------------------------------------------


def test_loopback_seed_is_refused_without_allow_private(site):
    site.requests.clear()
    report = crawl(CrawlConfig(seeds=(site.url("/"),), delay_s=0))
    assert not report.documents and site.requests == []  # refused before any connection
    (status,) = report.urls
    assert status.status == "skipped" and status.kind == "private_address"
    assert status.reason == "private address: resolves to loopback address 127.0.0.1"  # no CLI flag in core
    assert cli_advice.reason(status) == ("private address: resolves to loopback address 127.0.0.1; "
                                         "pass --allow-private to crawl it")


def test_allow_private_crawls_loopback(site):
    report = crawl(CrawlConfig(seeds=(site.url("/notes.txt"),), allow_private=True, delay_s=0))
    assert [short(site, s) for s in report.sources] == ["/notes.txt"]


class FakeDNS:
    """An injected resolver: fake names -> chosen addresses, and a log of every lookup."""

    def __init__(self, table: dict[str, list[str] | callable]) -> None:
        self.table, self.lookups = table, []

    def __call__(self, host: str, port: int) -> list[str]:
        self.lookups.append(host)
        answer = self.table[host]
        return answer() if callable(answer) else answer


@pytest.mark.parametrize("address, kind", [
    ("10.0.0.5", "private"), ("169.254.169.254", "link-local"), ("::1", "loopback"), ("127.0.0.2", "loopback"),
    ("192.168.1.1", "private"), ("fe80::1", "link-local"), ("224.0.0.1", "multicast"), ("0.0.0.0", "unspecified"),
    ("240.0.0.1", "reserved"), ("100.64.0.1", "non-public"), ("::ffff:127.0.0.1", "loopback"), ("fd00::1", "private"),
])
def test_private_names_are_refused_before_connecting(address, kind):
    dns = FakeDNS({"intranet.test": [address]})
    report = crawl(CrawlConfig(seeds=("http://intranet.test/",), delay_s=0), resolver=dns)
    (status,) = report.urls
    assert status.kind == "private_address" and f"{kind} address" in status.reason
    assert not report.documents


def test_one_private_record_spoils_the_name():
    dns = FakeDNS({"mixed.test": ["93.184.216.34", "10.0.0.5"]})
    report = crawl(CrawlConfig(seeds=("http://mixed.test/",), delay_s=0), resolver=dns)
    assert report.urls[0].kind == "private_address" and "10.0.0.5" in report.urls[0].reason


def test_dns_rebinding_is_caught_at_connect_time():
    """Public at the pre-check, loopback when the transport resolves: the transport refuses,
    and it never connects to the public answer either (it only connects to what it checked)."""
    answers = iter(["93.184.216.34", "127.0.0.1"] * 4)
    dns = FakeDNS({"rebind.test": lambda: [next(answers)]})
    report = crawl(CrawlConfig(seeds=("http://rebind.test/",), delay_s=0), resolver=dns)
    (status,) = report.urls
    assert status.kind == "private_address" and status.reason.endswith("(refused at connect time)")


def test_safe_transport_refuses_and_pins(site):
    dns = FakeDNS({"meta.test": ["169.254.169.254"], "site.test": ["127.0.0.1"]})
    with httpx.Client(transport=SafeTransport(AddressPolicy(), dns)) as client:
        with pytest.raises(AddressRefused, match="link-local address 169.254.169.254"):
            client.get("http://meta.test/latest/meta-data/")
    site.requests.clear()
    policy = AddressPolicy(allow_networks=LOOPBACK)
    with httpx.Client(transport=SafeTransport(policy, dns)) as client:
        # "site.test" exists only in the fake DNS: this works only because the IP is pinned
        response = client.get(f"http://site.test:{site.port}/notes.txt")
    assert response.status_code == 200 and site.requests[-1][1] == f"site.test:{site.port}"


def test_crawl_by_host_name_through_the_pinned_address(site):
    dns = FakeDNS({"site.test": ["127.0.0.1"]})
    report = crawl(CrawlConfig(seeds=(f"http://site.test:{site.port}/docs/",), allow_networks=LOOPBACK, delay_s=0,
                               depth=1), resolver=dns)
    assert {s.split(str(site.port))[1] for s in report.sources} == {"/", "/docs/", "/docs/intro", "/docs/deep"}


def test_public_addresses_are_allowed():
    for address in ("93.184.216.34", "2606:4700::6810:84e5", "8.8.8.8"):
        assert forbidden_kind(__import__("ipaddress").ip_address(address)) is None


@pytest.mark.parametrize("seed", ["file:///etc/passwd", "ftp://example.org/", "gopher://x/", "/relative", "http://"])
def test_only_http_and_https_seeds(seed):
    with pytest.raises(ConfigError, match="http"):
        CrawlConfig(seeds=(seed,))


def test_bad_config_is_a_config_error():
    for bad in (dict(depth=-1), dict(max_pages=0), dict(concurrency=0), dict(timeout_s=0), dict(allow_networks=("x",))):
        with pytest.raises(ConfigError):
            CrawlConfig(seeds=("https://example.org/",), **bad)
    with pytest.raises(ConfigError):
        CrawlConfig(seeds=())


# ---- URL normalisation and scope --------------------------------------------------------


@pytest.mark.parametrize("raw, expected", [
    ("HTTP://Example.COM:80/a/b/../c?b=2&a=1#frag", "http://example.com/a/c?a=1&b=2"),
    ("https://example.com:443", "https://example.com/"),
    ("https://example.com:8443/x/", "https://example.com:8443/x/"),
    ("http://x.org/p?utm_source=a&utm_medium=b&gclid=1&fbclid=2&mc_eid=3&id=7", "http://x.org/p?id=7"),
    ("http://x.org/%7euser", "http://x.org/~user"),
    ("http://BÜCHER.example/", "http://xn--bcher-kva.example/"),
    ("http://[::1]:8080/a", "http://[::1]:8080/a"),
])
def test_normalize_url(raw, expected):
    assert normalize_url(raw) == expected


def test_trailing_slash_is_one_page_but_kept_for_fetching():
    assert url_key(normalize_url("http://x.org/docs/")) == url_key(normalize_url("http://x.org/docs"))
    assert normalize_url("http://x.org/docs/") == "http://x.org/docs/"
    assert normalize_url("deep", base="http://x.org/docs/") == "http://x.org/docs/deep"


@given(st.text(alphabet="abc/.?=&#%_-~", max_size=30))
def test_normalisation_is_idempotent(path):
    once = normalize_url("http://Example.org/" + path)
    assert normalize_url(once) == once


def test_scope_same_site_by_default():
    scope = Scope.for_seeds((normalize_url("https://docs.example.org/guide/"),))
    assert scope.why_not("https://docs.example.org/other") is None
    assert scope.why_not("http://docs.example.org/other") is None  # the http/https twin
    assert scope.why_not("https://example.org/").startswith("out of scope: another site")
    assert scope.why_not("https://docs.example.org:8443/").startswith("out of scope")


def test_crawler_report_is_available_after_interruption(site):
    crawler = Crawler(config(site, "/notes.txt"))
    assert crawler.report().urls == ()
    crawler.run()
    assert [short(site, s) for s in crawler.report().sources] == ["/notes.txt"]


def test_gzipped_sitemaps_are_read_and_gzip_bombs_refused():
    import gzip

    from rag_core.ingest.crawl.sitemap import SitemapError, gunzip_capped, parse_sitemap

    xml = (b'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
           b"<url><loc>https://example.org/a</loc></url><url><loc>https://example.org/b</loc></url></urlset>")
    assert parse_sitemap(gzip.compress(xml)) == ("urlset", ["https://example.org/a", "https://example.org/b"])
    bomb = gzip.compress(b"\0" * (2 * 1024 * 1024))
    with pytest.raises(SitemapError, match="more than 1 MB"):
        gunzip_capped(bomb, limit=1024 * 1024)
    with pytest.raises(SitemapError, match="not a valid gzipped sitemap"):
        parse_sitemap(b"\x1f\x8bnot gzip at all")


# ---- issue 9: one deadline per request (a server dripping its status line and headers) ---


def test_slow_status_line_and_headers_hit_one_deadline(site):
    """Each byte arrives well within the per-read timeout, so only a total deadline stops it."""
    import time

    from crawl_site import DRIP_TOTAL_SECONDS

    started = time.monotonic()
    report = crawl(config(site, "/slow-headers", depth=0, timeout_s=0.5))
    elapsed = time.monotonic() - started
    by_url = {short(site, u.url): u for u in report.urls}
    assert (by_url["/slow-headers"].status, by_url["/slow-headers"].kind) == ("failed", "timeout")
    assert "within 0.5 s (connect to last byte)" in by_url["/slow-headers"].reason
    assert elapsed < DRIP_TOTAL_SECONDS / 2, elapsed


@pytest.mark.parametrize("where", ["robots", "sitemap"])
def test_slow_robots_and_sitemap_hit_the_deadline_too(where):
    import time

    from crawl_site import DRIP_TOTAL_SECONDS

    options = dict(drip_robots=True) if where == "robots" else dict(sitemap="/slow-headers")
    with serve_site(**options) as slow:
        started = time.monotonic()
        report = crawl(config(slow, "/notes.txt", depth=0, timeout_s=0.5, sitemap=where == "sitemap"))
        elapsed = time.monotonic() - started
    by_url = {short(slow, u.url): u for u in report.urls}
    dripping = by_url["/robots.txt" if where == "robots" else "/slow-headers"]
    assert (dripping.status, dripping.kind) == ("failed", "timeout") and "timed out" in dripping.reason
    if where == "robots":  # the page is not crawled, and the reason is the timeout, not robots.txt
        assert (by_url["/notes.txt"].status, by_url["/notes.txt"].kind) == ("failed", "timeout")
        assert "could not be read" not in by_url["/notes.txt"].reason
    else:
        assert by_url["/notes.txt"].kind == "ok"
    assert elapsed < DRIP_TOTAL_SECONDS / 2, elapsed


# ---- issue 9: stacked content encodings are decoded under one cap -----------------------

STACKS = ["gzip, gzip", "deflate, gzip", "gzip, deflate", "gzip,gzip,gzip"]


@pytest.mark.parametrize("encodings", STACKS)
def test_stacked_encodings_are_decoded(site, encodings):
    report = crawl(config(site, "/stacked/" + encodings.replace(" ", "%20"), depth=0))
    (page,) = [u for u in report.urls if "/stacked/" in u.url]
    assert page.kind == "ok", page.reason
    assert "Run pip install rag-playground" in " ".join(d.text for d in report.documents)


@pytest.mark.parametrize("encodings", STACKS[:3])
def test_stacked_encoding_bomb_is_refused_without_inflating_it(site, encodings):
    """A few hundred bytes that decode to 64 MB: refused at the 1 MB cap while decoding, so
    the crawl never holds more than a few MB (httpx alone inflated each layer in one go)."""
    import tracemalloc

    from crawl_site import BOMB_BYTES, bomb

    assert len(bomb(encodings)) < 10_000  # built before measuring
    tracemalloc.start()
    try:
        report = crawl(config(site, "/bomb/" + encodings.replace(" ", "%20"), depth=0, max_bytes=1024 * 1024))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    (page,) = [u for u in report.urls if "/bomb/" in u.url]
    assert (page.status, page.kind) == ("skipped", "too_large") and "1 MB cap" in page.reason
    assert peak < BOMB_BYTES / 8, f"peak {peak / 1e6:.1f} MB while decoding"


def test_raw_bytes_are_capped_too_when_they_decode_to_little(site):
    """2 MB of gzip header comment decode to nothing: the raw bytes still count against the cap."""
    import gzip

    from crawl_site import INTRO, gzip_with_comment

    assert gzip.decompress(gzip_with_comment(INTRO, 10)) == INTRO
    report = crawl(config(site, "/gzip-comment", depth=0, max_bytes=1024 * 1024))
    (page,) = [u for u in report.urls if u.url.endswith("/gzip-comment")]
    assert (page.status, page.kind) == ("skipped", "too_large")
    assert crawl(config(site, "/gzip-comment", depth=0, max_bytes=3 * 1024 * 1024)).documents


def test_unknown_or_too_many_encodings_are_a_clear_failure(site):
    report = crawl(config(site, "/stacked/gzip,gzip,gzip,gzip", depth=0))
    (page,) = [u for u in report.urls if "/stacked/" in u.url]
    assert (page.status, page.kind) == ("failed", "decoding_error") and "4 stacked content encodings" in page.reason


@given(data=st.binary(max_size=3000), stack=st.lists(st.sampled_from(["gzip", "deflate"]), max_size=3),
       limit=st.integers(1, 4000), cut=st.integers(1, 200))
def test_capped_decoder_round_trips_or_refuses(data, stack, limit, cut):
    """Any stack of up to three layers, any chunking: the body comes back exactly when it fits
    the cap, TooLarge when it does not, and no single piece is ever over the cap."""
    from crawl_site import encode

    from rag_core.ingest.crawl.decoding import CappedDecoder, TooLarge

    body = encode(data, ", ".join(stack)) if stack else data
    decoder = CappedDecoder(", ".join(stack), limit)
    out = b""
    try:
        for i in range(0, len(body), cut):
            piece = decoder.feed(body[i:i + cut])
            assert len(piece) <= limit
            out += piece
        out += decoder.flush()
    except TooLarge:
        assert len(data) > limit
    else:
        assert out == data


def test_gzipped_sitemap_is_capped_at_the_page_cap():
    """The .gz inside the sitemap is one more layer: unpacked under the same cap as a page
    (it was 50 MB whatever --max-page-mb said)."""
    with serve_site(sitemap="/sitemap-big.xml.gz") as big:
        small = crawl(config(big, "/notes.txt", depth=0, sitemap=True, max_bytes=1024 * 1024))
        large = crawl(config(big, "/notes.txt", depth=0, sitemap=True, max_bytes=3 * 1024 * 1024))
    refused = next(u for u in small.urls if u.url.endswith(".xml.gz"))
    assert refused.status == "failed" and "unpacks to more than 1 MB" in refused.reason
    read = next(u for u in large.urls if u.url.endswith(".xml.gz"))
    assert (read.status, read.kind) == ("fetched", "sitemap")


# ---- issue 9: the address guard decodes embedded IPv4 and knows cloud host addresses ----


@pytest.mark.parametrize("address, phrase", [
    ("fec0::1", "site-local address fec0::1"),
    ("fec0:1234::5", "site-local address"),
    ("2002:a00:5::", "6to4 address 2002:a00:5::, which embeds the private address 10.0.0.5"),
    ("2002:7f00:1::1", "embeds the loopback address 127.0.0.1"),
    ("2002:a9fe:a9fe::", "embeds the link-local address 169.254.169.254"),
    ("64:ff9b::a00:5", "NAT64 address 64:ff9b::a00:5, which embeds the private address 10.0.0.5"),
    ("64:ff9b::a9fe:a9fe", "embeds the link-local address 169.254.169.254"),
    ("64:ff9b::7f00:1", "embeds the loopback address 127.0.0.1"),
    ("64:ff9b:1::a00:5", "local-use NAT64 address"),
    ("64:ff9b:1:ffff::808:808", "local-use NAT64 address"),
    ("::ffff:10.0.0.5", "private address 10.0.0.5"),
    ("::ffff:169.254.169.254", "link-local address 169.254.169.254"),
    ("::10.0.0.5", "IPv4-compatible address ::a00:5, which embeds the private address 10.0.0.5"),
    ("::ffff:0:10.0.0.5", "IPv4-translated address ::ffff:0:a00:5, which embeds the private address"),
    # Teredo: the client IPv4 is stored XOR-ed (~10.0.0.5 = f5ff:fffa, ~127.0.0.1 = 80ff:fffe)
    ("2001:0:4136:e378:8000:63bf:f5ff:fffa", "Teredo address 2001:0:4136:e378:8000:63bf:f5ff:fffa, which embeds "
                                             "the private address 10.0.0.5"),
    ("2001:0:4136:e378:8000:63bf:80ff:fffe", "embeds the loopback address 127.0.0.1"),
    ("2600::5efe:a00:5", "ISATAP address 2600::5efe:a00:5, which embeds the private address 10.0.0.5"),
    ("2600::200:5efe:a9fe:a9fe", "embeds the link-local address 169.254.169.254"),
    ("3fff::1", "documentation address 3fff::1"),
    ("168.63.129.16", "cloud host address 168.63.129.16 (Azure WireServer)"),
    ("169.254.169.254", "link-local address 169.254.169.254 (cloud metadata service"),
    ("100.100.100.200", "address 100.100.100.200 (Alibaba Cloud metadata)"),
    ("fd00:ec2::254", "address fd00:ec2::254 (AWS IPv6 metadata service)"),
    ("::ffff:168.63.129.16", "cloud host address 168.63.129.16 (Azure WireServer)"),
    ("2002:a83f:8110::", "embeds the cloud host address 168.63.129.16 (Azure WireServer)"),
    ("64:ff9b::a83f:8110", "embeds the cloud host address 168.63.129.16"),
])
def test_embedded_and_cloud_addresses_are_refused_before_connecting(address, phrase):
    """By name (the resolver's answer) and as a literal in the URL: refused, zero requests."""
    dns = FakeDNS({"sneaky.test": [address]})
    literal = f"[{address}]" if ":" in address else address
    for seed in ("http://sneaky.test/", f"http://{literal}/latest/meta-data/"):
        report = crawl(CrawlConfig(seeds=(seed,), delay_s=0), resolver=dns)
        (status,) = report.urls
        assert status.kind == "private_address" and phrase in status.reason, status.reason
        assert not report.documents
    with pytest.raises(AddressRefused, match="private address"):  # and at connect time
        with httpx.Client(transport=SafeTransport(AddressPolicy(), dns)) as client:
            client.get("http://sneaky.test/")


@pytest.mark.parametrize("address", [
    "2002:808:808::1",  # 6to4 of 8.8.8.8
    "64:ff9b::808:808",  # NAT64 (DNS64 on an IPv6-only network) of 8.8.8.8
    "::ffff:8.8.8.8", "93.184.216.34", "2606:4700::6810:84e5", "2600::5efe:808:808",
])
def test_public_and_public_embedding_addresses_are_allowed(address):
    import ipaddress

    assert forbidden_kind(ipaddress.ip_address(address)) is None
    assert AddressPolicy().why_refused(address) is None


# ---- issue 9: a crawl that fetched nothing names the real cause -------------------------


def _closed_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _offline_dns(host: str, port: int) -> list[str]:
    import socket

    raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")


def _raising(exc_type, os_error=None):
    """An httpx transport (a fake network) whose every request fails the way a socket does."""
    def handler(request):
        try:
            if os_error is not None:
                raise os_error
            raise exc_type("timed out", request=request)
        except OSError as exc:
            raise exc_type(str(exc), request=request) from exc
    return httpx.Client(transport=httpx.MockTransport(handler))


def _offline_case(case: str):
    """(seed, config overrides, client, resolver) for each way a machine can be offline."""
    import errno

    public = FakeDNS({"docs.example.com": ["93.184.216.34"]})
    if case == "dns":
        return "https://docs.example.com/", {}, None, _offline_dns
    if case == "unreachable":
        error = OSError(errno.ENETUNREACH, "Network is unreachable")
        return "https://docs.example.com/", {}, _raising(httpx.ConnectError, error), public
    if case == "timeout":
        return "https://docs.example.com/", {}, _raising(httpx.ConnectTimeout), public
    return f"http://127.0.0.1:{_closed_port()}/", {"allow_networks": LOOPBACK}, None, None


@pytest.mark.parametrize("case, kind, phrase", [
    ("dns", "network_error", "the host name docs.example.com could not be resolved"),
    ("unreachable", "network_error", "the network is unreachable"),
    ("refused", "network_error", "connection refused by 127.0.0.1"),
    ("timeout", "timeout", "timed out: no complete response from docs.example.com"),
])
def test_offline_crawl_names_the_real_cause_not_robots(case, kind, phrase):
    seed, overrides, client, resolver = _offline_case(case)
    report = crawl(CrawlConfig(seeds=(seed,), delay_s=0, timeout_s=1, **overrides), client=client, resolver=resolver)
    by_url = {u.url: u for u in report.urls}
    robots, page = by_url[seed.rstrip("/") + "/robots.txt"], by_url[seed]
    assert (robots.status, robots.kind) == (page.status, page.kind) == ("failed", kind)
    assert phrase in robots.reason and phrase in page.reason
    assert not any("robots.txt" in u.reason for u in report.urls)
    assert report.why_empty().startswith(f"nothing was fetched: {seed}: not crawled: ")
    assert phrase in report.why_empty()


def test_why_empty_is_none_when_pages_were_fetched(site):
    assert crawl(config(site, "/notes.txt", depth=0)).why_empty() is None
    assert crawl(config(site, "/private/secret", depth=0)).why_empty() == (
        f"nothing was fetched: {site.url('/private/secret')}: disallowed by robots.txt")
    assert crawl(config(site, "/missing", depth=0)).why_empty() == (
        f"no page gave text: {site.url('/missing')}: HTTP 404 Not Found")


@given(st.ip_addresses(v=4))
def test_every_embedding_of_a_refused_ipv4_is_refused(v4):
    """Whatever IPv4 the guard refuses, it refuses inside every IPv6 form that carries it."""
    import ipaddress

    n = int(v4)
    forms = {
        "mapped": (0xFFFF << 32) | n, "compatible": n, "translated": (0xFFFF << 48) | n,
        "6to4": (0x2002 << 112) | (n << 80), "nat64": (0x64FF9B << 96) | n,
        "teredo": (0x20010000 << 96) | (0x41366378 << 64) | (n ^ 0xFFFFFFFF),
        "isatap": (0x2600 << 112) | (0x5EFE << 32) | n,
    }
    if AddressPolicy().why_refused(str(v4)) is None:
        return
    for name, value in forms.items():
        if name == "compatible" and n <= 1:
            continue  # "::" and "::1" are themselves (unspecified, loopback)
        assert AddressPolicy().why_refused(str(ipaddress.IPv6Address(value))) is not None, name
