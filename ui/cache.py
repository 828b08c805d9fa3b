"""The only st.cache_resource wrappers: heavy objects are built once per server, shared by
every session, and a rerun never re-embeds or reloads. Shared objects are thread-safe: the local
embedder locks its lazy load (onnxruntime's run is thread-safe), an Index builds its lazy BM25 and
lookups under a lock, BM25's query LRU is locked (tests/unit/test_threads.py).

An opened Index is kept per directory with its live generation (rag_core/index/shelf.py): every
save writes a new generation, so a rebuilt index reloads, replaces the old one in memory, and a
renamed one is opened fresh. Which index a
session opens (shared or its own, for hosted embedders) is ui/indexes.py's business. A shared
server's kept sessions and snapshots (ui/room.py) and the one thread that writes sessions live
here too.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import streamlit as st

from rag_core.index.index import Index
from rag_core.index.shelf import IndexShelf
from rag_core.room.store import SessionStore, SnapshotStore
from rag_core.evaluation.explore import ExploreMap
from rag_core.core.types import LLM, Embedder
from rag_core.embeddings import create_embedder
from rag_core.embeddings import DEFAULT_EMBEDDER
from rag_core.llm import create_llm
from rag_core.index.index import read_manifest
from rag_core.ingest.demo import demo_topics
from rag_core.evaluation.explore import build_map



@st.cache_resource(show_spinner="Loading the embedding model…")
def embedder(name: str) -> Embedder:
    return create_embedder(name)


@st.cache_resource(show_spinner=False)
def answerer(name: str) -> LLM:
    """The offline answerer weighs sentences by meaning with the shared local embedder."""

    return create_llm(name, embedder=embedder(DEFAULT_EMBEDDER))


@st.cache_resource(show_spinner=False)
def index_shelf() -> IndexShelf[Index]:
    """One opened Index per directory, shared by every session; a rebuild's new generation
    replaces the old one there (no stale generations held until an LRU evicts them)."""
    return IndexShelf(max_entries=8)


def open_index(directory: str, generation: str) -> Index:
    def opened() -> Index:
        with st.spinner("Opening the index…"):
            manifest = read_manifest(directory)
            return Index.open(directory, embedder=embedder(manifest.embedder))

    return index_shelf().get(directory, generation, opened)


def session_embedder(name: str, credentials, on_warning, **options) -> Embedder:
    """A hosted embedder for one session, never shared: its key and its usage meter are that
    session's (ui/providers.py keeps it in the session). This module is the one place in ui/
    that builds embedders and opens indexes."""
    return create_embedder(name, credentials=credentials, on_warning=on_warning, **options)


def open_session_index(directory: str, session_embedder: Embedder, credentials) -> Index:
    """An index opened with a session's own embedder and credentials (ui/indexes.py keeps it)."""
    return Index.open(directory, embedder=session_embedder, credentials=credentials)


@st.cache_resource(show_spinner=False)
def build_lock() -> threading.Lock:
    """One index build at a time per server (two sessions pressing "load demo" build once)."""
    return threading.Lock()


@st.cache_resource(show_spinner="Projecting the embeddings to 2-D…", max_entries=8)
def explore_map(directory: str, generation: str, _index: Index) -> ExploreMap:
    """The index's 2-D map (PCA, colour groups, drawn sample), once per (directory, generation)."""

    return build_map(_index, demo_topics())


@st.cache_resource
def room_stores(home: str) -> tuple[SessionStore, SnapshotStore]:
    """The shared server's kept sessions and snapshots under the playground home."""
    root = Path(home)
    return SessionStore(root / "sessions"), SnapshotStore(root / "snapshots")


@st.cache_resource
def session_writer() -> ThreadPoolExecutor:
    """One thread that writes kept sessions, in order, off the script thread: pickling a session
    at the end of every run kept the run going long enough that a question sent then was lost
    (1-2 of 24 at N=8 in ui.bench_sessions, none without the end-of-run save)."""
    return ThreadPoolExecutor(max_workers=1, thread_name_prefix="room-session-writer")
