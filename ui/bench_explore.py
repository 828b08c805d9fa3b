"""Time the Explore map at scale on synthetic vectors with structure (clusters per folder);
with --demo-index, measure how often each view draws the top hit among the query's 10 nearest
points, over the demo question set.

    python -m ui.bench_explore [--chunks 100000] [--dim 384]
    python -m rag_core demo --index /tmp/demo && python -m ui.bench_explore --demo-index /tmp/demo

Reports the once-per-generation cost (build_map: PCA, colour groups, sample) and the per-rerun
cost of each view (view + figure + the figure's JSON, which is what st.plotly_chart sends), next
to drawing every chunk in one trace as the page did before. Nothing is written outside a temp dir.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from rag_core.embeddings.hashing import HashingEmbedder
from rag_core.evaluation.explore import build_map, pca_view, query_view
from rag_core.index.index import Index
from rag_core.core.types import Chunk
from rag_core.ingest.demo import DEMO_FILE, demo_topics
from rag_core.retrieval import Retriever
from rag_core.core.types import RetrievalSettings
from ui import explore
from ui.widgets import hover_text


def synthetic_index(directory: Path, n: int, dim: int, seed: int = 0) -> Index:
    """`n` chunks from 25 folders x 16 files; each folder leans on 2 of 40 cluster centres."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(40, dim)).astype(np.float32)
    folder = rng.integers(0, 25, n)
    file = rng.integers(0, 16, n)
    cluster = np.where(rng.random(n) < 0.7, folder % 40, (folder * 7 + 3) % 40)
    vectors = centres[cluster] + rng.normal(scale=1.2, size=(n, dim)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    chunks = [Chunk(f"corpus/folder{f:02d}/file{g:02d}.md", f"part {i}", f"synthetic chunk {i}", 0, 20, f"d{f}-{g}-{i}")
              for i, (f, g) in enumerate(zip(folder, file))]
    index = Index.create(directory, HashingEmbedder(dim=dim), "faiss")
    index.store.add(chunks, vectors)
    return index


def timed(label: str, fn, repeat: int = 3):
    best, result = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - t0)
    print(f"{label:<48} {best * 1000:9.1f} ms")
    return result


def measure_demo(directory: str, top_k: int = 5) -> None:
    """Top hit among the 10 nearest points to the query on each view, per demo question."""
    import json

    index = Index.open(directory)
    emap = build_map(index, demo_topics())
    questions = [json.loads(line)["question"] for line in open(DEMO_FILE.parent / "questions.jsonl")]
    ranks: dict[str, list[int]] = {"pca": [], "query": []}
    for question in questions:
        found = Retriever(index).retrieve(question, RetrievalSettings(top_k=top_k, mode="dense"))
        ranks["pca"].append(pca_view(emap, found.query_vector, found.hits).hits[0].map_rank)
        ranks["query"].append(query_view(emap, index.store, found.query_vector, found.hits).hits[0].map_rank)
    print(f"{index.manifest.embedder}, {emap.n_chunks} chunks; PCA keeps {sum(emap.projection.explained):.1%}")
    for name, found_ranks in ranks.items():
        values = np.array(found_ranks)
        print(f"{name:>6}: top hit among the 10 nearest map points for {int((values <= 10).sum())}/{len(values)} "
              f"questions; median place {np.median(values):g}, worst {values.max()}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--chunks", type=int, default=100_000)
    parser.add_argument("--dim", type=int, default=384)
    parser.add_argument("--demo-index", help="a demo index directory: measure the views' top-hit placement")
    args = parser.parse_args()
    if args.demo_index:
        return measure_demo(args.demo_index)
    import plotly.graph_objects as go

    with tempfile.TemporaryDirectory() as tmp:
        index = synthetic_index(Path(tmp) / "big", args.chunks, args.dim)
        print(f"{args.chunks:,} chunks, dim {args.dim}, faiss flat")
        emap = timed("build_map (once per generation)", lambda: build_map(index), repeat=1)
        query = index.store.vectors()[123] * 0.9 + 0.1 / np.sqrt(args.dim)
        query = (query / np.linalg.norm(query)).astype(np.float32)
        hits = tuple(index.store.search(query, 5))
        for name, make in (("pca", lambda: pca_view(emap, query, hits)),
                           ("query", lambda: query_view(emap, index.store, query, hits))):
            view = timed(f"{name}_view", make)
            fig = timed(f"{name}: figure ({len(view.rows):,} points)", lambda: explore.figure(emap, view, "q"))
            payload = timed(f"{name}: figure to JSON", fig.to_json)
            print(f"{'':<48} {len(payload) / 1e6:9.2f} MB JSON; map keeps {sum(view.explained):.1%}; "
                  f"top hit drawn as no. {view.hits[0].map_rank} nearest of {view.candidates:,}")
        chunks = emap.projection.chunks
        coords = emap.projection.coords

        def everything() -> str:  # before: every chunk, hover text for each, one trace
            hover = [hover_text(c.source, c.section, c.text) for c in chunks]
            return go.Figure(go.Scattergl(x=coords[:, 0], y=coords[:, 1], mode="markers", hovertext=hover)).to_json()

        payload = timed("before: all points, one trace, to JSON", everything, repeat=1)
        print(f"{'':<48} {len(payload) / 1e6:9.2f} MB JSON")


if __name__ == "__main__":
    main()
