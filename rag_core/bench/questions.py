"""Does a generated question set order settings like hand-written questions? (`bench --question-gen`)

On the demo corpus, 12 retrieval cells (6 retrievers x 2 chunkings, local MiniLM embedder) are
scored by MRR@10 on the hand-written `demo-hard` set and on a set generated from the index by
each generator; Kendall's tau-b between the two rankings says how far the generated set can be
trusted to tune. demo-hard was written for this corpus and chose nothing here; the generators
were not tuned on it either (their method is fixed in rag_core/evaluation/question_gen.py).
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from rag_core.embeddings import create_embedder
from rag_core.evaluation.evaluate import bundled_question_set, compare_indexes
from rag_core.evaluation.experiments import Variant, build_variant
from rag_core.evaluation.question_gen import as_question_set, longest_copied_run, offline_questions
from rag_core.core.types import ChunkingConfig, RetrievalSettings
from rag_core.ingest.demo import demo_documents

CHUNKINGS = (ChunkingConfig(size=1000, overlap=100), ChunkingConfig(size=300, overlap=30))
RETRIEVERS = (
    RetrievalSettings(top_k=10, mode="dense"),
    RetrievalSettings(top_k=10, mode="bm25"),
    RetrievalSettings(top_k=10, mode="hybrid", fusion="weighted", alpha=0.3),
    RetrievalSettings(top_k=10, mode="hybrid", fusion="weighted", alpha=0.7),
    RetrievalSettings(top_k=10, mode="hybrid", fusion="rrf"),
    RetrievalSettings(top_k=10, mode="dense", mmr_lambda=0.5),
)


def kendall_tau(x: list[float], y: list[float]) -> float:
    """Kendall's tau-b of two paired lists (ties counted as scipy.stats.kendalltau does).
    Worked example: (1, 2, 3) against (1, 3, 2): 2 concordant pairs, 1 discordant -> 1/3."""
    concordant = discordant = ties_x = ties_y = 0
    for i in range(len(x)):
        for j in range(i + 1, len(x)):
            dx, dy = x[i] - x[j], y[i] - y[j]
            if dx == 0 and dy == 0:
                continue
            if dx == 0:
                ties_x += 1
            elif dy == 0:
                ties_y += 1
            elif (dx > 0) == (dy > 0):
                concordant += 1
            else:
                discordant += 1
    denominator = ((concordant + discordant + ties_x) * (concordant + discordant + ties_y)) ** 0.5
    return (concordant - discordant) / denominator if denominator else 0.0


def run(n: int = 200, seed: int = 0, progress: bool = True) -> dict:
    log = (lambda *a: print(*a, flush=True)) if progress else (lambda *a: None)
    documents = demo_documents()
    embedder = create_embedder("local:all-MiniLM-L6-v2")
    hard = bundled_question_set("demo-hard")
    with tempfile.TemporaryDirectory(prefix="rag-qgen-") as root:
        indexes = {}
        for chunking in CHUNKINGS:
            variant = Variant(f"demo-{chunking.size}", chunking)
            log(f"building {variant.name} ...")
            built = build_variant(variant, documents, embedder, "faiss", Path(root), base="demo")
            indexes[variant.name] = built.index
        first = next(iter(indexes.values()))
        started = time.perf_counter()
        generated = offline_questions(first.store.chunks(), n=n, seed=seed)
        seconds = time.perf_counter() - started
        by_chunk = {c.chunk_id: c for c in first.store.chunks()}
        copied = max(longest_copied_run(q.question, by_chunk[q.chunk_id].text) for q in generated)
        sets = {"demo-hard": hard, "offline keyterms": as_question_set(generated, "generated (offline)")}
        scores = {}
        for name, question_set in sets.items():
            log(f"evaluating {name} ({len(question_set)} questions) ...")
            results = compare_indexes(indexes, question_set, list(RETRIEVERS))
            scores[name] = {(r.index, r.settings): r.mrr for r in results}
    cells = list(scores["demo-hard"])
    hand = [scores["demo-hard"][c] for c in cells]
    rows = [{"index": i, "retriever": s.mode + (f" {s.fusion} α={s.alpha}" if s.mode == "hybrid" else "")
             + (f" mmr {s.mmr_lambda}" if s.mmr_lambda is not None else ""),
             "mrr_hard": round(scores["demo-hard"][(i, s)], 4), "mrr_generated": round(scores["offline keyterms"][(i, s)], 4)}
            for i, s in cells]
    return {"cells": len(cells), "generated_questions": len(generated), "generation_s": round(seconds, 2),
            "longest_copied_run_words": copied,
            "kendall_tau": {"offline keyterms": round(kendall_tau(hand, [scores["offline keyterms"][c]
                                                                          for c in cells]), 3),
                            "llm": "not measured here: no chat model offline (the wire test checks the pipeline)"},
            "rows": rows}


__all__ = ["CHUNKINGS", "RETRIEVERS", "kendall_tau", "run"]

