"""The Index page's work: chunking previews and statistics, cost estimates, building an index,
and the table of saved indexes."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from typing import Callable, Sequence

import pandas as pd
import plotly.express as px
import streamlit as st

from rag_core import costs
from rag_core import index as rindex
from rag_core.chunking import chunk_documents
from rag_core.index import Index
from rag_core.types import Chunk, ChunkingConfig, Document

from . import cache, paths


def _docs_key(docs: Sequence[Document]) -> str:
    digest = hashlib.sha1()
    for d in docs:
        digest.update(f"{d.source}\x1f{d.ordinal}\x1f{len(d.text)}\x1e".encode())
    return digest.hexdigest()


def chunk_all(docs: Sequence[Document], config: ChunkingConfig) -> tuple[list[Chunk], list[int]]:
    """All chunks and their token lengths, remembered per (documents, config) in this session."""
    key = (_docs_key(docs), config)
    memo = st.session_state.get("chunk_memo")
    if memo and memo[0] == key:
        return memo[1], memo[2]
    chunks = chunk_documents(docs, config)
    enc = costs.get_encoding(config.encoding)
    lengths = [len(t) for t in enc.encode_ordinary_batch([c.text for c in chunks])] if chunks else []
    st.session_state["chunk_memo"] = (key, chunks, lengths)
    return chunks, lengths


def length_histogram(lengths: Sequence[int]):
    fig = px.histogram(pd.DataFrame({"tokens": lengths}), x="tokens", nbins=40,
                       title=f"Chunk lengths in tokens ({len(lengths)} chunks)")
    fig.update_layout(height=320, margin=dict(l=10, r=10, t=50, b=10), bargap=0.05,
                      yaxis_title="chunks", font=dict(size=15))
    return fig


def embedding_models() -> list[str]:
    """Hosted embedding models in the price table (what a build would cost there)."""
    return [m for m in costs.DEFAULT_PRICES.models() if "embed" in m]


def build(name: str, docs: Sequence[Document], embedder_name: str, store_name: str, config: ChunkingConfig,
          progress: Callable[[int, int, str], None]) -> rindex.IngestResult:
    """Create the index `name` (or add to it, if its settings match) and save it atomically."""
    directory = paths.index_dir(name)
    with cache.build_lock():
        if rindex.exists(directory):
            index = rindex.open_for_ingest(directory, embedder_name, store_name, config)
        else:
            index = Index.create(directory, cache.embedder(embedder_name), store_name, config)
        result = index.ingest(list(docs), progress=progress)
        index.save()
    return result


def saved_frame(saved: Sequence[paths.SavedIndex]) -> pd.DataFrame:
    rows = []
    for s in saved:
        m = s.manifest
        if m is None:
            rows.append({"name": s.name, "embedder": "?", "store": "?", "chunks": 0, "sources": 0,
                         "chunking": "", "updated": "", "problem": s.problem})
            continue
        c = m.chunking
        rows.append({"name": s.name, "embedder": m.embedder, "store": m.store, "chunks": m.n_chunks,
                     "sources": len(m.sources), "chunking": f"{c.strategy} {c.size}/{c.overlap}",
                     "updated": m.updated_at, "problem": ""})
    return pd.DataFrame(rows)


def manifest_json(saved: paths.SavedIndex) -> str:
    if saved.manifest is None:
        return json.dumps({"problem": saved.problem})
    raw = dataclasses.asdict(saved.manifest)
    raw["sources"] = f"{len(saved.manifest.sources)} sources"
    return json.dumps(raw, indent=2)


def manage(saved: Sequence[paths.SavedIndex], on_use: Callable[[str], None]) -> None:
    """Saved indexes with their manifests: use, rename, delete (with a confirmation)."""
    for s in saved:
        with st.expander(f"**{s.name}** — " + (f"{s.manifest.n_chunks} chunks, {s.manifest.embedder}, "
                                                f"{s.manifest.store}" if s.manifest else s.problem)):
            st.code(manifest_json(s), language="json")
            c1, c2, c3 = st.columns(3)
            if c1.button("Use in Chat", key=f"use:{s.name}", disabled=s.manifest is None):
                on_use(s.name)
                st.success(f"Chat now uses {s.name}.")
            new = c2.text_input("New name", key=f"rename_to:{s.name}", placeholder="new-name")
            if c2.button("Rename", key=f"rename:{s.name}", disabled=not new):
                paths.rename_index(s.name, new)
                st.rerun()
            sure = c3.checkbox("Yes, delete it", key=f"sure:{s.name}")
            if c3.button("Delete", key=f"delete:{s.name}", disabled=not sure, type="secondary"):
                paths.delete_index(s.name)
                st.rerun()
