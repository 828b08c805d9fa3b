"""Shared plumbing for hosted and OpenAI-compatible model servers.

`credentials` (typed keys, never shown), `retry` (the one retry/backoff policy and the one
place SDK failures become clear, redacted ProviderErrors), `connection` (Test connection),
`metering` (tokens the APIs report, read before/after a call). The providers themselves live
with their kind: embeddings/openai_embed.py, embeddings/cohere_embed.py, llm/openai_chat.py,
rerank/cohere_rerank.py. Nothing here imports an SDK at module import time.
"""

from rag_core.core.catalog import is_hosted
from rag_core.providers.credentials import Credentials, load_credentials, redact
from rag_core.providers.retry import ProviderCallError, RetryPolicy


__all__ = ["Credentials", "load_credentials", "redact", "RetryPolicy", "ProviderCallError",
           "is_hosted"]
