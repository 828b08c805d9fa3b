"""Shared plumbing for hosted and OpenAI-compatible model servers.

`credentials` (typed keys, never shown), `retry` (the one retry/backoff policy and the one
place SDK failures become clear, redacted ProviderErrors), `connection` (Test connection),
`metering` (tokens the APIs report, read before/after a call). The providers themselves live
with their kind: embeddings/openai_embed.py, embeddings/cohere_embed.py, llm/openai_chat.py,
rerank/cohere_rerank.py. Nothing here imports an SDK at module import time.
"""

from .credentials import Credentials, load_credentials, redact
from .retry import ProviderCallError, RetryPolicy

HOSTED_PROVIDERS: tuple[str, ...] = ("openai", "cohere", "compatible")


def is_hosted(name: str | None) -> bool:
    """True for `openai:...`, `cohere:...`, `compatible:...` component names."""
    return bool(name) and str(name).partition(":")[0] in HOSTED_PROVIDERS


__all__ = ["Credentials", "load_credentials", "redact", "RetryPolicy", "ProviderCallError",
           "HOSTED_PROVIDERS", "is_hosted"]
