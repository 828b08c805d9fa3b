"""Where rag_core keeps caches (embeddings, tiktoken encodings) and default indexes.

`RAG_PLAYGROUND_HOME` (an operator setting: core/settings.py) overrides the base directory (tests
point it at a temp dir).
"""

from __future__ import annotations

import os
from pathlib import Path

from rag_core.core.settings import current


def home_path() -> Path:
    """The base directory, not created: for a cache that is only an optimisation (the tokenizer's
    ranks), so a read-only home does not stop a command that never needs it."""
    base = current().get("RAG_PLAYGROUND_HOME") or os.path.join(os.path.expanduser("~"), ".cache", "rag-playground")
    return Path(base)


def home() -> Path:
    path = home_path()
    path.mkdir(parents=True, exist_ok=True)
    return path


def cache_dir(name: str) -> Path:
    path = home() / name
    path.mkdir(parents=True, exist_ok=True)
    return path


DATA_DIR = Path(__file__).resolve().parents[1] / "data"  # rag_core/data
