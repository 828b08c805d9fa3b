"""Embedders by name: `local` (MiniLM, ONNX, offline default), `hashing[:dim]` (lexical fake).

`create_embedder(name)` returns the embedder wrapped in the on-disk cache; hosted
providers (openai, cohere) register themselves here from their own modules.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import ConfigError
from ..registry import Registry
from ..types import Embedder
from .cache import CachedEmbedder, CacheStats
from .hashing import HashingEmbedder
from .local_onnx import LocalMiniLM

EMBEDDERS: Registry[Embedder] = Registry("embedder")
DEFAULT_EMBEDDER = "local:all-MiniLM-L6-v2"


@EMBEDDERS.register("local", example="local:all-MiniLM-L6-v2")
def _local(model: str | None, **options) -> Embedder:
    return LocalMiniLM(model, **options)


@EMBEDDERS.register("hashing", example="hashing")
def _hashing(model: str | None, **options) -> Embedder:
    if model is None:
        return HashingEmbedder(**options)
    try:
        dim = int(model)
    except ValueError:
        raise ConfigError(f"hashing embedder takes a dimension, e.g. `hashing:512`, not {model!r}") from None
    if dim < 8:
        raise ConfigError(f"hashing embedder needs a dimension of at least 8, got {dim}")
    return HashingEmbedder(dim, **options)


def create_embedder(name: str = DEFAULT_EMBEDDER, cached: bool = True, cache_dir: str | Path | None = None,
                    **options) -> Embedder:
    """Look `name` up; wrap in the disk cache unless `cached=False` (benchmarks, tests)."""
    inner = EMBEDDERS.create(name, **options)
    return CachedEmbedder(inner, cache_dir=cache_dir) if cached else inner


__all__ = [
    "EMBEDDERS", "DEFAULT_EMBEDDER", "create_embedder", "CachedEmbedder", "CacheStats",
    "HashingEmbedder", "LocalMiniLM",
]
