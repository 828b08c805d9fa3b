"""Where rag_core keeps caches (embeddings, tiktoken encodings) and default indexes.

`RAG_PLAYGROUND_HOME` (an operator setting: core/settings.py) overrides the base directory (tests
point it at a temp dir).
"""

from __future__ import annotations

import os
from pathlib import Path

from rag_core.core.settings import current


def home() -> Path:
    base = current().get("RAG_PLAYGROUND_HOME") or os.path.join(os.path.expanduser("~"), ".cache", "rag-playground")
    path = Path(base)
    path.mkdir(parents=True, exist_ok=True)
    return path


def cache_dir(name: str) -> Path:
    path = home() / name
    path.mkdir(parents=True, exist_ok=True)
    return path


DATA_DIR = Path(__file__).resolve().parents[1] / "data"  # rag_core/data
