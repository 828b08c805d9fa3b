"""Cohere embeddings (v2 API): embed-english/multilingual v3 (and -light) and embed-v4.0.

Documents are embedded with input_type `search_document`, queries with `search_query` — the
two sides of Cohere's asymmetric retrieval models. At most 96 texts per request; Cohere counts
tokens with its own tokenizer, so the per-input limit is checked with a tiktoken estimate,
warned about, and the server told to truncate the end (`truncate="END"`). `embed-v4.0@512`
asks for 512 output dimensions. The input tokens billed (meta.billed_units) go to `meter`.
"""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np

from rag_core.costs import count_tokens, get_encoding
from rag_core.core.errors import ConfigError, ProviderError
from rag_core.providers.clients import HostedProvider, cohere_client, cohere_endpoint
from rag_core.providers.credentials import Credentials
from rag_core.providers.metering import batches, count_from_float
from rag_core.providers.retry import DEFAULT_POLICY, RetryPolicy
from rag_core.embeddings.openai_embed import checked_vectors, split_dimensions

#: model -> (dimension, max tokens per input, allowed output dimensions)
COHERE_EMBEDDING_MODELS: dict[str, tuple[int, int, tuple[int, ...]]] = {
    "embed-english-v3.0": (1024, 512, ()),
    "embed-multilingual-v3.0": (1024, 512, ()),
    "embed-english-light-v3.0": (384, 512, ()),
    "embed-multilingual-light-v3.0": (384, 512, ()),
    "embed-v4.0": (1536, 128_000, (256, 512, 1024, 1536)),
}
MAX_INPUTS_PER_REQUEST = 96
ENCODING = "cl100k_base"  # an estimate: Cohere's tokenizer differs


class CohereEmbedder(HostedProvider):
    make_client = staticmethod(cohere_client)

    def __init__(
        self,
        model: str | None,
        *,
        credentials: Credentials | None = None,
        base_url: str | None = None,
        dimensions: int | None = None,
        policy: RetryPolicy = DEFAULT_POLICY,
        max_inputs: int = MAX_INPUTS_PER_REQUEST,
        max_tokens_per_request: int = 500_000,
        on_warning: Callable[[str], None] | None = None,
        client: object | None = None,
        **_: object,
    ) -> None:
        model, at_dims = split_dimensions(model or "embed-english-v3.0")
        dimensions = dimensions or at_dims
        if model not in COHERE_EMBEDDING_MODELS:
            raise ConfigError(f"unknown Cohere embedding model {model!r}; known: {', '.join(COHERE_EMBEDDING_MODELS)}")
        native, self.max_tokens_per_input, allowed = COHERE_EMBEDDING_MODELS[model]
        if dimensions is not None and dimensions not in allowed:
            choices = ", ".join(map(str, allowed)) or f"only its native {native}"
            raise ConfigError(f"{model} cannot output {dimensions} dimensions; it takes {choices}")
        self.model = model
        self.dimensions = dimensions
        self.dim = dimensions or native
        self.name = f"cohere:{model}" + (f"@{dimensions}" if dimensions else "")
        self.cost_model = f"cohere:{model}"
        self._connect(cohere_endpoint(credentials, base_url), credentials, policy, client, on_warning)
        self.max_inputs = max_inputs
        self.max_tokens_per_request = max_tokens_per_request

    def _embed_batch(self, texts: list[str], input_type: str) -> np.ndarray:
        kwargs: dict = {"model": self.model, "input_type": input_type, "texts": texts,
                        "embedding_types": ["float"], "truncate": "END"}
        if self.dimensions:
            kwargs["output_dimension"] = self.dimensions
        response = self.policy.call(
            lambda: self.client().embed(**kwargs),
            provider="cohere", model=self.model, where=self.endpoint.base_url,
            key_hint=self.endpoint.key_hint, credentials=self.credentials,
        )
        floats = getattr(getattr(response, "embeddings", None), "float_", None)
        if floats is None:
            raise ProviderError(f"{self.name}: the server's answer has no float embeddings; is "
                                f"{self.endpoint.base_url} Cohere's v2 API?")
        vectors = checked_vectors(floats, len(texts), self.dim, self.name)
        billed = getattr(getattr(response, "meta", None), "billed_units", None)
        tokens = getattr(billed, "input_tokens", None) if billed else None
        count = count_from_float(tokens)
        self.meter.add(tokens=count, refused=tokens is not None and count is None)
        return vectors

    def _embed(self, texts: Sequence[str], input_type: str) -> np.ndarray:
        texts = [t if t else " " for t in texts]
        if not texts:
            return np.empty((0, self.dim), dtype=np.float32)
        enc = get_encoding(ENCODING)
        counts = []
        for i, text in enumerate(texts):
            n = len(enc.encode_ordinary(text))
            if n > self.max_tokens_per_input:
                self._warn(f"{self.name}: input {i + 1} has about {n} tokens, over the limit of "
                           f"{self.max_tokens_per_input}; Cohere embeds only its beginning (truncate=END)")
                n = self.max_tokens_per_input
            counts.append(n)
        parts = [self._embed_batch(texts[r.start:r.stop], input_type)
                 for r in batches(counts, self.max_inputs, self.max_tokens_per_request)]
        return np.vstack(parts)

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        return self._embed(list(texts), "search_document")

    def embed_query(self, text: str) -> np.ndarray:
        return self._embed([text], "search_query")[0]

    def count_tokens(self, texts: Sequence[str]) -> int:
        return count_tokens(texts, ENCODING)
