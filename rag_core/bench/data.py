"""Data the benchmarks share, public so no benchmark imports another's private helpers: vectors
with the structure of real embeddings, distinct demo questions, and a timed ingest as a user runs it."""

from __future__ import annotations

import time

import numpy as np

from rag_core.core.types import ChunkingConfig
from rag_core.embeddings.cache import CachedEmbedder
from rag_core.ingest.demo import demo_documents


def noisy_copies(vectors: np.ndarray, n: int, sigma: float, seed: int = 0) -> np.ndarray:
    """n vectors that keep the structure of real embeddings: real vectors plus small noise."""
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, len(vectors), size=n)
    out = vectors[picks] + rng.normal(0.0, sigma, size=(n, vectors.shape[1])).astype(np.float32)
    out /= np.linalg.norm(out, axis=1, keepdims=True)
    return out.astype(np.float32)


def timed_ingest(index_cls, inner, config: ChunkingConfig, directory: str):
    """The full pipeline as a user runs it: load the corpus, chunk, embed (through the disk
    cache), index and save atomically."""

    t0 = time.perf_counter()
    index = index_cls.create(directory, CachedEmbedder(inner), "faiss", config)
    index.ingest(demo_documents())
    index.save()
    return index, time.perf_counter() - t0


def demo_questions(documents, n: int = 800) -> list[str]:
    """Distinct questions, each asked once per side, so no query cache can flatter a figure;
    400 per index, so a p95 rests on 20 samples, not 5."""
    forms = ("What is {} known for?", "Tell me about {}.", "Where is {}?", "Describe the history of {}.")
    return [form.format(d.section) for form in forms for d in documents][:n]
