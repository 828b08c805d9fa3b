"""One error hierarchy, so the CLI and the app can show any failure as one clear line.

Every message says what happened and what to do next. Catch `RagError` at the edges.
"""


class RagError(Exception):
    """Base of every error rag_core raises on purpose."""


class ConfigError(RagError):
    """A setting is unknown or invalid (unknown provider name, overlap >= size, ...)."""


class IngestError(RagError):
    """A file or page could not be turned into documents."""


class ProviderError(RagError):
    """An embedder, store, reranker or LLM failed (model missing, server error, ...)."""


class IndexMismatchError(RagError):
    """An index was opened with an embedder or dimension other than the one it was built with."""


class StoreError(RagError):
    """An index on disk is missing, unreadable, or could not be written."""


class DiskFullError(StoreError):
    """A write failed because the disk (or the user's quota) is full; nothing was changed."""
