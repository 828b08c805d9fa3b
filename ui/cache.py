"""The only st.cache_resource wrappers: heavy objects are built once per server, shared by
every session read-only, and a rerun never re-embeds or reloads.

An opened Index is keyed by (directory, live generation): every save writes a new
generation, so a rebuilt index reloads and a renamed one is opened fresh.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import streamlit as st

from rag_core.index import Index
from rag_core.types import LLM, Chunk, Embedder

from . import paths


@st.cache_resource(show_spinner="Loading the embedding model…")
def embedder(name: str) -> Embedder:
    from rag_core.embeddings import create_embedder

    return create_embedder(name)


@st.cache_resource(show_spinner=False)
def answerer(name: str) -> LLM:
    from rag_core.llm import LLMS

    return LLMS.create(name)


@st.cache_resource(show_spinner="Opening the index…", max_entries=8)
def _open_index(directory: str, generation: str) -> Index:
    from rag_core.index import read_manifest

    manifest = read_manifest(directory)
    return Index.open(directory, embedder=embedder(manifest.embedder))


def load_index(name: str) -> Index:
    """The index `name`, ready to query. Built with a local embedder: one shared, cached Index.
    Built with a hosted one: this session's own Index, whose embedder uses this session's
    credentials (a missing key is a ConfigError that says to add it in Settings)."""
    from rag_core.catalog import is_hosted
    from rag_core.index import read_manifest

    directory = paths.index_dir(name)
    generation = paths.generation(directory)
    manifest = read_manifest(directory)
    if not is_hosted(manifest.embedder):
        return _open_index(str(directory), generation)
    return _session_index(str(directory), generation, manifest)


def _session_index(directory: str, generation: str, manifest) -> Index:
    from rag_core.catalog import dim_from_server
    from rag_core.errors import ConfigError

    from . import providers

    options = {"dim": manifest.dim} if dim_from_server(manifest.embedder) else {}
    try:
        emb = providers.embedder(manifest.embedder, **options)
    except ConfigError as exc:
        raise ConfigError(f"the index {Path(directory).name} was built with {manifest.embedder}, which "
                          f"needs a key or base URL this session does not have ({exc}). Add it on the Settings "
                          "page, then try again.") from None
    memo = st.session_state.setdefault("session_indexes", {})
    key = (directory, generation, id(emb))
    if key not in memo:
        for stale in [k for k in memo if k[0] == directory]:
            memo.pop(stale)
        memo[key] = Index.open(directory, embedder=emb)
    return memo[key]


@st.cache_resource(show_spinner=False)
def build_lock() -> threading.Lock:
    """One index build at a time per server (two sessions pressing "load demo" build once)."""
    return threading.Lock()


def ensure_demo_index(progress: Callable[[int, int, str], None] | None = None) -> Index:
    """Open the demo index, building it first (default local embedder, faiss) if missing."""
    from rag_core import index as rindex
    from rag_core.demo import demo_documents
    from rag_core.embeddings import DEFAULT_EMBEDDER
    from rag_core.types import ChunkingConfig

    directory = paths.index_dir(paths.DEMO_NAME)
    with build_lock():
        if not rindex.exists(directory):
            index = Index.create(directory, embedder(DEFAULT_EMBEDDER), "faiss", ChunkingConfig())
            index.ingest(demo_documents(), progress=progress)
            index.save()
    return load_index(paths.DEMO_NAME)


@dataclass(frozen=True)
class Projection:
    """A 2-D PCA of an index's vectors: `coords` (n, 2), and how to place a new vector."""

    chunks: tuple[Chunk, ...]
    coords: np.ndarray
    mean: np.ndarray
    components: np.ndarray  # (2, dim)
    explained: tuple[float, float]
    hover: tuple[str, ...] = ()

    def project(self, vectors: np.ndarray) -> np.ndarray:
        return (np.atleast_2d(vectors) - self.mean) @ self.components.T


@st.cache_resource(show_spinner="Projecting the embeddings to 2-D…", max_entries=8)
def _projection(directory: str, generation: str, _index: Index) -> Projection:
    index = _index
    chunks = tuple(index.store.chunks())
    vectors = np.asarray(index.store.vectors(), dtype=np.float32)
    if len(vectors) == 0:
        return Projection((), np.zeros((0, 2), np.float32), np.zeros(index.embedder.dim, np.float32),
                          np.zeros((2, index.embedder.dim), np.float32), (0.0, 0.0))
    mean = vectors.mean(axis=0)
    centred = vectors - mean
    # PCA via SVD of the (dim x dim) covariance: fast at 10k+ chunks, deterministic signs
    cov = centred.T @ centred
    eigvals, eigvecs = np.linalg.eigh(cov)
    order = np.argsort(eigvals)[::-1][:2]
    components = eigvecs[:, order].T
    signs = np.sign(components[np.arange(len(components)), np.argmax(np.abs(components), axis=1)])
    components = components * signs[:, None]
    if components.shape[0] < 2:
        components = np.vstack([components, np.zeros((2 - components.shape[0], vectors.shape[1]))])
    total = float(eigvals.sum()) or 1.0
    explained = tuple(float(eigvals[i]) / total for i in order) + (0.0,) * (2 - len(order))
    coords = centred @ components.T
    from .explore import hover_text

    hover = tuple(hover_text(c.source, c.section, c.text) for c in chunks)
    return Projection(chunks, coords.astype(np.float32), mean, components.astype(np.float32), explained[:2], hover)


def projection(name: str) -> Projection:
    directory = paths.index_dir(name)
    return _projection(str(directory), paths.generation(directory), load_index(name))
