"""OpenAI embeddings (text-embedding-3-small/-large with `dimensions`, ada-002) and any
OpenAI-compatible `/v1/embeddings` server (Ollama, vLLM, llama.cpp server, LM Studio).

Names identify model and dimensions, because the index manifest compares names:
`openai:text-embedding-3-large@256`, `compatible:nomic-embed-text`. A compatible server's
dimension is learnt from its first response (a one-text probe if `.dim` is read first) unless
passed in (`dim=` from a manifest). Inputs over the per-input token limit are truncated with a
warning; requests are batched under the inputs-per-request and tokens-per-request limits;
every request goes through RetryPolicy; the tokens the API reports are added to `meter`.
"""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np

from rag_core.costs import count_tokens, get_encoding
from rag_core.core.errors import ConfigError, ProviderError
from rag_core.providers.clients import HostedProvider, openai_client, openai_endpoint
from rag_core.providers.credentials import Credentials
from rag_core.providers.metering import batches
from rag_core.providers.retry import DEFAULT_POLICY, RetryPolicy

#: model -> (native dimension, accepts `dimensions`)
OPENAI_EMBEDDING_MODELS: dict[str, tuple[int, bool]] = {
    "text-embedding-3-small": (1536, True),
    "text-embedding-3-large": (3072, True),
    "text-embedding-ada-002": (1536, False),
}
MAX_INPUTS_PER_REQUEST = 2048
MAX_TOKENS_PER_INPUT = 8191
MAX_TOKENS_PER_REQUEST = 300_000
ENCODING = "cl100k_base"


def split_dimensions(model: str | None) -> tuple[str | None, int | None]:
    """`text-embedding-3-large@256` -> (`text-embedding-3-large`, 256)."""
    if not model or "@" not in model:
        return model, None
    base, _, dims = model.rpartition("@")
    try:
        return base, int(dims)
    except ValueError:
        raise ConfigError(f"embedding dimensions must be a number, e.g. {base}@256, not {dims!r}") from None


def normalise(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return vectors / norms


def checked_vectors(rows: object, count: int, dim: int | None, who: str) -> np.ndarray:
    """A server's embeddings as unit float32 rows, `count` of them, each of `dim` (if known)
    finite numbers, or a ProviderError saying what was wrong: a NaN, infinite, all-zero,
    ragged or missing vector would otherwise be saved and silently break every search."""
    fix = "nothing was saved; check the model and the server (a compatible server may need another model)"
    try:
        n = len(rows)  # type: ignore[arg-type]
        values = np.array(rows, dtype=np.float64) if n else np.empty((0, dim or 0))
    except (TypeError, ValueError, OverflowError):
        raise ProviderError(f"{who}: the server's embeddings are not lists of numbers of one length; {fix}") from None
    if n != count:
        raise ProviderError(f"{who}: asked for {count} embeddings, got {n}; {fix}")
    if values.ndim != 2 or (n and values.shape[1] == 0):
        raise ProviderError(f"{who}: the server's embeddings are not lists of numbers of one length; {fix}")
    if dim is not None and n and values.shape[1] != dim:
        raise ProviderError(f"{who}: the server returned {values.shape[1]}-dimensional vectors, expected {dim}; "
                            "is it the same model the index was built with?")
    bad = np.flatnonzero(~np.isfinite(values).all(axis=1))
    if bad.size:
        raise ProviderError(f"{who}: the server returned {bad.size} vector(s) with NaN or infinite values "
                            f"(first: input {bad[0] + 1}); {fix}")
    norms = np.linalg.norm(values, axis=1, keepdims=True)
    zero = np.flatnonzero(norms[:, 0] == 0) if n else np.array([], dtype=int)
    if zero.size:
        raise ProviderError(f"{who}: the server returned {zero.size} all-zero vector(s) (first: input {zero[0] + 1}), "
                            f"which match nothing; {fix}")
    return (values / norms).astype(np.float32)


def _public_url(url: str) -> str:
    """`url` without user:password, query or fragment (a key must never reach the cache)."""
    from urllib.parse import urlsplit, urlunsplit

    try:
        parts = urlsplit(url)
        netloc = parts.hostname or ""
        if ":" in netloc:
            netloc = f"[{netloc}]"
        if parts.port:
            netloc += f":{parts.port}"
    except ValueError:
        return url.partition("?")[0].rpartition("@")[2]
    return urlunsplit((parts.scheme.lower(), netloc, parts.path.rstrip("/"), "", ""))


class OpenAIEmbedder(HostedProvider):
    """`provider` is `openai` or `compatible`; see the module docstring for the rest."""

    make_client = staticmethod(openai_client)

    def __init__(
        self,
        model: str | None,
        *,
        provider: str = "openai",
        credentials: Credentials | None = None,
        base_url: str | None = None,
        dimensions: int | None = None,
        dim: int | None = None,
        policy: RetryPolicy = DEFAULT_POLICY,
        max_inputs: int = MAX_INPUTS_PER_REQUEST,
        max_tokens_per_input: int = MAX_TOKENS_PER_INPUT,
        max_tokens_per_request: int = MAX_TOKENS_PER_REQUEST,
        on_warning: Callable[[str], None] | None = None,
        client: object | None = None,
    ) -> None:
        model, at_dims = split_dimensions(model)
        dimensions = dimensions or at_dims
        if provider == "openai":
            model = model or "text-embedding-3-small"
            if model not in OPENAI_EMBEDDING_MODELS:
                known = ", ".join(OPENAI_EMBEDDING_MODELS)
                raise ConfigError(f"unknown OpenAI embedding model {model!r}; known: {known}")
            native, shortens = OPENAI_EMBEDDING_MODELS[model]
            if dimensions is not None and not shortens:
                raise ConfigError(f"{model} has a fixed {native} dimensions; `dimensions` needs a text-embedding-3 model")
            if dimensions is not None and not 1 <= dimensions <= native:
                raise ConfigError(f"{model} takes dimensions from 1 to {native}, not {dimensions}")
            self._dim: int | None = dimensions or native
        else:
            if not model:
                raise ConfigError("name the server's embedding model, e.g. compatible:nomic-embed-text")
            self._dim = dimensions or dim
        self.provider = provider
        self.model = model
        self.dimensions = dimensions
        self.name = f"{provider}:{model}" + (f"@{dimensions}" if dimensions else "")
        #: the price-table name
        self.cost_model = f"{provider}:{model}"
        self._connect(openai_endpoint(provider, credentials, base_url), credentials, policy, client, on_warning)
        #: the embedding cache's key: a compatible model name means different models on different servers
        self.cache_namespace = (f"{self.name} {_public_url(self.endpoint.base_url)}" if provider == "compatible"
                                else self.name)
        self.max_inputs = max_inputs
        self.max_tokens_per_input = max_tokens_per_input
        self.max_tokens_per_request = max_tokens_per_request

    # ---- dimension ------------------------------------------------------------------

    @property
    def dim(self) -> int:
        if self._dim is None:
            self._embed_batch(["dimension probe"])  # sets _dim from the response
        assert self._dim is not None
        return self._dim

    # ---- calls ----------------------------------------------------------------------

    def _fit(self, texts: Sequence[str]) -> tuple[list[str], list[int]]:
        """Truncate over-long texts (with a warning); return texts and their token counts."""
        enc = get_encoding(ENCODING)
        fitted, counts = [], []
        for i, text in enumerate(texts):
            tokens = enc.encode_ordinary(text)
            if not text:  # the API rejects empty strings
                text, tokens = " ", enc.encode_ordinary(" ")
            if len(tokens) > self.max_tokens_per_input:
                self._warn(f"{self.name}: input {i + 1} has {len(tokens)} tokens, over the limit of "
                           f"{self.max_tokens_per_input}; embedded only its first {self.max_tokens_per_input}")
                tokens = tokens[: self.max_tokens_per_input]
                text = enc.decode(tokens)
            fitted.append(text)
            counts.append(len(tokens))
        return fitted, counts

    def _embed_batch(self, texts: list[str]) -> np.ndarray:
        kwargs: dict = {"model": self.model, "input": texts}
        if self.dimensions:
            kwargs["dimensions"] = self.dimensions
        if self.provider == "compatible":
            kwargs["encoding_format"] = "float"  # many local servers do not speak base64
        response = self.policy.call(
            lambda: self.client().embeddings.create(**kwargs),
            provider=self.provider, model=self.model, where=self.endpoint.base_url,
            key_hint=self.endpoint.key_hint, credentials=self.credentials,
        )
        vectors = checked_vectors(self._rows(response, len(texts)), len(texts), self._dim, self.name)
        usage = getattr(response, "usage", None)
        tokens = getattr(usage, "prompt_tokens", None) if usage else None
        self.meter.add(tokens=tokens)  # the meter drops (and counts) a figure that is not a believable count
        if self._dim is None:
            self._dim = vectors.shape[1]
        return vectors

    def _rows(self, response: object, count: int) -> list:
        """The embeddings in input order; a ProviderError for a response of another shape."""
        data = getattr(response, "data", None)
        try:
            indexed = [(d.index, d.embedding) for d in data]  # type: ignore[union-attr]
        except (TypeError, AttributeError):
            raise ProviderError(f"{self.name}: the server's answer is not an embeddings response "
                                f"(no data[].embedding); is {self.endpoint.base_url} an OpenAI-compatible "
                                "/v1 URL?") from None
        if sorted(i for i, _ in indexed if isinstance(i, int)) != list(range(len(indexed))):
            raise ProviderError(f"{self.name}: the server's embeddings carry missing or repeated indexes; asked for "
                                f"{count}, got {len(indexed)}; nothing was saved")
        return [e for _, e in sorted(indexed, key=lambda pair: pair[0])]

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        texts = list(texts)
        if not texts:
            return np.empty((0, self.dim), dtype=np.float32)
        fitted, counts = self._fit(texts)
        parts = [self._embed_batch(fitted[r.start:r.stop])
                 for r in batches(counts, self.max_inputs, self.max_tokens_per_request)]
        return np.vstack(parts)

    def embed_query(self, text: str) -> np.ndarray:
        return self.embed_documents([text])[0]

    def count_tokens(self, texts: Sequence[str]) -> int:
        return count_tokens(texts, ENCODING)
