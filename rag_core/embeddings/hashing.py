"""A feature-hashing bag-of-words embedder: deterministic, instant, no model files.

Lexical, not semantic: texts are close when they share words (and, optionally, character
trigrams), not when they mean the same thing. For tests and quick demos where loading
ONNX is not worth it; label results from it as such.
"""

from __future__ import annotations

import hashlib
import re
from typing import Sequence

import numpy as np

from rag_core.core.errors import ConfigError

_WORD = re.compile(r"\w+", re.UNICODE)


def _bucket(feature: str, dim: int) -> tuple[int, float]:
    """Stable across processes (unlike hash()): index and a +-1 sign to cancel collisions."""
    digest = hashlib.blake2b(feature.encode("utf-8"), digest_size=8).digest()
    value = int.from_bytes(digest, "little")
    return value % dim, 1.0 if (value >> 63) & 1 else -1.0


class HashingEmbedder:
    """Hashes lower-cased words (and char trigrams if `char_ngrams`) into `dim` buckets."""

    def __init__(self, dim: int = 256, *, char_ngrams: bool = True) -> None:
        if dim < 8:
            raise ValueError("hashing embedder needs dim >= 8")
        self.dim = int(dim)
        self.char_ngrams = char_ngrams
        self.name = "hashing" if self.dim == 256 else f"hashing:{self.dim}"

    def _features(self, text: str) -> list[tuple[str, float]]:
        words = _WORD.findall(text.lower())
        if not words:  # still a unit vector, so empty text stays comparable
            return [("\0empty", 1.0)]
        feats = [(w, 1.0) for w in words]
        if self.char_ngrams:
            for w in words:
                padded = f"<{w}>"
                feats.extend((f"#{padded[i:i + 3]}", 0.5) for i in range(len(padded) - 2))
        return feats

    def _embed(self, text: str) -> np.ndarray:
        vec = np.zeros(self.dim, dtype=np.float32)
        for feature, weight in self._features(text):
            index, sign = _bucket(feature, self.dim)
            vec[index] += sign * weight
        norm = float(np.linalg.norm(vec))
        if norm == 0:  # every feature cancelled out (rare): fall back to the empty-text vector
            return self._embed("")
        return vec / norm

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, text in enumerate(texts):
            out[i] = self._embed(text)
        return out

    def embed_query(self, text: str) -> np.ndarray:
        return self._embed(text)

    def count_tokens(self, texts: Sequence[str]) -> int:
        return sum(len(_WORD.findall(t)) for t in texts)


def from_name(model: str | None, **options) -> HashingEmbedder:
    """`hashing` or `hashing:<dims>` (the registry passes the part after the colon)."""
    if model is None:
        return HashingEmbedder(**options)
    try:
        dim = int(model)
    except ValueError:
        raise ConfigError(f"hashing embedder takes a dimension, e.g. `hashing:512`, not {model!r}") from None
    if dim < 8:
        raise ConfigError(f"hashing embedder needs a dimension of at least 8, got {dim}")
    return HashingEmbedder(dim, **options)
