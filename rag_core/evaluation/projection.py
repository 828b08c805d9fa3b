"""A 2-D PCA of an index's vectors (the Explore map), and how to place a new vector on it.

Framework-free so the CLI could draw or export the same map. PCA through the eigenvectors of
the (dim x dim) covariance, fitted on at most FIT_ROWS rows (seeded) so 100k chunks cost what
20k do; signs fixed (largest loading positive) so the map does not flip between runs.
`Projection.explained` is what the map keeps: each axis's share of the total variance.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rag_core.index.index import Index
from rag_core.core.types import Chunk

#: rows the PCA is fitted on at most (see `fit_rows`)
FIT_ROWS = 20_000


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


def top_two(vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray, tuple[float, float]]:
    """(mean, components (2, dim), explained variance ratios) of the two main axes: each
    ratio is that axis's share of the total variance, so their sum is what the map keeps.
    With fewer rows than dimensions the (rows x rows) Gram matrix has the same eigenvalues and
    is the cheaper one to decompose (the query's neighbourhood: 200 rows of 384 dims)."""
    mean = vectors.mean(axis=0)
    centred = vectors - mean
    gram = len(centred) < centred.shape[1]
    eigvals, eigvecs = np.linalg.eigh(centred @ centred.T if gram else centred.T @ centred)
    eigvals = np.clip(eigvals, 0.0, None)
    order = np.argsort(eigvals)[::-1][:2]
    components = (centred.T @ eigvecs[:, order]).T if gram else eigvecs[:, order].T
    components = components / np.maximum(np.linalg.norm(components, axis=1, keepdims=True), 1e-12)
    signs = np.sign(components[np.arange(len(components)), np.argmax(np.abs(components), axis=1)])
    components = components * np.where(signs == 0, 1.0, signs)[:, None]
    if components.shape[0] < 2:
        components = np.vstack([components, np.zeros((2 - components.shape[0], vectors.shape[1]))])
    total = float(eigvals.sum()) or 1.0
    explained = tuple(float(eigvals[i]) / total for i in order) + (0.0,) * (2 - len(order))
    return mean, components, (explained[0], explained[1])


def fit_rows(n: int, limit: int = FIT_ROWS, seed: int = 0) -> np.ndarray:
    """Which rows the PCA is fitted on: all of them, or `limit` drawn at random (seeded). Two
    main axes and their variance shares are estimated closely from 20,000 rows, at a fifth of
    the cost of 100,000; every row is still projected."""
    if n <= limit:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, size=limit, replace=False))


def project_index(index: Index, hover: tuple[str, ...] = (), vectors: np.ndarray | None = None) -> Projection:
    """Every chunk of `index` on the two main axes of its vectors (`vectors`: the store's, when
    the caller has already read them)."""
    chunks = tuple(index.store.chunks())
    vectors = np.asarray(index.store.vectors() if vectors is None else vectors, dtype=np.float32)
    dim = index.embedder.dim
    if len(vectors) == 0:
        return Projection((), np.zeros((0, 2), np.float32), np.zeros(dim, np.float32),
                          np.zeros((2, dim), np.float32), (0.0, 0.0))
    mean, components, explained = top_two(vectors[fit_rows(len(vectors))])
    coords = vectors @ components.T - mean @ components.T
    return Projection(chunks, coords.astype(np.float32), mean, components.astype(np.float32), explained,
                      hover)
