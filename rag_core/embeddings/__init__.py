"""Embedders by name: `local` (MiniLM, ONNX, offline default), `hashing[:dim]` (lexical fake).

`create_embedder(name)` returns the embedder wrapped in the on-disk cache. Hosted providers
`openai:<model>[@dims]`, `cohere:<model>[@dims]` and `compatible:<model>` (any OpenAI-compatible
server) take `credentials=Credentials(...)`; their modules (and SDKs) load only when used.
"""

from __future__ import annotations

from pathlib import Path

from rag_core.core.catalog import EMBEDDERS
from rag_core.core.types import Embedder
from rag_core.embeddings.cache import CachedEmbedder, CacheStats
from rag_core.embeddings.hashing import HashingEmbedder
from rag_core.embeddings.local_onnx import LocalMiniLM

DEFAULT_EMBEDDER = "local:all-MiniLM-L6-v2"


def create_embedder(name: str = DEFAULT_EMBEDDER, cached: bool = True, cache_dir: str | Path | None = None,
                    credentials=None, **options) -> Embedder:
    """Look `name` up; wrap in the disk cache unless `cached=False` (benchmarks, tests).

    `credentials` (a providers.Credentials) reaches hosted providers only, so callers may pass
    it whatever the name. Hosted options: `base_url`, `dimensions`, `dim` (a compatible
    server's known dimension, e.g. from a manifest), `policy`, `on_warning`, batch limits.
    """
    inner = EMBEDDERS.create(name, credentials=credentials, **options)
    return CachedEmbedder(inner, cache_dir=cache_dir) if cached else inner


__all__ = [
    "EMBEDDERS", "DEFAULT_EMBEDDER", "create_embedder", "CachedEmbedder", "CacheStats",
    "HashingEmbedder", "LocalMiniLM",
]
