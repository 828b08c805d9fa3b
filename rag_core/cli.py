"""Headless command line: `python -m rag_core {demo,ingest,crawl,query,info,estimate,eval,bench} --help`.

Every command exits 0 on success, 2 with a one-line `error: ...` on bad input (a RagError),
and shows a progress bar on stderr for long work.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
from pathlib import Path
from typing import Sequence

from tqdm import tqdm

from . import cli_args as args_t
from . import costs
from .cli_eval import add_eval_parser
from .errors import RagError
from .cli_retrieval import add_retrieval_flags, base_settings
from .types import ChunkingConfig, Document


class _Progress:
    """Adapts the core's progress callback (done, total, label) to a tqdm bar that says the
    speed and the time left in words (`12.3 chunks/s, 00:25 left`): the first demo build
    takes tens of seconds on a busy 2-core machine. `unit` is plural (chunks, files, pages)."""

    FORMAT = ("{desc}: {percentage:3.0f}%|{bar}| {n_fmt}/{total_fmt}{unit} "
              "[{elapsed} elapsed, {rate_fmt}, {remaining} left]")

    def __init__(self, desc: str, unit: str, quiet: bool = False) -> None:
        self.bar: tqdm | None = None
        self.desc, self.unit, self.quiet = desc, unit, quiet

    def __call__(self, done: int, total: int, label: str) -> None:
        if self.quiet:
            return
        if self.bar is None:
            self.bar = tqdm(total=total, desc=self.desc, unit=" " + self.unit, file=sys.stderr, leave=False,
                            bar_format=self.FORMAT)
        self.bar.total = total
        self.bar.n = done
        self.bar.refresh()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _chunking(args: argparse.Namespace) -> ChunkingConfig | None:
    given = (args.strategy, args.chunk_size, args.chunk_overlap)
    if all(v is None for v in given):
        return None
    default = ChunkingConfig()
    return ChunkingConfig(
        strategy=args.strategy or default.strategy,
        size=args.chunk_size if args.chunk_size is not None else default.size,
        overlap=args.chunk_overlap if args.chunk_overlap is not None else default.overlap,
    )


def _credentials(args: argparse.Namespace):
    """Keys from .streamlit/secrets.toml, then the environment; --base-url is the compatible server's."""
    from .providers import load_credentials

    creds = load_credentials()
    base_url = getattr(args, "base_url", None)
    return creds.with_values(compatible_base_url=base_url) if base_url else creds


def _warn(message: str) -> None:
    print(f"warning: {message}", file=sys.stderr)


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


def _confirm_spend(args: argparse.Namespace, index, documents: Sequence[Document]) -> None:
    """A hosted embedder: show tokens and dollars for what would be embedded, and require --yes
    (or a y at an interactive prompt) before spending. A model with no price in the table is not
    free, its cost is unknown: it needs --yes too, unless it is a compatible server on this
    machine (e.g. Ollama on localhost)."""
    from .providers.metering import cost_model_of, unwrap

    texts = [c.text for c in index.pending_chunks(documents)]
    if not texts:
        return
    model = cost_model_of(index.embedder)
    table = costs.DEFAULT_PRICES
    if model not in table:
        tokens = costs.count_tokens(texts, costs.encoding_for_model(model))
        base_url = getattr(getattr(unwrap(index.embedder), "endpoint", None), "base_url", None)
        local = model.partition(":")[0] == "compatible" and _loopback(base_url)
        print(f"{index.embedder.name} will embed {len(texts)} chunks, about {tokens} tokens; no price in the table "
              f"for {model}: the cost is unknown" + (f" (a server on this machine, {base_url})" if local else ""),
              file=sys.stderr)
        if local:
            return
    else:
        estimate = costs.estimate_ingest_cost(texts, model, table)
        print(f"{index.embedder.name} will embed {estimate.n_texts} chunks, about {estimate.tokens} tokens: "
              f"~{costs.format_usd(estimate.cost_usd)} (prices as of {estimate.prices_as_of}; already-cached text "
              "is free)", file=sys.stderr)
    if getattr(args, "yes", False):
        return
    if sys.stdin.isatty():
        if input("spend it? [y/N] ").strip().lower() in ("y", "yes"):
            return
        raise RagError("ingest cancelled: nothing was sent and the index is unchanged")
    raise RagError("a hosted embedder costs money: rerun with --yes to confirm the "
                   + ("estimate above" if model in table else "unknown cost"))


def _index_documents(args: argparse.Namespace, documents: Sequence[Document], out: dict) -> int:
    from .index import open_for_ingest
    from .providers import is_hosted
    from .providers.metering import cost_model_of, reading

    index = open_for_ingest(args.index, args.embedder, args.store, _chunking(args),
                            credentials=_credentials(args), headers=True if getattr(args, "headers", False) else None,
                            on_warning=_warn)
    hosted = is_hosted(index.embedder.name)
    if hosted:
        _confirm_spend(args, index, documents)
    before = reading(index.embedder)
    progress = _Progress("embedding", "chunks", args.quiet)
    try:
        result = index.ingest(documents, progress)
    finally:
        progress.close()
    index.save()
    for note in index.notes:
        _warn(note)
    if hosted:
        spent = reading(index.embedder) - before
        model = cost_model_of(index.embedder)
        out.update(embedding_requests=spent.requests, embedding_tokens_estimated=result.embedding_tokens,
                   embedding_tokens_reported=spent.tokens,
                   cost_usd=round(costs.embedding_cost(model, spent.tokens or 0, costs.DEFAULT_PRICES), 8)
                   if model in costs.DEFAULT_PRICES else 0.0,
                   cost_model=model if model in costs.DEFAULT_PRICES else costs.unpriced(model))
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
    )
    return 0


def _print(out: dict, as_json: bool) -> None:
    if as_json:
        print(json.dumps(out, indent=2, ensure_ascii=False))
        return
    for key, value in out.items():
        if isinstance(value, list):
            print(f"{key}:")
            for item in value:
                print(f"  - {item}")
        else:
            print(f"{key}: {value}")


def cmd_demo(args: argparse.Namespace) -> int:
    from .demo import ATTRIBUTION, demo_documents

    out: dict = {}
    _index_documents(args, demo_documents(), out)
    out["attribution"] = ATTRIBUTION
    _print(out, args.json)
    return 0


def _load_files(args: argparse.Namespace) -> tuple[list[Document], dict]:
    """Files -> the documents ingest would index, and the report so far: the loaders with the
    size limits and csv column given, then the content filter. `estimate` calls this too, so
    it prices exactly the documents `ingest` would chunk and embed."""
    from .loaders import load_paths

    missing = [p for p in args.paths if not os.path.lexists(p)]
    if missing:
        raise RagError(f"no such file or folder: {', '.join(missing)}")
    progress = _Progress("loading", "files", args.quiet)
    try:
        report = load_paths(args.paths, max_bytes=int(args.max_file_mb * 1024 * 1024),
                            csv_text_column=args.csv_column, progress=progress,
                            max_total_bytes=int(args.max_total_mb * 1024 * 1024))
    finally:
        progress.close()
    out: dict = {
        "files_ingested": len(report.ingested),
        "files_skipped": [f"{f.source}: {f.reason}" for f in report.skipped],
    }
    notes = [f"{f.source}: {f.reason}" for f in report.ingested if f.reason]
    if notes:
        out["files_with_notes"] = notes
    return _filtered(args, report.documents, out), out


def cmd_ingest(args: argparse.Namespace) -> int:
    documents, out = _load_files(args)
    return _index_filtered(args, documents, out, "every file was skipped or filtered out (see above); "
                           "lower --min-words/--min-chars or check the files")


def _filtered(args: argparse.Namespace, loaded: Sequence[Document], out: dict) -> list[Document]:
    """The content filter; the rows it dropped per rule go into `out`."""
    from .table import content_filter, documents_frame, frame_to_documents

    filtered = content_filter(documents_frame(loaded), min_words=args.min_words, min_chars=args.min_chars)
    out.update(rows_loaded=len(loaded), rows_dropped_by_filter=filtered.dropped)
    return frame_to_documents(filtered.kept)


def _index_filtered(args: argparse.Namespace, documents: Sequence[Document], out: dict, why_empty: str) -> int:
    if not documents:
        _print(out, args.json)
        raise RagError(f"nothing to index: {why_empty}")
    _index_documents(args, documents, out)
    _print(out, args.json)
    return 0


def _filter_and_index(args: argparse.Namespace, loaded: Sequence[Document], out: dict, why_empty: str) -> int:
    """The content filter (rows dropped per rule are reported), then indexing of what is left."""
    return _index_filtered(args, _filtered(args, loaded, out), out, why_empty)


def cmd_crawl(args: argparse.Namespace) -> int:
    from .crawl import CrawlConfig, crawl

    config = CrawlConfig(
        seeds=tuple(args.urls), depth=args.depth, max_pages=args.max_pages, sitemap=args.sitemap,
        include=tuple(args.include or ()), exclude=tuple(args.exclude or ()), allow_private=args.allow_private,
        delay_s=args.delay, concurrency=args.concurrency, timeout_s=args.timeout,
        max_bytes=int(args.max_page_mb * 1024 * 1024),
    )
    progress = _Progress("crawling", "pages", args.quiet)
    try:
        report = crawl(config, progress=progress)  # Ctrl-C stops the crawl and keeps what was fetched
    finally:
        progress.close()
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
        out["urls"] = [dataclasses.asdict(u) for u in report.urls]
    else:
        out["urls"] = [f"{u.status:<7} {u.kind:<18} {u.url}" + (f" -> {u.final_url}" if u.final_url else "")
                       + (f"  ({u.reason})" if u.reason else "") for u in report.urls]
    why = report.why_empty()  # offline, refused, ...: the real cause, not a generic hint
    return _filter_and_index(args, report.documents, out, f"{why} (see the per-URL report above)" if why else
                             "no page gave text (see the per-URL report above); "
                             "check the URL, --include/--exclude, --depth, or --allow-private for a local site")


def _answer_embedder(llm: str, index_embedder):
    """The offline answerer's sentence embedder: the index's own when local (no second model),
    the local MiniLM when the index's is hosted (sentences are never sent to a paid API)."""
    from .embeddings import DEFAULT_EMBEDDER, create_embedder
    from .providers import is_hosted

    if is_hosted(llm):
        return None
    return create_embedder(DEFAULT_EMBEDDER) if is_hosted(index_embedder.name) else index_embedder


def cmd_query(args: argparse.Namespace) -> int:
    from .index import Index
    from .llm import create_llm
    from .pipeline import Pipeline, cost_models_for
    from .rerank import create_reranker

    template = Path(args.template).read_text() if args.template else None
    credentials = _credentials(args)
    index = Index.open(args.index, credentials=credentials, on_warning=_warn)
    llm = create_llm(args.llm, credentials=credentials, embedder=_answer_embedder(args.llm, index.embedder))
    reranker = create_reranker(args.reranker, credentials=credentials, on_warning=_warn)
    pipeline = Pipeline(index, llm, reranker, cost_models=cost_models_for(llm, index.embedder, reranker),
                        **({"template": template} if template else {}))
    settings = dataclasses.replace(
        base_settings(args),
        top_k=args.top_k,
        score_threshold=args.threshold,
        sources=tuple(args.source) if args.source else None,
        reranker=reranker.name if reranker is not None else None,
    )
    turn = pipeline.ask(args.question, settings)
    for note in index.notes:
        _warn(note)
    for delta in turn:
        if not args.json:
            print(delta, end="", flush=True)
    answer = turn.answer
    assert answer is not None
    stages = turn.costs.stages if turn.costs else ()
    if args.json:
        out = answer_to_json(answer)
        out["usage"]["stages"] = [dict(dataclasses.asdict(s), cost_usd=round(s.cost_usd, 8)) for s in stages]
        print(json.dumps(out, indent=2, ensure_ascii=False))
        return 0
    print("\n")
    for hit in answer.hits:
        if hit.is_neighbour:
            print(f"    + neighbour of [{hit.rank}]  {hit.chunk.source} — {hit.chunk.section}")
            continue
        every = " · ".join(f"{s.kind} {s.value:.3f} (#{s.rank})" for s in hit.all_scores[:-1])
        print(f"[{hit.rank}] {hit.score:.3f} {hit.score_kind}{f'  ({every})' if every else ''}  "
              f"{hit.chunk.source} — {hit.chunk.section}")
    for hit in answer.below_threshold:
        print(f"    below threshold: {hit.score:.3f} {hit.score_kind}  {hit.chunk.source} — {hit.chunk.section}")
    u = answer.usage
    print(f"\ntokens: {u.embedding_tokens} embedding, {u.prompt_tokens} prompt, {u.completion_tokens} completion; "
          f"{costs.format_usd(u.cost_usd)} on {u.cost_model}")
    for s in stages:
        tokens = f"{s.searches} searches" if s.stage == "rerank" else (
            f"{s.tokens} tokens ({s.source}; tiktoken {s.estimated_tokens})")
        print(f"  {s.stage}: {tokens}, {costs.format_usd(s.cost_usd)} {'would cost ' if s.would_cost else ''}on {s.model}")
    return 0


def answer_to_json(answer) -> dict:
    u = answer.usage
    return {
        "answer": answer.text,
        "hits": [
            {
                "rank": h.rank,
                "score": round(h.score, 6),
                "score_kind": h.score_kind,
                "source": h.chunk.source,
                "section": h.chunk.section,
                "text": h.chunk.text,
                "chunk_id": h.chunk.chunk_id,
                **({"retrieval_rank": h.retrieval_rank, "retrieval_score": round(h.retrieval_score, 6),
                    "retrieval_score_kind": h.retrieval_score_kind} if h.retrieval_rank is not None else {}),
                "scores": [{"kind": s.kind, "value": round(s.value, 6), "rank": s.rank} for s in h.all_scores],
                "neighbour": h.is_neighbour,
                **({"neighbour_of": h.neighbour_of} if h.is_neighbour else {}),
            }
            for h in answer.hits
        ],
        "prompt": answer.prompt,
        "usage": {
            "embedding_tokens": u.embedding_tokens,
            "prompt_tokens": u.prompt_tokens,
            "completion_tokens": u.completion_tokens,
            "cost_usd": round(u.cost_usd, 8),
            "cost_model": u.cost_model,
            "latency_ms": {k: round(v, 2) for k, v in u.latency_ms.items()},
        },
    }


def cmd_info(args: argparse.Namespace) -> int:
    from .index import read_manifest

    manifest = read_manifest(args.index)
    out = dataclasses.asdict(manifest)
    out["chunking"] = dataclasses.asdict(manifest.chunking)
    out["n_sources"] = len(manifest.sources)
    if not args.json:
        out.pop("sources")
        if args.sources:  # what question sets' relevant_sources can name
            out["sources"] = sorted(manifest.sources)
    _print(out, args.json)
    return 0


def _chunks_to_embed(args: argparse.Namespace, documents: Sequence[Document]) -> list:
    """The chunks ingest would embed: with --index, only new or changed sources, chunked the
    way that index chunks (as Index.pending_chunks); else all of them, as a new index would."""
    from .chunking import chunk_documents
    from .index import read_manifest, source_hashes

    config, known = _chunking(args) or ChunkingConfig(), {}
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
    _print(out, args.json)
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    from .bench import micro_figures, run_bench

    if args.retrieval:
        from .bench_retrieval import run

        _print(run(quick=args.quick, progress=not args.quiet), args.json)
        return 0
    results = micro_figures() if args.micro else run_bench(quick=args.quick, progress=not args.quiet)
    _print(results, args.json)
    return 0


def _add_chunking(p: argparse.ArgumentParser) -> None:
    p.add_argument("--strategy", choices=["chars", "tokens", "recursive"], help="chunking strategy (default recursive)")
    p.add_argument("--chunk-size", type=args_t.chunk_size, help="chunk size in the strategy's unit (default 1000)")
    p.add_argument("--chunk-overlap", type=args_t.chunk_overlap, help="overlap in the strategy's unit (default 100)")


def _add_loading(p: argparse.ArgumentParser) -> None:
    """Loading and filter options: ingest and estimate share them, so they count the same."""
    p.add_argument("--max-file-mb", type=args_t.megabytes, default=50.0, help="skip files larger than this (default 50)")
    p.add_argument("--max-total-mb", type=args_t.megabytes, default=500.0,
                   help="skip the remaining files once this much has been loaded (default 500)")
    p.add_argument("--csv-column", help="text column of csv files (default: the longest text column)")
    p.add_argument("--min-words", type=args_t.count, default=15, help="drop rows with this many words or fewer (default 15)")
    p.add_argument("--min-chars", type=args_t.count, default=50, help="drop rows with this many characters or fewer (default 50)")


def _add_index_target(p: argparse.ArgumentParser) -> None:
    p.add_argument("--index", required=True, help="index directory (created if missing)")
    p.add_argument("--embedder", help="embedder name: local:all-MiniLM-L6-v2 (default), hashing, "
                   "openai:text-embedding-3-small, openai:text-embedding-3-large@256, cohere:embed-english-v3.0, "
                   "compatible:<model> (with --base-url)")
    p.add_argument("--store", choices=["numpy", "faiss", "faiss-hnsw"], help="vector store (default faiss)")
    _add_hosted(p)
    p.add_argument("--yes", action="store_true", help="confirm a hosted embedder's estimated spend without asking")
    p.add_argument("--headers", action="store_true",
                   help="contextual chunk headers: embed and BM25-index each chunk with its document title and "
                        "section path in front (the text shown is unchanged); an index option, set when it is created")
    _add_chunking(p)


def _add_hosted(p: argparse.ArgumentParser) -> None:
    p.add_argument("--base-url", help="base URL of an OpenAI-compatible server for compatible:<model> names, "
                   "e.g. http://localhost:11434/v1 (keys: OPENAI_API_KEY, COHERE_API_KEY, COMPATIBLE_API_KEY "
                   "or .streamlit/secrets.toml; OPENAI_BASE_URL / COHERE_BASE_URL for proxies)")


def build_parser() -> argparse.ArgumentParser:
    parser = args_t.Parser(prog="python -m rag_core", description="RAG Playground core, headless.")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--quiet", action="store_true", help="no progress bars")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("demo", parents=[common], help="build an index of the bundled demo corpus (Wikipedia summaries)")
    _add_index_target(p)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("ingest", parents=[common], help="load files/folders and add them to an index")
    p.add_argument("paths", nargs="+", help="files, folders or zip archives (pdf, docx, txt, md, html, csv); "
                   "sources are named relative to a folder given, or by a file's name")
    _add_index_target(p)
    _add_loading(p)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_ingest)

    p = sub.add_parser("crawl", parents=[common], help="crawl web pages (politely, same site) and add them to an index")
    p.add_argument("urls", nargs="+", help="http(s) start URLs")
    _add_index_target(p)
    p.add_argument("--depth", type=args_t.integer(0, 100), default=2, help="links to follow from a start URL (default 2)")
    p.add_argument("--max-pages", type=args_t.integer(1, 10**6), default=200, help="stop after fetching this many pages (default 200)")
    p.add_argument("--sitemap", action="store_true", help="also start from the site's sitemap.xml (and indexes)")
    p.add_argument("--include", action="append", metavar="PREFIX",
                   help="only crawl URLs under this prefix (repeatable; default: the start URLs' sites)")
    p.add_argument("--exclude", action="append", metavar="PATTERN",
                   help="skip URLs containing this text, or matching this glob with * (repeatable)")
    p.add_argument("--allow-private", action="store_true",
                   help="allow loopback/private/link-local addresses (off by default: SSRF protection)")
    p.add_argument("--delay", type=args_t.delay_seconds, default=0.5, help="seconds between requests to one host (default 0.5)")
    p.add_argument("--concurrency", type=args_t.integer(1, 8), default=2, help="requests in flight (default 2, max 8)")
    p.add_argument("--timeout", type=args_t.seconds, default=10.0,
                   help="seconds per request, connect to last byte (default 10)")
    p.add_argument("--max-page-mb", type=args_t.megabytes, default=5.0, help="skip responses larger than this (default 5)")
    p.add_argument("--min-words", type=args_t.count, default=15, help="drop rows with this many words or fewer (default 15)")
    p.add_argument("--min-chars", type=args_t.count, default=50, help="drop rows with this many characters or fewer (default 50)")
    p.add_argument("--json", action="store_true", help="print one JSON object with the per-URL report")
    p.set_defaults(func=cmd_crawl)

    _add_query_and_tool_parsers(sub, common)
    add_eval_parser(sub, common)
    return parser


def _add_query_and_tool_parsers(sub, common: argparse.ArgumentParser) -> None:
    """query, info, estimate and bench (build_parser stays under 60 lines)."""
    p = sub.add_parser("query", parents=[common], help="ask a question against an index")
    p.add_argument("question")
    p.add_argument("--index", required=True)
    p.add_argument("--top-k", type=args_t.top_k, default=5)
    p.add_argument("--threshold", type=args_t.threshold, default=None, help="minimum first-stage score (cosine)")
    p.add_argument("--reranker", default=None, help="none, pool-bm25, pool-rrf (re-order the dense candidates only) or cohere:rerank-v3.5")
    p.add_argument("--llm", default="extractive",
                   help="answerer: extractive (default, offline), openai:gpt-4o-mini, compatible:<model>")
    _add_hosted(p)
    p.add_argument("--source", action="append", help="only search this source (repeatable)")
    p.add_argument("--template", help="file with a prompt template using {context} and {question}")
    add_retrieval_flags(p)
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=cmd_query)

    p = sub.add_parser("info", parents=[common], help="show an index's manifest")
    p.add_argument("--index", required=True)
    p.add_argument("--sources", action="store_true", help="list the index's sources (what relevant_sources name)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_info)

    p = sub.add_parser("estimate", parents=[common], help="tokens and dollars to embed files with a hosted model, "
                       "before spending (the same loading, filter and chunking as ingest)")
    p.add_argument("paths", nargs="+")
    p.add_argument("--model", default=costs.DEFAULT_EMBED_COST_MODEL)
    p.add_argument("--index", help="count only what ingest into this index would embed, chunked its way")
    _add_loading(p)
    _add_chunking(p)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_estimate)

    p = sub.add_parser("bench", parents=[common], help="benchmarks as ratios to raw baselines measured in the same run")
    p.add_argument("--json", action="store_true")
    p.add_argument("--quick", action="store_true", help="10k instead of 100k chunks for the large-index figures")
    p.add_argument("--micro", action="store_true", help="only the micro figures (prompt build ms, demo chunking s)")
    p.add_argument("--retrieval", action="store_true",
                   help="only the retrieval figures: hybrid vs dense query p50, BM25 build share of the demo ingest, "
                        "a 12-setting x 1,000-question sweep (100k chunks; 10k with --quick)")
    p.set_defaults(func=cmd_bench)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except RagError as exc:
        from .providers import Credentials, redact

        print(f"error: {redact(exc, Credentials.from_env())}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"error: {exc.strerror or exc}: {exc.filename or ''}".rstrip(": "), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted: the index on disk is unchanged", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - a bug: still one line, the traceback on request
        if os.environ.get("RAG_DEBUG"):
            raise
        from .providers import Credentials, redact

        print(f"error: unexpected {type(exc).__name__}: {redact(exc, Credentials.from_env())} "
              "(a bug: rerun with RAG_DEBUG=1 for the traceback and report it)", file=sys.stderr)
        return 1
