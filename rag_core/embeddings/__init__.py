"""Embedders by name: `local` (MiniLM, ONNX, offline default), `hashing[:dim]` (lexical fake).

`create_embedder(name)` returns the embedder wrapped in the on-disk cache. Hosted providers
`openai:<model>[@dims]`, `cohere:<model>[@dims]` and `compatible:<model>` (any OpenAI-compatible
server) take `credentials=Credentials(...)`; their modules (and SDKs) load only when used.
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


@EMBEDDERS.register("local", example="local:all-MiniLM-L6-v2",
                    description="all-MiniLM-L6-v2 on this machine's CPU (ONNX, 384 dimensions): "
                                "semantic search offline and free; the default.")
def _local(model: str | None, **options) -> Embedder:
    return LocalMiniLM(model, **options)


@EMBEDDERS.register("hashing", example="hashing",
                    description="Word hashing, no model: instant, but lexical only (texts match when they "
                                "share words, not meaning). For tests and quick trials, not for real "
                                "retrieval.")
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


@EMBEDDERS.register("openai", example="openai:text-embedding-3-small",
                    description="OpenAI's hosted embeddings: needs an OpenAI key and costs per token.")
def _openai(model: str | None, **options) -> Embedder:
    from .openai_embed import OpenAIEmbedder

    return OpenAIEmbedder(model, provider="openai", **options)


@EMBEDDERS.register("compatible", example="compatible:<model>",
                    description="Any OpenAI-compatible server (Ollama, vLLM, LM Studio, llama.cpp) at the "
                                "base URL given with it.")
def _compatible(model: str | None, **options) -> Embedder:
    from .openai_embed import OpenAIEmbedder

    return OpenAIEmbedder(model, provider="compatible", **options)


@EMBEDDERS.register("cohere", example="cohere:embed-english-v3.0",
                    description="Cohere's hosted embeddings: needs a Cohere key and costs per token.")
def _cohere(model: str | None, **options) -> Embedder:
    from .cohere_embed import CohereEmbedder

    return CohereEmbedder(model, **options)


HOSTED_EMBEDDERS = ("openai", "cohere", "compatible")


def create_embedder(name: str = DEFAULT_EMBEDDER, cached: bool = True, cache_dir: str | Path | None = None,
                    credentials=None, **options) -> Embedder:
    """Look `name` up; wrap in the disk cache unless `cached=False` (benchmarks, tests).

    `credentials` (a providers.Credentials) reaches hosted providers only, so callers may pass
    it whatever the name. Hosted options: `base_url`, `dimensions`, `dim` (a compatible
    server's known dimension, e.g. from a manifest), `policy`, `on_warning`, batch limits.
    """
    if name.partition(":")[0] in HOSTED_EMBEDDERS:
        options["credentials"] = credentials
    inner = EMBEDDERS.create(name, **options)
    return CachedEmbedder(inner, cache_dir=cache_dir) if cached else inner


__all__ = [
    "EMBEDDERS", "DEFAULT_EMBEDDER", "create_embedder", "CachedEmbedder", "CacheStats",
    "HashingEmbedder", "LocalMiniLM", "HOSTED_EMBEDDERS",
]
