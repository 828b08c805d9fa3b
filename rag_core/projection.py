"""A 2-D PCA of an index's vectors (the Explore map), and how to place a new vector on it.

Framework-free so the CLI could draw or export the same map. PCA through the eigenvectors of
the (dim x dim) covariance: fast at 10k+ chunks; signs fixed (largest loading positive) so the
map does not flip between runs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .index import Index
from .types import Chunk


@dataclass(frozen=True)
class Projection:
    """`coords` (n, 2) of `chunks`; `hover` optionally holds one label per chunk."""

    chunks: tuple[Chunk, ...]
    coords: np.ndarray
    mean: np.ndarray
    components: np.ndarray  # (2, dim)
    explained: tuple[float, float]
    hover: tuple[str, ...] = ()

    def project(self, vectors: np.ndarray) -> np.ndarray:
        return (np.atleast_2d(vectors) - self.mean) @ self.components.T


def _top_two(vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray, tuple[float, float]]:
    """(mean, components (2, dim), explained variance shares) of the two main axes."""
    mean = vectors.mean(axis=0)
    centred = vectors - mean
    eigvals, eigvecs = np.linalg.eigh(centred.T @ centred)
    order = np.argsort(eigvals)[::-1][:2]
    components = eigvecs[:, order].T
    signs = np.sign(components[np.arange(len(components)), np.argmax(np.abs(components), axis=1)])
    components = components * signs[:, None]
    if components.shape[0] < 2:
        components = np.vstack([components, np.zeros((2 - components.shape[0], vectors.shape[1]))])
    total = float(eigvals.sum()) or 1.0
    explained = tuple(float(eigvals[i]) / total for i in order) + (0.0,) * (2 - len(order))
    return mean, components, (explained[0], explained[1])


def project_index(index: Index, hover: tuple[str, ...] = ()) -> Projection:
    """Every chunk of `index` on the two main axes of its vectors."""
    chunks = tuple(index.store.chunks())
    vectors = np.asarray(index.store.vectors(), dtype=np.float32)
    dim = index.embedder.dim
    if len(vectors) == 0:
        return Projection((), np.zeros((0, 2), np.float32), np.zeros(dim, np.float32),
                          np.zeros((2, dim), np.float32), (0.0, 0.0))
    mean, components, explained = _top_two(vectors)
    coords = (vectors - mean) @ components.T
    return Projection(chunks, coords.astype(np.float32), mean, components.astype(np.float32), explained, hover)
