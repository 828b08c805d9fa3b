"""The Data page's "Crawl a website" tab: the form, a crawl running in a background thread,
a polling fragment with progress and a Stop button, and the per-URL report.

Why a thread: Streamlit cannot deliver a click while the script is blocked, so a crawl run
inside the script could never be stopped. `start()` puts a `CrawlJob` (the Crawler, its
thread, a stop Event, the latest progress) in this session's state; `progress_panel` is an
`st.fragment(run_every=...)` that redraws the bar and the Stop button, and reruns the whole
page once the thread has ended. The crawler calls back only on its own thread and never
touches Streamlit. Stopping keeps what was fetched: `Crawler.report()` is the partial report.

Crawled text and URLs are untrusted: they reach the page only through st.dataframe, or
through `md_literal` in a markdown line, never as HTML.

Private addresses (loopback, LAN, cloud metadata) are the operator's setting,
RAG_ALLOW_PRIVATE_URLS in the environment or .streamlit/secrets.toml, never a visitor's
control: on a shared server the crawl comes from the operator's network. A crawl that
fetched nothing is a warning that names why (offline, refused, ...), never a success.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

import pandas as pd
import streamlit as st

from rag_core.core.settings import OperatorSettings, current
from rag_core.ingest.crawl import KINDS, CrawlConfig, Crawler, CrawlReport

from ui import advice, state
from ui.advice import OPERATOR_SETTING, PRIVATE_HINT  # the operator's switch (environment, else secrets.toml)
from ui.widgets import md_literal

JOB = "crawl_job"
POLL_SECONDS = 0.5
SSRF_WARNING = ("Private addresses are off-limits by default because a crawl request comes from this server: "
                "a link or redirect could otherwise make it read internal services, admin pages on the local "
                "network, or the cloud metadata endpoint (169.254.169.254) and put their contents into your "
                "documents (server-side request forgery). Only allow this for sites you trust.")


def operator_allows_private(settings: OperatorSettings | None = None) -> bool:
    """Whether the server's operator allows crawling private addresses. It is configuration,
    never a visitor's control: on a shared server a visitor must not be able to point the
    crawler at the operator's network or the cloud metadata service. The environment wins
    over the secrets file (core/settings.py)."""
    return (settings or current()).enabled(OPERATOR_SETTING)


@dataclass
class CrawlJob:
    """One crawl owned by one session. Progress fields are written by the crawl thread."""

    crawler: Crawler
    stop: threading.Event = field(default_factory=threading.Event)
    thread: threading.Thread | None = None
    done: int = 0
    total: int = 0
    current: str = ""
    error: str = ""
    final: CrawlReport | None = None
    collected: bool = False  # the page has switched to its documents once

    @property
    def running(self) -> bool:
        return self.thread is not None and self.thread.is_alive()

    def progress(self, done: int, total: int, url: str) -> None:
        self.done, self.total, self.current = done, total, url

    def report(self) -> CrawlReport:
        return self.final if self.final is not None else self.crawler.report()

    def _run(self) -> None:
        try:
            self.final = self.crawler.run(self.progress, self.stop.is_set)
        except Exception as exc:  # noqa: BLE001 - shown on the page; the partial report is kept
            self.error = f"{type(exc).__name__}: {exc}"
            self.final = self.crawler.report()


def lines(text: str) -> tuple[str, ...]:
    return tuple(line.strip() for line in (text or "").splitlines() if line.strip())


def config_from_state() -> CrawlConfig:
    """The form's values as a CrawlConfig (raises ConfigError with a what-to-do message)."""
    return CrawlConfig(
        seeds=lines(state.get("crawl_urls", "")), depth=int(state.get("crawl_depth", 1)),
        max_pages=int(state.get("crawl_max_pages", 50)), sitemap=bool(state.get("crawl_sitemap", False)),
        include=lines(state.get("crawl_include", "")), exclude=lines(state.get("crawl_exclude", "")),
        allow_private=operator_allows_private(),
        delay_s=float(state.get("crawl_delay", 0.5)), concurrency=int(state.get("crawl_concurrency", 2)),
    )


def current_job() -> CrawlJob | None:
    return st.session_state.get(JOB)


def start(config: CrawlConfig, client=None, resolver=None) -> CrawlJob:
    """Start a crawl in a daemon thread owned by this session (stopping any earlier one)."""
    old = current_job()
    if old is not None and old.running:
        old.stop.set()
    job = CrawlJob(Crawler(config, client, resolver))
    job.thread = threading.Thread(target=job._run, name="crawl-session", daemon=True)
    st.session_state[JOB] = job
    job.thread.start()
    return job


def form() -> bool:
    """The crawl controls; True when Start was pressed."""
    job = current_job()
    st.text_area("URLs to crawl, one per line", key=state.default("crawl_urls", ""),
                 placeholder="https://docs.example.com/")
    c1, c2, c3 = st.columns(3)
    c1.number_input("Depth (links from a seed)", 0, 10, key=state.default("crawl_depth", 1))
    c2.number_input("Max pages", 1, 5000, key=state.default("crawl_max_pages", 50))
    c3.checkbox("Use the sitemap", key=state.default("crawl_sitemap", False),
                help="Also start from the URLs listed in the site's sitemap.xml (found via robots.txt).")
    c1, c2 = st.columns(2)
    c1.text_area("Only URLs under these prefixes (optional, one per line)", key=state.default("crawl_include", ""),
                 help="Default: the seeds' own sites.")
    c2.text_area("Skip URLs matching (optional, one per line)", key=state.default("crawl_exclude", ""),
                 help="A pattern with * ? or [ is a glob over the whole URL; anything else a substring.")
    with st.expander("Politeness", expanded=False):
        p1, p2 = st.columns(2)
        p1.number_input("Seconds between requests to one site", 0.0, 10.0, step=0.1,
                        key=state.default("crawl_delay", 0.5), help="robots.txt may ask for more (capped at 10 s).")
        p2.number_input("Requests in flight", 1, 8, key=state.default("crawl_concurrency", 2))
    if operator_allows_private():
        st.warning(f"This server's operator allows crawling private addresses ({OPERATOR_SETTING}). "
                   + SSRF_WARNING, icon=":material/shield:")
    st.caption("robots.txt is obeyed, pages are fetched politely with an honest user agent, and every URL "
               "touched is listed below with what happened to it.")
    return st.button("Start crawl", key="crawl_start", type="primary", icon=":material/travel_explore:",
                     disabled=job is not None and job.running)


@st.fragment(run_every=POLL_SECONDS)
def progress_panel() -> None:
    """Redrawn every POLL_SECONDS while the crawl runs; reruns the page when it has ended."""
    job = current_job()
    if job is None:
        return
    if not job.running:
        st.rerun()  # the whole page: the report becomes its documents
    fraction = min(job.done / job.total, 1.0) if job.total else 0.0
    text = (f"{job.done} of {job.total} URLs — {md_literal(job.current)}" if job.total
            else "Starting: reading robots.txt and the seeds…")
    st.progress(fraction, text=text)
    if job.stop.is_set():
        st.caption("Stopping: waiting for the pages already in flight…")
    st.button("Stop", key="crawl_stop", icon=":material/stop_circle:", on_click=job.stop.set,
              disabled=job.stop.is_set(), help="Stop now and keep the pages fetched so far.")


def url_frame(report: CrawlReport) -> pd.DataFrame:
    return pd.DataFrame(
        [{"status": u.status, "kind": u.kind, "reason": advice.reason(u),
          "http status": u.http_status, "url": u.url, "final url": u.final_url} for u in report.urls],
        columns=["status", "kind", "reason", "http status", "url", "final url"],
    ).astype({"http status": "Int64"})


def counts_frame(report: CrawlReport) -> pd.DataFrame:
    rows = [{"status": status, "kind": kind, "meaning": KINDS.get(kind, ""), "URLs": n}
            for (status, kind), n in sorted(report.counts().items(), key=lambda kv: (kv[0][0], -kv[1]))]
    return pd.DataFrame(rows, columns=["status", "kind", "meaning", "URLs"])


def summary(report: CrawlReport) -> str:
    pages = len(report.sources)
    counts = (f"{len(report.fetched)} fetched, {len(report.skipped)} skipped, {len(report.failed)} failed; "
              f"{len(report.documents)} document(s) from {pages} page(s)")
    if report.stopped:
        return f"Crawl stopped after {report.seconds:.1f} s; kept what was fetched so far: {counts}."
    return f"Crawl finished in {report.seconds:.1f} s: {counts}."


def show_report(job: CrawlJob) -> None:
    report = job.report()
    if job.error:
        st.error(f"The crawl ended with an unexpected error ({md_literal(job.error[:200])}); "
                 "what was fetched before it is kept.", icon=":material/error:")
    empty = report.why_empty(advice.reason)  # private addresses: the operator's call, in the app's words
    if report.stopped or empty is None:
        (st.warning if report.stopped else st.success)(summary(report))
    else:  # a crawl that fetched nothing is not a success: name the cause (offline, refused, ...)
        st.warning(f"{summary(report)} {md_literal(empty[0].upper() + empty[1:])}.",
                   icon=":material/warning:")
    st.markdown("**What happened to each URL, by kind**")
    st.dataframe(counts_frame(report), hide_index=True, width="stretch")
    refused = [u for u in report.urls if u.kind == "private_address"]
    if refused and not job.crawler.config.allow_private:
        st.info(f"{len(refused)} URL(s) were refused because they resolve to a private address; "
                f"{PRIVATE_HINT}.", icon=":material/shield:")
    with st.expander(f"Per-URL report ({len(report.urls)} URLs)", expanded=True):
        st.dataframe(url_frame(report), hide_index=True, width="stretch")


def section() -> CrawlReport | None:
    """The whole tab. Returns the finished (or stopped) crawl's report, else None; the first
    time a report is ready it makes the crawl the page's data source."""
    if form():
        start(config_from_state())
    job = current_job()
    if job is None:
        return None
    if job.running:
        progress_panel()
        return None
    if not job.collected:
        job.collected = True
        st.session_state["data_source"] = "crawl"
        state.use_data_page_documents()
    show_report(job)
    return job.report()
