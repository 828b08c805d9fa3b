"""Which Index a session opens, and the 2-D map of it: a local embedder's index is the one
shared from ui/cache.py; a hosted embedder's is this session's own (its credentials, its usage
meter). Composes ui/cache.py and ui/providers.py, so neither needs the other's session logic.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import streamlit as st

from rag_core.stores import is_database
from rag_core.index import saved
from rag_core.index.index import Index
from rag_core.evaluation.explore import ExploreMap

from ui import cache, providers
from rag_core.index.index import read_manifest
from rag_core.core.catalog import is_hosted
from rag_core.core.catalog import dim_from_server
from rag_core.core.errors import ConfigError
from rag_core.index import index as rindex
from rag_core.ingest.demo import demo_documents
from rag_core.embeddings import DEFAULT_EMBEDDER
from rag_core.core.types import ChunkingConfig


def load_index(name: str) -> Index:
    """The index `name`, ready to query. Built with a local embedder: one shared, cached Index.
    Built with a hosted one: this session's own Index, whose embedder uses this session's
    credentials (a missing key is a ConfigError that says to add it in Settings)."""

    directory = saved.index_dir(name)
    generation = saved.generation(directory)
    manifest = read_manifest(directory)
    session_db = is_database(manifest.store) and providers.credentials().pg_dsn
    if not is_hosted(manifest.embedder) and not session_db:
        return cache.open_index(str(directory), generation)
    return _session_index(str(directory), generation, manifest)  # this session's keys or database


def _session_index(directory: str, generation: str, manifest) -> Index:
    options = {"dim": manifest.dim} if dim_from_server(manifest.embedder) else {}
    try:
        emb = providers.embedder(manifest.embedder, **options)
    except ConfigError as exc:
        raise ConfigError(f"the index {Path(directory).name} was built with {manifest.embedder}, which "
                          f"needs a key or base URL this session does not have ({exc}). Add it on the Settings "
                          "page, then try again.") from None
    memo = st.session_state.setdefault("session_indexes", {})
    creds = providers.credentials()
    key = (directory, generation, id(emb), providers.fingerprint(creds))
    if key not in memo:
        for stale in [k for k in memo if k[0] == directory]:
            memo.pop(stale)
        memo[key] = cache.open_session_index(directory, emb, creds)
    return memo[key]


def ensure_demo_index(progress: Callable[[int, int, str], None] | None = None) -> Index:
    """Open the demo index, building it first (default local embedder, faiss) if missing."""

    directory = saved.index_dir(saved.DEMO_NAME)
    with cache.build_lock():
        if not rindex.exists(directory):
            index = Index.create(directory, cache.embedder(DEFAULT_EMBEDDER), "faiss", ChunkingConfig())
            index.ingest(demo_documents(), progress=progress)
            index.save()
    return load_index(saved.DEMO_NAME)


def explore_map(name: str) -> ExploreMap:
    directory = saved.index_dir(name)
    return cache.explore_map(str(directory), saved.generation(directory), load_index(name))
