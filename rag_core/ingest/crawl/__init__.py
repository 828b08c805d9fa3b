"""Polite, bounded, SSRF-safe web crawler: URLs -> Documents (source = URL) + a per-URL report.

    report = crawl(CrawlConfig(seeds=("https://docs.example.com/",), depth=2, max_pages=200))
    report.documents          # Document(source=url, section=heading path, text=...)
    report.urls               # UrlStatus(url, status, reason, http_status, n_documents, depth, kind, ...)

Modules: urls.py (normalisation, scope), safety.py (address checks, the guarded transport
and the per-request deadline; read its docstring for how DNS-rebinding is closed),
decoding.py (content encodings under one cap), causes.py (network failures in words),
sitemap.py, crawler.py (the loop). `CrawlReport.why_empty()` names why nothing was fetched.
"""

from rag_core.ingest.crawl.crawler import (
    DEFAULT_USER_AGENT,
    KINDS,
    CrawlConfig,
    Crawler,
    CrawlReport,
    UrlStatus,
    crawl,
    safe_client,
)
from rag_core.core.safety import AddressPolicy, AddressRefused, Resolver, system_resolver
from rag_core.core.transport import SafeTransport
from rag_core.ingest.crawl.urls import BadUrl, Scope, normalize_url

__all__ = [
    "DEFAULT_USER_AGENT", "KINDS", "AddressPolicy", "AddressRefused", "BadUrl", "CrawlConfig", "CrawlReport",
    "Crawler", "Resolver", "SafeTransport", "Scope", "UrlStatus", "crawl", "normalize_url", "safe_client",
    "system_resolver",
]
