"""`demo`, `ingest`, `crawl` and `estimate`: documents in, an index (or a price) out.

A hosted embedder shows the spend estimate first and needs `--yes` (or a y at a prompt).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
from pathlib import Path
from typing import Sequence

from rag_core import costs
from rag_core.core.errors import RagError
from rag_core.core.types import ChunkingConfig, Document
from rag_core.cli import advice
from rag_core.cli import args as types
from rag_core.cli.common import (Progress, add_chunking, add_filter, add_index_target, add_json, add_loading, chunking,
                     credentials, print_out, warn)
from rag_core.providers.metering import cost_model_of, unwrap
from rag_core.providers.metering import reading
from rag_core.evaluation.experiments import open_to_build
from rag_core.providers import is_hosted
from rag_core.ingest.demo import ATTRIBUTION, demo_documents
from rag_core.ingest.loaders import load_paths
from rag_core.ingest.table import content_filter, documents_frame, frame_to_documents
from rag_core.ingest.crawl import CrawlConfig, crawl
from rag_core.ingest.chunking import chunk_documents
from rag_core.index.index import read_manifest, source_hashes


def _loopback(url: str | None) -> bool:
    """True when `url`'s host is this machine (localhost, 127.0.0.0/8, ::1)."""
    import ipaddress
    from urllib.parse import urlsplit

    try:
        host = urlsplit(url or "").hostname or ""
    except ValueError:
        return False
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def confirm_spend(args: argparse.Namespace, index, documents: Sequence[Document]) -> None:
    """A hosted embedder: show tokens and dollars for what would be embedded, and require --yes
    (or a y at an interactive prompt) before spending. A model with no price in the table is not
    free, its cost is unknown: it needs --yes too, unless it is a compatible server on this
    machine (e.g. Ollama on localhost)."""

    texts = [c.text for c in index.pending_chunks(documents)]
    if not texts:
        return
    plan = costs.estimate_spend(texts, cost_model_of(index.embedder), costs.DEFAULT_PRICES)
    if not plan.priced:
        base_url = getattr(getattr(unwrap(index.embedder), "endpoint", None), "base_url", None)
        local = plan.model.partition(":")[0] == "compatible" and _loopback(base_url)
        print(f"{index.embedder.name} will embed {plan.n_texts} chunks, about {plan.tokens} tokens; no price in the "
              f"table for {plan.model}: the cost is unknown" + (f" (a server on this machine, {base_url})" if local
                                                                else ""), file=sys.stderr)
        if local:
            return
    else:
        print(f"{index.embedder.name} will embed {plan.n_texts} chunks, about {plan.tokens} tokens: "
              f"~{costs.format_usd(plan.cost_usd or 0.0)} (prices as of {plan.prices_as_of}; already-cached text "
              "is free)", file=sys.stderr)
    if getattr(args, "yes", False):
        return
    if sys.stdin.isatty():
        if input("spend it? [y/N] ").strip().lower() in ("y", "yes"):
            return
        raise RagError("ingest cancelled: nothing was sent and the index is unchanged")
    raise RagError("a hosted embedder costs money: rerun with --yes to confirm the "
                   + ("estimate above" if plan.priced else "unknown cost"))


def _spent(index, before, estimated_tokens: int) -> dict:
    """What a hosted embedder's API reported for this ingest, priced from the table."""

    spent = reading(index.embedder) - before
    model = cost_model_of(index.embedder)
    priced = model in costs.DEFAULT_PRICES
    return dict(embedding_requests=spent.requests, embedding_tokens_estimated=estimated_tokens,
                embedding_tokens_reported=spent.tokens,
                cost_usd=round(costs.embedding_cost(model, spent.tokens or 0, costs.DEFAULT_PRICES), 8)
                if priced else 0.0,
                cost_model=model if priced else costs.unpriced(model))


def index_documents(args: argparse.Namespace, documents: Sequence[Document], out: dict) -> int:
    index, replacing = open_to_build(args.index, args.embedder, args.store, chunking(args),
                                     replace=getattr(args, "replace", False), credentials=credentials(args),
                                     headers=True if getattr(args, "headers", False) else None,
                                     on_warning=warn)
    hosted = is_hosted(index.embedder.name)
    if hosted:
        confirm_spend(args, index, documents)
    before = reading(index.embedder)
    progress = Progress("embedding", "chunks", args.quiet)
    try:
        result = index.ingest(documents, progress)
    finally:
        progress.close()
    index.save()
    for note in index.notes:
        warn(note)
    if hosted:
        out.update(_spent(index, before, result.embedding_tokens))
    out.update(
        index=str(args.index),
        embedder=index.manifest.embedder,
        store=index.manifest.store,
        headers=index.manifest.headers,
        added=len(result.added),
        replaced=len(result.replaced),
        unchanged=len(result.unchanged),
        chunks_added=result.n_chunks,
        chunks_total=index.manifest.n_chunks,
        seconds=round(result.seconds, 2),
        **({"replaced_index": True} if replacing else {}),
    )
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    out: dict = {}
    index_documents(args, demo_documents(), out)
    out["attribution"] = ATTRIBUTION
    print_out(out, args.json)
    return 0


def _load_files(args: argparse.Namespace) -> tuple[list[Document], dict]:
    """Files -> the documents ingest would index, and the report so far: the loaders with the
    size limits and csv column given, then the content filter. `estimate` calls this too, so
    it prices exactly the documents `ingest` would chunk and embed."""

    missing = [p for p in args.paths if not os.path.lexists(p)]
    if missing:
        raise RagError(f"no such file or folder: {', '.join(missing)}")
    progress = Progress("loading", "files", args.quiet)
    try:
        report = load_paths(args.paths, max_bytes=int(args.max_file_mb * 1024 * 1024),
                            csv_text_column=args.csv_column, progress=progress,
                            max_total_bytes=int(args.max_total_mb * 1024 * 1024))
    finally:
        progress.close()
    out: dict = {
        "files_ingested": len(report.ingested),
        "files_skipped": [f"{f.source}: {advice.reason(f)}" for f in report.skipped],
    }
    notes = [f"{f.source}: {advice.reason(f)}" for f in report.ingested if f.reason]
    if notes:
        out["files_with_notes"] = notes
    return _filtered(args, report.documents, out), out


def cmd_ingest(args: argparse.Namespace) -> int:
    documents, out = _load_files(args)
    return _index_filtered(args, documents, out, "every file was skipped or filtered out (see above); "
                           "lower --min-words/--min-chars or check the files")


def _filtered(args: argparse.Namespace, loaded: Sequence[Document], out: dict) -> list[Document]:
    """The content filter; the rows it dropped per rule go into `out`."""

    filtered = content_filter(documents_frame(loaded), min_words=args.min_words, min_chars=args.min_chars)
    out.update(rows_loaded=len(loaded), rows_dropped_by_filter=filtered.dropped)
    return frame_to_documents(filtered.kept)


def _index_filtered(args: argparse.Namespace, documents: Sequence[Document], out: dict, why_empty: str) -> int:
    if not documents:
        print_out(out, args.json)
        raise RagError(f"nothing to index: {why_empty}")
    index_documents(args, documents, out)
    print_out(out, args.json)
    return 0


def _crawl_out(args: argparse.Namespace, report) -> dict:
    """The crawl's per-URL report: counts and rows as JSON, or one aligned line per URL."""
    counts: dict[str, int] = {}
    for u in report.urls:
        counts[f"{u.status}: {u.kind}"] = counts.get(f"{u.status}: {u.kind}", 0) + 1
    out: dict = {
        "pages_fetched": sum(u.status == "fetched" and u.n_documents > 0 for u in report.urls),
        "urls_skipped": len(report.skipped),
        "urls_failed": len(report.failed),
        "stopped": report.stopped,
        "seconds": report.seconds,
    }
    if args.json:
        out["counts"] = counts
        # the JSON contract's keys; the reason in the CLI's words (its kind is already a key)
        out["urls"] = [{k: v for k, v in dataclasses.asdict(u).items() if k != "values"} | {"reason": advice.reason(u)}
                       for u in report.urls]
    else:
        out["urls"] = [f"{u.status:<7} {u.kind:<18} {u.url}" + (f" -> {u.final_url}" if u.final_url else "")
                       + (f"  ({advice.reason(u)})" if u.reason else "") for u in report.urls]
    return out


def cmd_crawl(args: argparse.Namespace) -> int:
    config = CrawlConfig(
        seeds=tuple(args.urls), depth=args.depth, max_pages=args.max_pages, sitemap=args.sitemap,
        include=tuple(args.include or ()), exclude=tuple(args.exclude or ()), allow_private=args.allow_private,
        delay_s=args.delay, concurrency=args.concurrency, timeout_s=args.timeout,
        max_bytes=int(args.max_page_mb * 1024 * 1024),
    )
    progress = Progress("crawling", "pages", args.quiet)
    try:
        report = crawl(config, progress=progress)  # Ctrl-C stops the crawl and keeps what was fetched
    finally:
        progress.close()
    out = _crawl_out(args, report)
    why = report.why_empty(advice.reason)  # offline, refused, ...: the real cause, not a generic hint
    return _index_filtered(args, _filtered(args, report.documents, out), out,
                           f"{why} (see the per-URL report above)" if why else
                           "no page gave text (see the per-URL report above); "
                           "check the URL, --include/--exclude, --depth, or --allow-private for a local site")


def _chunks_to_embed(args: argparse.Namespace, documents: Sequence[Document]) -> list:
    """The chunks ingest would embed: with --index, only new or changed sources, chunked the
    way that index chunks (as Index.pending_chunks); else all of them, as a new index would."""

    config, known = chunking(args) or ChunkingConfig(), {}
    if getattr(args, "index", None) and Path(args.index).exists():
        manifest = read_manifest(args.index)
        config, known = manifest.chunking, manifest.sources
    todo = {s for s, h in source_hashes(documents).items() if known.get(s) != h}
    return chunk_documents([d for d in documents if d.source in todo], config)


def cmd_estimate(args: argparse.Namespace) -> int:
    documents, loaded = _load_files(args)  # the same loading and filter as ingest
    chunks = _chunks_to_embed(args, documents)
    estimate = costs.estimate_ingest_cost([c.text for c in chunks], args.model)
    out = dataclasses.asdict(estimate)
    out["chunks"] = len(chunks)
    out.update(loaded)
    print_out(out, args.json)
    return 0


# ---- parsers ------------------------------------------------------------------------------------


def add_demo(p: argparse.ArgumentParser) -> None:
    add_index_target(p)
    add_json(p)
    p.set_defaults(func=cmd_demo)


def add_ingest(p: argparse.ArgumentParser) -> None:
    p.add_argument("paths", nargs="+", help="files, folders or zip archives (pdf, docx, txt, md, html, csv); "
                   "sources are named relative to a folder given, or by a file's name")
    add_index_target(p)
    add_loading(p)
    add_json(p)
    p.set_defaults(func=cmd_ingest)


def add_crawl(p: argparse.ArgumentParser) -> None:
    p.add_argument("urls", nargs="+", help="http(s) start URLs")
    add_index_target(p)
    p.add_argument("--depth", type=types.integer(0, 100), default=2, help="links to follow from a start URL (default 2)")
    p.add_argument("--max-pages", type=types.integer(1, 10**6), default=200,
                   help="stop after fetching this many pages (default 200)")
    p.add_argument("--sitemap", action="store_true", help="also start from the site's sitemap.xml (and indexes)")
    p.add_argument("--include", action="append", metavar="PREFIX",
                   help="only crawl URLs under this prefix (repeatable; default: the start URLs' sites)")
    p.add_argument("--exclude", action="append", metavar="PATTERN",
                   help="skip URLs containing this text, or matching this glob with * (repeatable)")
    p.add_argument("--allow-private", action="store_true",
                   help="allow loopback/private/link-local addresses (off by default: SSRF protection)")
    p.add_argument("--delay", type=types.delay_seconds, default=0.5,
                   help="seconds between requests to one host (default 0.5)")
    p.add_argument("--concurrency", type=types.integer(1, 8), default=2, help="requests in flight (default 2, max 8)")
    p.add_argument("--timeout", type=types.seconds, default=10.0,
                   help="seconds per request, connect to last byte (default 10)")
    p.add_argument("--max-page-mb", type=types.megabytes, default=5.0, help="skip responses larger than this (default 5)")
    add_filter(p)
    add_json(p, "print one JSON object with the per-URL report")
    p.set_defaults(func=cmd_crawl)


def add_estimate(p: argparse.ArgumentParser) -> None:
    p.add_argument("paths", nargs="+")
    p.add_argument("--model", default=costs.DEFAULT_EMBED_COST_MODEL)
    p.add_argument("--index", help="count only what ingest into this index would embed, chunked its way")
    add_loading(p)
    add_chunking(p)
    add_json(p)
    p.set_defaults(func=cmd_estimate)


