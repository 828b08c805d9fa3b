"""Offline retrieval experiments that choose the defaults: dense, BM25, hybrid (RRF / weighted),
MMR and contextual headers, on the demo corpus and on a held-out corpus, with the same metrics as
`python -m rag_core eval` (sources deduplicated, k = 10: hit@1, hit@5, MRR@10).

    python bench/retrieval/experiments.py demo                      # hard demo set
    python bench/retrieval/experiments.py heldout /tmp/heldout.jsonl  # see heldout.py
    python bench/retrieval/experiments.py timing /tmp/heldout.jsonl   # BM25 build/query at 100k
    python bench/retrieval/experiments.py bm25params /tmp/heldout.jsonl # k1, b
    (add --no-headers to skip the contextual-header pass)

It works on the building blocks directly (rag_core.retrieval.bm25 / fusion / mmr, a numpy dot
product for dense search = the flat store), because the Retriever that will own these settings
is being written in parallel; the integration step re-runs the winners through the real CLI.
Query embeddings are computed once per question and reused by every setting.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from rag_core.chunking import chunk_documents  # noqa: E402
from rag_core.embeddings import create_embedder  # noqa: E402
from rag_core.evaluate import hit_at_k, load_question_set, reciprocal_rank  # noqa: E402
from rag_core.retrieval.bm25 import BM25Index, BM25Params  # noqa: E402
from rag_core.retrieval.headers import indexed_text  # noqa: E402
from rag_core.retrieval.fusion import hybrid_weighted, rrf  # noqa: E402
from rag_core.retrieval.mmr import mmr  # noqa: E402
from rag_core.rerank.lexical import BM25Reranker, RRFReranker  # noqa: E402
from rag_core.types import Chunk, ChunkingConfig, Document, Hit  # noqa: E402

K = 10
HEADERS = (False, True)
DEPTH = 100  # candidates per list before fusion
DEMO_CORPUS = ROOT / "rag_core" / "data" / "demo" / "wikipedia_summaries.jsonl"
HARD = ROOT / "rag_core" / "data" / "demo" / "questions_hard.jsonl"
HELDOUT_QUERIES = ROOT / "bench" / "retrieval" / "heldout_queries.jsonl"


def documents(path: Path) -> list[Document]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [Document(source=r["url"], section=r["title"], text=r["text"]) for r in rows]


@dataclass
class Corpus:
    chunks: list[Chunk]
    ids: list[str]
    vectors: np.ndarray
    bm25: BM25Index

    def dense(self, qvec: np.ndarray, depth: int = DEPTH) -> list[tuple[str, float]]:
        scores = self.vectors @ qvec
        top = np.argsort(-scores, kind="stable")[:depth]
        return [(self.ids[i], float(scores[i])) for i in top]

    def sparse(self, query: str, depth: int = DEPTH) -> list[tuple[str, float]]:
        ids, scores = self.bm25.search(query, depth)
        return list(zip(ids, map(float, scores)))


def build(docs: list[Document], embedder, headers: bool) -> Corpus:
    chunks = chunk_documents(docs, ChunkingConfig())
    texts = [indexed_text(c, headers) for c in chunks]
    ids = [c.chunk_id for c in chunks]
    vectors = embedder.embed_documents(texts)
    return Corpus(chunks, ids, np.asarray(vectors, dtype=np.float32), BM25Index.build(ids, texts))


def with_mmr(corpus: Corpus, ranked: list[tuple[str, float]], lam: float, pool: int = 30) -> list[str]:
    pos = {cid: i for i, cid in enumerate(corpus.ids)}
    cands = ranked[:pool]
    if not cands:
        return []
    scores = np.array([s for _, s in cands])
    span = scores.max() - scores.min()
    relevance = (scores - scores.min()) / span if span > 0 else np.ones_like(scores)
    vectors = corpus.vectors[[pos[c] for c, _ in cands]]
    return [cands[p.index][0] for p in mmr(vectors, K, lam, relevance=relevance)]


def prf(corpus: Corpus, qvec: np.ndarray, top: int = 3, beta: float = 0.5) -> np.ndarray:
    """Rocchio pseudo-relevance feedback on the query vector: add the mean of the top hits."""
    pos = {cid: i for i, cid in enumerate(corpus.ids)}
    mean = corpus.vectors[[pos[c] for c, _ in corpus.dense(qvec, top)]].mean(axis=0)
    moved = qvec + beta * mean
    return moved / np.linalg.norm(moved)


def pool_rerank(corpus: Corpus, qvec: np.ndarray, query: str, reranker) -> list[str]:
    """Today's pool-only rerankers: BM25 statistics over the top-20 dense candidates only."""
    chunk = dict(zip(corpus.ids, corpus.chunks))
    hits = [Hit(chunk[cid], s, "cosine", r) for r, (cid, s) in enumerate(corpus.dense(qvec, 20), start=1)]
    return [h.chunk.chunk_id for h in reranker.rerank(query, hits, K)]


Method = Callable[[Corpus, np.ndarray, str], list[str]]


def methods() -> dict[str, Method]:
    def fused(f):
        return [x.chunk_id for x in f]

    out: dict[str, Method] = {
        "dense": lambda c, v, q: [i for i, _ in c.dense(v, K)],
        "bm25": lambda c, v, q: [i for i, _ in c.sparse(q, K)],
    }
    for rk in (60, 20, 10, 5):
        out[f"hybrid rrf k={rk}"] = lambda c, v, q, rk=rk: fused(rrf([c.dense(v), c.sparse(q)], K, rrf_k=rk))
    for norm in ("minmax", "zscore"):
        for alpha in (0.3, 0.4, 0.5, 0.6, 0.7, 0.8):
            out[f"hybrid {norm} a={alpha}"] = (
                lambda c, v, q, a=alpha, n=norm: fused(hybrid_weighted(c.dense(v), c.sparse(q), K, a, n)))
    for depth in (20, 50, 200):
        out[f"hybrid zscore a=0.6 depth {depth}"] = (
            lambda c, v, q, d=depth: fused(hybrid_weighted(c.dense(v, d), c.sparse(q, d), K, 0.6, "zscore")))
    out["dense prf (rocchio top-3)"] = lambda c, v, q: [i for i, _ in c.dense(prf(c, v), K)]
    out["hybrid zscore a=0.6 + dense prf"] = (
        lambda c, v, q: fused(hybrid_weighted(c.dense(prf(c, v)), c.sparse(q), K, 0.6, "zscore")))
    out["pool rrf k=60 (today's reranker)"] = lambda c, v, q: pool_rerank(c, v, q, RRFReranker())
    out["pool bm25 (today's reranker)"] = lambda c, v, q: pool_rerank(c, v, q, BM25Reranker())
    for lam in (0.9, 0.7, 0.5):
        out[f"rrf k=10 + mmr {lam}"] = (
            lambda c, v, q, lam=lam: with_mmr(c, [(x.chunk_id, x.score) for x in rrf([c.dense(v), c.sparse(q)], 30, rrf_k=10)], lam))
        out[f"dense + mmr {lam}"] = lambda c, v, q, lam=lam: with_mmr(c, c.dense(v, 30), lam)
    return out


def score(corpus: Corpus, ids: list[str], relevant: tuple[str, ...]) -> tuple[float, float, float]:
    source = {c.chunk_id: c.source for c in corpus.chunks}
    sources = [source[i] for i in ids]
    return hit_at_k(sources, relevant, 1), hit_at_k(sources, relevant, 5), reciprocal_rank(sources, relevant, K)


def run(docs: list[Document], questions_path: Path, label: str) -> list[dict]:
    embedder = create_embedder()
    qs = [q for q in load_question_set(questions_path).questions if q.relevant_sources]
    qvecs = [np.asarray(embedder.embed_query(q.question), dtype=np.float32) for q in qs]
    rows = []
    for headers in HEADERS:
        corpus = build(docs, embedder, headers)
        for name, method in methods().items():
            started = time.perf_counter()
            metrics = [score(corpus, method(corpus, v, q.question), q.relevant_sources) for q, v in zip(qs, qvecs)]
            ms = (time.perf_counter() - started) * 1000 / len(qs)
            h1, h5, mrr = (statistics.mean(m[i] for m in metrics) for i in range(3))
            rows.append({"corpus": label, "method": name + (" + headers" if headers else ""),
                         "hit@1": round(h1, 3), "hit@5": round(h5, 3), "MRR@10": round(mrr, 3),
                         "ms/query": round(ms, 2), "questions": len(qs)})
            print(f"{label:8} {rows[-1]['method']:34} hit@1 {h1:.3f}  hit@5 {h5:.3f}  MRR@10 {mrr:.3f}  "
                  f"{ms:6.2f} ms", flush=True)
    return rows


def sweep_bm25(docs: list[Document], questions_path: Path, label: str) -> None:
    """BM25 parameters (k1, b) alone and inside the z-score hybrid (alpha 0.6)."""
    embedder = create_embedder()
    qs = [q for q in load_question_set(questions_path).questions if q.relevant_sources]
    qvecs = [np.asarray(embedder.embed_query(q.question), dtype=np.float32) for q in qs]
    corpus = build(docs, embedder, False)
    texts = [c.text for c in corpus.chunks]
    for k1, b in ((1.5, 0.75), (1.2, 0.75), (0.9, 0.4), (1.2, 0.3), (2.0, 0.75), (1.2, 1.0)):
        corpus.bm25 = BM25Index.build(corpus.ids, texts, BM25Params(k1=k1, b=b))
        for name, method in (("bm25", lambda c, v, q: [i for i, _ in c.sparse(q, K)]),
                             ("zscore a=0.6", lambda c, v, q: [x.chunk_id for x in hybrid_weighted(
                                 c.dense(v), c.sparse(q), K, 0.6, "zscore")])):
            metrics = [score(corpus, method(corpus, v, q.question), q.relevant_sources) for q, v in zip(qs, qvecs)]
            h1, h5, mrr = (statistics.mean(m[i] for m in metrics) for i in range(3))
            print(f"{label:8} k1={k1} b={b} {name:14} hit@1 {h1:.3f}  hit@5 {h5:.3f}  MRR@10 {mrr:.3f}", flush=True)


def _clock(fn) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process): CPU time shows the work on a shared machine."""
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - wall, time.process_time() - cpu


def timing(heldout: Path, n: int = 100_000) -> None:
    """BM25 build and query at `n` chunks (held-out texts repeated with a distinct suffix each), and
    the build on the demo corpus, whose ingest time is compared in the report."""
    BM25Index.build(["warm"], ["imports bm25s and the stemmer once"])
    demo_chunks = chunk_documents(documents(DEMO_CORPUS), ChunkingConfig())
    wall, cpu = _clock(lambda: BM25Index.build([c.chunk_id for c in demo_chunks], [c.text for c in demo_chunks]))
    print(f"demo: BM25 build of {len(demo_chunks)} chunks: {wall:.3f} s wall, {cpu:.3f} s CPU")
    base = [d.text for d in documents(heldout)]
    texts = [f"{base[i % len(base)]} variant{i // len(base)}" for i in range(n)]
    built: list[BM25Index] = []
    wall, cpu = _clock(lambda: built.append(BM25Index.build([str(i) for i in range(n)], texts)))
    print(f"{n} chunks: BM25 build {wall:.1f} s wall, {cpu:.1f} s CPU")
    index = built[0]
    queries = [q.question for q in load_question_set(HELDOUT_QUERIES).questions]
    times = []
    for q in queries * 3:
        t0 = time.perf_counter()
        index.search(q, DEPTH)
        times.append((time.perf_counter() - t0) * 1000)
    print(f"{n} chunks: BM25 search top-{DEPTH} p50 {statistics.median(times):.2f} ms, "
          f"p95 {sorted(times)[int(len(times) * 0.95)]:.2f} ms")
    import faiss

    faiss.omp_set_num_threads(1)
    vectors = np.random.default_rng(0).standard_normal((n, 384)).astype(np.float32)
    flat = faiss.IndexFlatIP(384)
    flat.add(vectors)
    times = []
    for i in range(len(queries)):
        t0 = time.perf_counter()
        flat.search(vectors[i : i + 1], DEPTH)
        times.append((time.perf_counter() - t0) * 1000)
    print(f"{n} chunks: FAISS flat dense top-{DEPTH} p50 {statistics.median(times):.2f} ms (for scale)")


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in ("demo", "heldout", "timing", "bm25params"):
        print(__doc__)
        return 2
    if argv[0] == "bm25params":
        sweep_bm25(documents(DEMO_CORPUS), HARD, "demo")
        sweep_bm25(documents(Path(argv[1])), HELDOUT_QUERIES, "heldout")
        return 0
    if argv[0] == "timing":
        timing(Path(argv[1]))
        return 0
    global HEADERS
    if "--no-headers" in argv:
        argv = [a for a in argv if a != "--no-headers"]
        HEADERS = (False,)
    if argv[0] == "demo":
        rows = run(documents(DEMO_CORPUS), HARD, "demo")
    else:
        rows = run(documents(Path(argv[1])), HELDOUT_QUERIES, "heldout")
    out = Path(argv[2] if len(argv) > 2 and argv[0] == "heldout" else "/tmp") / f"retrieval-{argv[0]}.json"
    out.write_text(json.dumps(rows, indent=1))
    print(f"rows -> {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
