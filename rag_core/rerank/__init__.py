"""Rerankers by name. Offline ones are pool methods (`pool-bm25`, `pool-rrf`: they re-order the
dense candidates only, and say so in their score label); no cross-encoder model can be fetched
here (hosted rerankers plug in as one module each). Whole-index BM25 and hybrid fusion are
retrieval modes (rag_core/retrieval/), not rerankers. The old names `bm25` and `rrf` resolve to
the pool rerankers with a deprecation note."""

from __future__ import annotations

import warnings
from typing import Callable

from rag_core.core.catalog import RERANKERS
from rag_core.core.types import Reranker
from rag_core.rerank.lexical import DEPRECATED, BM25Reranker, RRFReranker


def canonical_reranker(name: str | None, on_warning: Callable[[str], None] | None = None) -> str | None:
    """The current name for `name` (None for no reranker); an old name gets a deprecation note."""
    if not name or name == "none":
        return None
    if name in DEPRECATED:
        new = DEPRECATED[name]
        note = (f"reranker {name!r} is deprecated: it is now {new!r} (it re-orders the dense candidates "
                f"only); for BM25 over the whole index use the retriever: --retriever bm25 or hybrid")
        if on_warning is not None:
            on_warning(note)
        else:
            warnings.warn(note, FutureWarning, stacklevel=3)
        return new
    return name


def create_reranker(name: str | None, credentials: object = None, on_warning: Callable[[str], None] | None = None,
                    **options: object) -> Reranker | None:
    """`None` or "none" means no reranking. `credentials` reaches hosted rerankers only."""
    name = canonical_reranker(name, on_warning)
    if name is None:
        return None
    return RERANKERS.create(name, credentials=credentials, **options)
