"""`python -m rag_core bench`: every figure is a ratio to a raw baseline measured in the same run,
so a busy shared machine slows both sides and the ratio still means something.

- ingest: full pipeline chunks/s / raw embedder chunks/s on the same chunk texts
- cached re-ingest: first ingest time / re-ingest time of the unchanged corpus
- query (no answerer): pipeline embed+search+prompt latency / raw embed_query + raw FAISS
  search, p50 and p95, interleaved per query, on the demo index (the ratio: the scan is small, so
  the overhead shows) and a 100k-chunk index (the overhead in ms: both sides share a ~45 ms scan,
  so a ratio there could not fail)
- HNSW vs flat at 100k: p50 ratio and recall@10 per efSearch
- micro: ms per prompt build and seconds to chunk the demo corpus (absolute figures with
  their targets; they used to be wall-clock test assertions, which flaked on a busy machine)
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from contextlib import contextmanager
from dataclasses import replace
from typing import Callable, Iterator

import numpy as np

from rag_core.bench.data import demo_questions, noisy_copies, timed_ingest
from rag_core.core.settings import current, using
from rag_core.ingest.chunking import chunk_documents
from rag_core.ingest.demo import demo_documents
from rag_core.core.types import ChunkingConfig, RetrievalSettings
from rag_core.answer.prompts import build_prompt
from rag_core.core.types import Chunk, Hit
from rag_core.embeddings.local_onnx import LocalMiniLM
from rag_core.index.index import Index
from rag_core.stores import create_store
from rag_core.embeddings.cache import CachedEmbedder
from rag_core.llm.extractive import ExtractiveAnswerer
from rag_core.answer.pipeline import Pipeline

TARGETS = {
    "ingest_ratio": ">= 0.9",
    "cached_reingest_speedup": ">= 20",
    "query_ratio (demo index)": "<= 1.25",
    "query_overhead_p50_ms (any index)": "<= 5",
    "hnsw_recall_at_10": ">= 0.95",
}
HNSW_EF_SEARCH = (16, 32, 48, 64, 96, 128)


@contextmanager
def _fresh_home() -> Iterator[str]:
    """A throwaway cache dir, so the first ingest really embeds everything."""
    with tempfile.TemporaryDirectory(prefix="rag-bench-") as tmp:
        with using(current().with_flags(RAG_PLAYGROUND_HOME=os.path.join(tmp, "home"))):
            yield tmp


def _pct(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q))


def _timed(fn: Callable[[], object]) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def _best_batch_size(embedder, texts: list[str], log: Callable[[str], None]) -> tuple[int, dict[int, float]]:
    sample = texts[:64]
    rates = {}
    for size in (1, 4, 8, 16):
        embedder.batch_size = size
        rates[size] = len(sample) / _timed(lambda: embedder.embed_documents(sample))
        log(f"raw embedder batch {size}: {rates[size]:.1f} chunks/s")
    return max(rates, key=rates.get), rates


def run_bench(quick: bool = False, progress: bool = True, rounds: int = 2) -> dict:
    def log(message: str) -> None:
        if progress:
            print(f"[bench] {message}", flush=True, file=sys.stderr)

    results: dict = {"targets": TARGETS, "micro": micro_figures(log)}
    documents = demo_documents()
    with tempfile.TemporaryDirectory(prefix="rag-bench-") as tmp:
        demo_index, raw = _ingest_figures(results, documents, rounds, tmp, log)
        questions = demo_questions(documents)
        demo_vectors = demo_index.store.vectors()
        results["query_demo"] = _query_bench(demo_index, demo_vectors, questions[0::2], log, "demo")
        _large_figures(results, demo_index, raw, questions, 10_000 if quick else 100_000, tmp, log)
    return results


def micro_figures(log: Callable[[str], None] = lambda _: None, repeats: int = 20) -> dict:
    """Figures that were once wall-clock test assertions (they flaked on a busy machine):
    ms per prompt build (5 hits of ~1,000 characters; target < 5 ms) and seconds to chunk the
    demo corpus per chunking config (target < 0.5 s each)."""

    text = "The quick brown fox jumps over the lazy dog. " * 22
    hits = [Hit(Chunk("s.md", "", text, 0, len(text), f"d-{r}"), 0.5, "cosine", r) for r in range(1, 6)]
    build_prompt("warm up?", hits)
    prompt_ms = _timed(lambda: [build_prompt("Which fox?", hits) for _ in range(repeats)]) * 1000 / repeats
    documents = demo_documents()
    chunking = {f"{c.strategy} {c.size}/{c.overlap}": round(_timed(lambda c=c: chunk_documents(documents, c)), 3)
                for c in (ChunkingConfig("recursive", 300, 50), ChunkingConfig("chars", 300, 50), ChunkingConfig())}
    log(f"prompt build {prompt_ms:.2f} ms; chunking the demo corpus {chunking} s")
    return {"prompt_build_ms": round(prompt_ms, 3), "prompt_build_target_ms": 5,
            "demo_chunking_s": chunking, "demo_chunking_target_s": 0.5, "documents": len(documents)}


def _ingest_figures(results: dict, documents, rounds: int, tmp: str, log):
    """Ingest ratio and cached re-ingest speedup; returns the demo index and the raw embedder."""

    config = ChunkingConfig()
    texts = [c.text for c in chunk_documents(documents, config)]
    best, rates = _best_batch_size(LocalMiniLM(), texts, log)
    # Fresh, identically warmed instances: a session that once ran larger batches keeps a
    # grown memory arena, which would make one side of the ratio unfair.
    raw, inner = LocalMiniLM(batch_size=best), LocalMiniLM(batch_size=best)
    raw.embed_documents(texts[:2])
    inner.embed_documents(texts[:2])
    raw_s, pipe_s, cached_s = [], [], []
    demo_index = None
    for r in range(rounds):  # interleaved, so a noisy neighbour slows both sides alike
        raw_s.append(_timed(lambda: raw.embed_documents(texts)))
        with _fresh_home():
            demo_index, seconds = timed_ingest(Index, inner, config, os.path.join(tmp, f"first{r}"))
            pipe_s.append(seconds)
            cached_s.append(timed_ingest(Index, inner, config, os.path.join(tmp, f"again{r}"))[1])
        log(f"round {r + 1}: raw {len(texts) / raw_s[-1]:.1f} chunks/s, pipeline "
            f"{demo_index.manifest.n_chunks / pipe_s[-1]:.1f} chunks/s, cached re-ingest {cached_s[-1]:.3f}s")
    n = len(texts)
    assert demo_index is not None and demo_index.manifest.n_chunks == n
    results["ingest"] = {
        "chunks": n,
        "rounds": rounds,
        "raw_best_batch_size": best,
        "raw_rates_by_batch_size": {k: round(v, 1) for k, v in rates.items()},
        "raw_embedder_chunks_per_s": round(n * rounds / sum(raw_s), 1),
        "pipeline_chunks_per_s": round(n * rounds / sum(pipe_s), 1),
        "ingest_ratio": round(sum(raw_s) / sum(pipe_s), 3),
    }
    results["cached_reingest"] = {
        "first_s": round(sum(pipe_s) / rounds, 3),
        "cached_s": round(sum(cached_s) / rounds, 3),
        "cached_reingest_speedup": round(sum(pipe_s) / sum(cached_s), 1),
    }
    return demo_index, raw


def _large_figures(results: dict, demo_index, raw, questions: list[str], n_large: int, tmp: str, log) -> None:
    """Query ratio on an n_large-chunk index built from the demo vectors + noise, and HNSW vs flat."""
    import faiss

    demo_vectors = demo_index.store.vectors()
    log(f"building {n_large} structured vectors (demo vectors + noise)")
    large_vectors = noisy_copies(demo_vectors, n_large, sigma=0.03)
    base_chunks = demo_index.store.chunks()
    large_chunks = [replace(base_chunks[i % len(base_chunks)], doc_id=f"copy{i}") for i in range(n_large)]
    large_store = create_store("faiss", raw.dim)
    large_store.add(large_chunks, large_vectors)
    large_index = Index(os.path.join(tmp, "large"), demo_index.manifest, large_store, demo_index.embedder)
    label = f"{n_large // 1000}k"
    results[f"query_{label}"] = _query_bench(large_index, large_vectors, questions[1::2], log, label)
    query_vectors = np.stack([raw.embed_query(q) for q in questions[:100]]).astype(np.float32)
    results[f"hnsw_vs_flat_{label}"] = _hnsw_bench(large_vectors, query_vectors, log, faiss)


def _query_bench(index, vectors: np.ndarray, questions: list[str], log, label: str) -> dict:
    """Pipeline.prepare (embed via the app's cached embedder, store search, threshold, prompt
    build) vs raw embed_query + raw faiss IndexFlatIP search; each question asked once per
    side, in alternating order."""
    import faiss

    raw_index = faiss.IndexFlatIP(vectors.shape[1])
    raw_index.add(vectors)
    embedder = index.embedder
    inner = getattr(embedder, "inner", embedder)
    pipeline = Pipeline(index, ExtractiveAnswerer())
    settings = RetrievalSettings(top_k=5, mode="dense")  # the dense pipeline vs raw dense; hybrid: bench_retrieval
    for q in ("warm up one", "warm up two", "warm up three"):
        pipeline.prepare(q, settings)
        raw_index.search(inner.embed_query(q)[None, :], 5)
    pipe_ms, raw_ms = [], []
    for i, q in enumerate(questions):
        sides = [("raw", q), ("pipe", q)] if i % 2 == 0 else [("pipe", q), ("raw", q)]
        for side, question in sides:
            t0 = time.perf_counter()
            if side == "raw":
                raw_index.search(inner.embed_query(question)[None, :].astype(np.float32), 5)
                raw_ms.append((time.perf_counter() - t0) * 1000)
            else:
                pipeline.prepare(question, settings)
                pipe_ms.append((time.perf_counter() - t0) * 1000)
    out = {
        "chunks": len(vectors),
        "pipeline_p50_ms": round(_pct(pipe_ms, 50), 2),
        "pipeline_p95_ms": round(_pct(pipe_ms, 95), 2),
        "raw_p50_ms": round(_pct(raw_ms, 50), 2),
        "raw_p95_ms": round(_pct(raw_ms, 95), 2),
    }
    out["query_ratio_p50"] = round(out["pipeline_p50_ms"] / out["raw_p50_ms"], 3)
    out["query_ratio_p95"] = round(out["pipeline_p95_ms"] / out["raw_p95_ms"], 3)
    # what the pipeline adds, in ms: at 100k both sides spend ~45 ms in the same FAISS scan, so
    # the ratio there is near 1 whatever the overhead; the overhead is the honest figure
    out["overhead_p50_ms"] = round(out["pipeline_p50_ms"] - out["raw_p50_ms"], 2)
    out["overhead_p95_ms"] = round(out["pipeline_p95_ms"] - out["raw_p95_ms"], 2)
    log(f"query {label}: pipeline p50 {out['pipeline_p50_ms']} ms vs raw {out['raw_p50_ms']} ms "
        f"(+{out['overhead_p50_ms']} ms)")
    return out


def _hnsw_bench(vectors: np.ndarray, queries: np.ndarray, log, faiss) -> dict:
    k = 10
    flat = faiss.IndexFlatIP(vectors.shape[1])
    flat.add(vectors)
    truth = flat.search(queries, k)[1]
    t0 = time.perf_counter()
    hnsw = faiss.IndexHNSWFlat(vectors.shape[1], 32, faiss.METRIC_INNER_PRODUCT)
    hnsw.hnsw.efConstruction = 200
    hnsw.add(vectors)
    build_s = time.perf_counter() - t0
    log(f"hnsw build: {build_s:.1f}s")

    def p50(index) -> float:
        times = []
        for _ in range(3):
            for q in queries:
                t = time.perf_counter()
                index.search(q[None, :], k)
                times.append((time.perf_counter() - t) * 1000)
        return _pct(times, 50)

    flat_p50 = p50(flat)
    rows = []
    for ef in HNSW_EF_SEARCH:
        hnsw.hnsw.efSearch = ef
        found = hnsw.search(queries, k)[1]
        recall = float(np.mean([len(set(found[i]) & set(truth[i])) / k for i in range(len(queries))]))
        rows.append({"ef_search": ef, "recall_at_10": round(recall, 3), "p50_ratio_to_flat": round(p50(hnsw) / flat_p50, 3)})
        log(f"hnsw ef {ef}: recall@10 {recall:.3f}")
    reaching = [r for r in rows if r["recall_at_10"] >= 0.95]
    return {
        "chunks": len(vectors),
        "flat_p50_ms": round(flat_p50, 3),
        "hnsw_build_s": round(build_s, 1),
        "by_ef_search": rows,
        "lowest_ef_search_reaching_0.95": reaching[0] if reaching else None,
    }
