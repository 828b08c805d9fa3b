"""Pinecone playground indexes seen from this machine: attach one another app instance built, as a
local directory that points at its namespace (the Pinecone twin of saved_pg.attach)."""

from __future__ import annotations

import json
import os
import time
import uuid
from pathlib import Path

from rag_core.core.errors import StoreError
from rag_core.index.index import CURRENT, MANIFEST
from rag_core.stores.pinecone_store import POINTER_FILE, PineconeSettings, pinecone_indexes


def attach(directory: str | Path, name: str, settings: PineconeSettings | None = None) -> Path:
    """A local index directory pointing at the Pinecone playground index `name` (a second app
    instance opening an index another one built). Refuses to replace an existing directory."""
    directory = Path(directory)
    if directory.exists():
        raise StoreError(f"{directory} already exists: choose another local directory to attach {name} to")
    found = {i.name: i for i in pinecone_indexes(settings)}
    if name not in found or not found[name].manifest_json:
        raise StoreError(f"Pinecone holds no playground index {name!r}; known: {', '.join(found) or '(none)'}")
    staging = directory.parent / f".attach-{uuid.uuid4().hex[:8]}"
    generation = staging / f"gen-{time.time_ns()}-{uuid.uuid4().hex[:6]}"
    generation.mkdir(parents=True)
    (generation / MANIFEST).write_text(found[name].manifest_json)
    (generation / POINTER_FILE).write_text(json.dumps({"format": 1, "namespace": name, "dim": found[name].dim}))
    (staging / CURRENT).write_text(generation.name + "\n")
    os.rename(staging, directory)
    return directory
