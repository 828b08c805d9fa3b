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

from . import costs
from .cli_eval import add_eval_parser
from .errors import RagError
from .types import ChunkingConfig, Document, RetrievalSettings


class _Progress:
    """Adapts the core's progress callback (done, total, label) to a tqdm bar."""

    def __init__(self, desc: str, unit: str, quiet: bool = False) -> None:
        self.bar: tqdm | None = None
        self.desc, self.unit, self.quiet = desc, unit, quiet

    def __call__(self, done: int, total: int, label: str) -> None:
        if self.quiet:
            return
        if self.bar is None:
            self.bar = tqdm(total=total, desc=self.desc, unit=self.unit, file=sys.stderr, leave=False)
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
                            credentials=_credentials(args), on_warning=_warn)
    hosted = is_hosted(index.embedder.name)
    if hosted:
        _confirm_spend(args, index, documents)
    before = reading(index.embedder)
    progress = _Progress("embedding", "chunk", args.quiet)
    try:
        result = index.ingest(documents, progress)
    finally:
        progress.close()
    index.save()
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


def cmd_ingest(args: argparse.Namespace) -> int:
    from .loaders import load_paths

    missing = [p for p in args.paths if not Path(p).exists()]
    if missing:
        raise RagError(f"no such file or folder: {', '.join(missing)}")
    progress = _Progress("loading", "file", args.quiet)
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
    return _filter_and_index(args, report.documents, out, "every file was skipped or filtered out (see above); "
                             "lower --min-words/--min-chars or check the files")


def _filter_and_index(args: argparse.Namespace, loaded: Sequence[Document], out: dict, why_empty: str) -> int:
    """The content filter (rows dropped per rule are reported), then indexing of what is left."""
    from .table import content_filter, documents_frame, frame_to_documents

    filtered = content_filter(documents_frame(loaded), min_words=args.min_words, min_chars=args.min_chars)
    documents = frame_to_documents(filtered.kept)
    out.update(rows_loaded=len(loaded), rows_dropped_by_filter=filtered.dropped)
    if not documents:
        _print(out, args.json)
        raise RagError(f"nothing to index: {why_empty}")
    _index_documents(args, documents, out)
    _print(out, args.json)
    return 0


def cmd_crawl(args: argparse.Namespace) -> int:
    from .crawl import CrawlConfig, crawl

    config = CrawlConfig(
        seeds=tuple(args.urls), depth=args.depth, max_pages=args.max_pages, sitemap=args.sitemap,
        include=tuple(args.include or ()), exclude=tuple(args.exclude or ()), allow_private=args.allow_private,
        delay_s=args.delay, concurrency=args.concurrency, timeout_s=args.timeout,
        max_bytes=int(args.max_page_mb * 1024 * 1024),
    )
    progress = _Progress("crawling", "page", args.quiet)
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
    return _filter_and_index(args, report.documents, out, "no page gave text (see the per-URL report above); "
                             "check the URL, --include/--exclude, --depth, or --allow-private for a local site")


def cmd_query(args: argparse.Namespace) -> int:
    from .index import Index
    from .llm import create_llm
    from .pipeline import Pipeline, cost_models_for
    from .rerank import create_reranker

    template = Path(args.template).read_text() if args.template else None
    credentials = _credentials(args)
    index = Index.open(args.index, credentials=credentials, on_warning=_warn)
    llm = create_llm(args.llm, credentials=credentials)
    reranker = create_reranker(args.reranker, credentials=credentials)
    pipeline = Pipeline(index, llm, reranker, cost_models=cost_models_for(llm, index.embedder, reranker),
                        **({"template": template} if template else {}))
    settings = RetrievalSettings(
        top_k=args.top_k,
        score_threshold=args.threshold,
        sources=tuple(args.source) if args.source else None,
        reranker=args.reranker,
        llm=args.llm,
    )
    turn = pipeline.ask(args.question, settings)
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
        was = (f"  (retrieval #{hit.retrieval_rank}, {hit.retrieval_score:.3f} {hit.retrieval_score_kind})"
               if hit.retrieval_rank is not None else "")
        print(f"[{hit.rank}] {hit.score:.3f} {hit.score_kind}{was}  {hit.chunk.source} — {hit.chunk.section}")
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
    _print(out, args.json)
    return 0


def cmd_estimate(args: argparse.Namespace) -> int:
    from .chunking import chunk_documents
    from .loaders import load_paths

    report = load_paths(args.paths)
    chunks = chunk_documents(report.documents, _chunking(args) or ChunkingConfig())
    estimate = costs.estimate_ingest_cost([c.text for c in chunks], args.model)
    out = dataclasses.asdict(estimate)
    out["files_skipped"] = [f"{f.source}: {f.reason}" for f in report.skipped]
    _print(out, args.json)
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    from .bench import run_bench

    if args.store == "pgvector":
        from .bench_pgvector import run_pgvector_bench

        results = run_pgvector_bench(n=args.vectors, quick=args.quick, progress=not args.quiet,
                                     dsn=args.dsn, rounds=args.rounds, hnsw_m=args.hnsw_m,
                                     ef_construction=args.ef_construction, lexical=args.lexical)
    else:
        results = run_bench(quick=args.quick, progress=not args.quiet)
    _print(results, args.json)
    return 0


def _add_chunking(p: argparse.ArgumentParser) -> None:
    p.add_argument("--strategy", choices=["chars", "tokens", "recursive"], help="chunking strategy (default recursive)")
    p.add_argument("--chunk-size", type=int, help="chunk size in the strategy's unit (default 1000)")
    p.add_argument("--chunk-overlap", type=int, help="overlap in the strategy's unit (default 100)")


def _add_index_target(p: argparse.ArgumentParser) -> None:
    p.add_argument("--index", required=True, help="index directory (created if missing)")
    p.add_argument("--embedder", help="embedder name: local:all-MiniLM-L6-v2 (default), hashing, "
                   "openai:text-embedding-3-small, openai:text-embedding-3-large@256, cohere:embed-english-v3.0, "
                   "compatible:<model> (with --base-url)")
    p.add_argument("--store", choices=["numpy", "faiss", "faiss-hnsw", "pgvector", "pgvector-hnsw"],
                   help="vector store (default faiss); pgvector keeps the index in PostgreSQL")
    _add_hosted(p)
    _add_dsn(p)
    p.add_argument("--yes", action="store_true", help="confirm a hosted embedder's estimated spend without asking")
    _add_chunking(p)


def _add_hosted(p: argparse.ArgumentParser) -> None:
    p.add_argument("--base-url", help="base URL of an OpenAI-compatible server for compatible:<model> names, "
                   "e.g. http://localhost:11434/v1 (keys: OPENAI_API_KEY, COHERE_API_KEY, COMPATIBLE_API_KEY "
                   "or .streamlit/secrets.toml; OPENAI_BASE_URL / COHERE_BASE_URL for proxies)")


def _add_dsn(p: argparse.ArgumentParser) -> None:
    p.add_argument("--dsn", help="PostgreSQL for the pgvector stores, e.g. postgresql://user:password@host:5432/db "
                   "(default: RAG_PG_DSN, .streamlit/secrets.toml, else an embedded server under the app's home)")


def _add_bench_pgvector(p: argparse.ArgumentParser) -> None:
    p.add_argument("--store", choices=["faiss", "pgvector"], default="faiss",
                   help="pgvector: ingest vs raw COPY, HNSW recall and latency vs FAISS flat")
    p.add_argument("--vectors", type=int, help="pgvector bench size (default 100000, 10000 with --quick)")
    p.add_argument("--rounds", type=int, default=3, help="pgvector ingest rounds (0: skip the ingest figures)")
    p.add_argument("--hnsw-m", type=int, default=32, help="pgvector HNSW m (default 32, the store's)")
    p.add_argument("--ef-construction", type=int, default=200, help="pgvector HNSW ef_construction (default 200)")
    p.add_argument("--lexical", action="store_true", help="pgvector: only Postgres full-text search vs bm25s")
    _add_dsn(p)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m rag_core", description="RAG Playground core, headless.")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--quiet", action="store_true", help="no progress bars")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("demo", parents=[common], help="build an index of the bundled demo corpus (Wikipedia summaries)")
    _add_index_target(p)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("ingest", parents=[common], help="load files/folders and add them to an index")
    p.add_argument("paths", nargs="+", help="files, folders or zip archives (pdf, docx, txt, md, html, csv)")
    _add_index_target(p)
    p.add_argument("--max-file-mb", type=float, default=50.0, help="skip files larger than this (default 50)")
    p.add_argument("--max-total-mb", type=float, default=500.0,
                   help="skip the remaining files once this much has been loaded (default 500)")
    p.add_argument("--csv-column", help="text column of csv files (default: the longest text column)")
    p.add_argument("--min-words", type=int, default=15, help="drop rows with this many words or fewer (default 15)")
    p.add_argument("--min-chars", type=int, default=50, help="drop rows with this many characters or fewer (default 50)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_ingest)

    p = sub.add_parser("crawl", parents=[common], help="crawl web pages (politely, same site) and add them to an index")
    p.add_argument("urls", nargs="+", help="http(s) start URLs")
    _add_index_target(p)
    p.add_argument("--depth", type=int, default=2, help="links to follow from a start URL (default 2)")
    p.add_argument("--max-pages", type=int, default=200, help="stop after fetching this many pages (default 200)")
    p.add_argument("--sitemap", action="store_true", help="also start from the site's sitemap.xml (and indexes)")
    p.add_argument("--include", action="append", metavar="PREFIX",
                   help="only crawl URLs under this prefix (repeatable; default: the start URLs' sites)")
    p.add_argument("--exclude", action="append", metavar="PATTERN",
                   help="skip URLs containing this text, or matching this glob with * (repeatable)")
    p.add_argument("--allow-private", action="store_true",
                   help="allow loopback/private/link-local addresses (off by default: SSRF protection)")
    p.add_argument("--delay", type=float, default=0.5, help="seconds between requests to one host (default 0.5)")
    p.add_argument("--concurrency", type=int, default=2, help="requests in flight (default 2, max 8)")
    p.add_argument("--timeout", type=float, default=10.0, help="per-request timeout in seconds (default 10)")
    p.add_argument("--max-page-mb", type=float, default=5.0, help="skip responses larger than this (default 5)")
    p.add_argument("--min-words", type=int, default=15, help="drop rows with this many words or fewer (default 15)")
    p.add_argument("--min-chars", type=int, default=50, help="drop rows with this many characters or fewer (default 50)")
    p.add_argument("--json", action="store_true", help="print one JSON object with the per-URL report")
    p.set_defaults(func=cmd_crawl)

    p = sub.add_parser("query", parents=[common], help="ask a question against an index")
    p.add_argument("question")
    p.add_argument("--index", required=True)
    p.add_argument("--top-k", type=int, default=5)
    p.add_argument("--threshold", type=float, default=None, help="minimum first-stage score (cosine)")
    p.add_argument("--reranker", default=None, help="none, bm25, rrf or cohere:rerank-v3.5")
    p.add_argument("--llm", default="extractive",
                   help="answerer: extractive (default, offline), openai:gpt-4o-mini, compatible:<model>")
    _add_hosted(p)
    p.add_argument("--source", action="append", help="only search this source (repeatable)")
    _add_dsn(p)
    p.add_argument("--template", help="file with a prompt template using {context} and {question}")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=cmd_query)

    p = sub.add_parser("info", parents=[common], help="show an index's manifest")
    p.add_argument("--index", required=True)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_info)

    p = sub.add_parser("estimate", parents=[common], help="tokens and dollars to embed files with a hosted model, before spending")
    p.add_argument("paths", nargs="+")
    p.add_argument("--model", default=costs.DEFAULT_EMBED_COST_MODEL)
    _add_chunking(p)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_estimate)

    p = sub.add_parser("bench", parents=[common], help="benchmarks as ratios to raw baselines measured in the same run")
    p.add_argument("--json", action="store_true")
    p.add_argument("--quick", action="store_true", help="10k instead of 100k chunks for the large-index figures")
    _add_bench_pgvector(p)
    p.set_defaults(func=cmd_bench)
    add_eval_parser(sub, common)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if getattr(args, "dsn", None):  # --dsn beats RAG_PG_DSN and secrets.toml for this process
        os.environ["RAG_PG_DSN"] = args.dsn
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
