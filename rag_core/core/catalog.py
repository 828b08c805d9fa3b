"""Every provider registry by kind, and what a name declares there (rag_core/core/registry.py).

Read this to answer "does this name need a key / cost money?" (`is_hosted`, `is_free`, its
complement), "what is it?" (`describe`, the app's help text) and "what may a person choose?"
(`choices`), without a list of names anywhere else. A name no registry knows (a test fake,
a price-table entry such as `ollama:...`) is not hosted: nothing is billed for it.
"""

from __future__ import annotations

from typing import Literal

from rag_core.core.errors import ConfigError
from rag_core.core.registry import Registration, Registry

Kind = Literal["embedder", "store", "reranker", "llm"]
KINDS: tuple[str, ...] = ("embedder", "store", "reranker", "llm")


def registry(kind: str) -> Registry:
    """The registry for `kind` (its providers' modules load on first use)."""
    if kind == "embedder":
        from rag_core.embeddings import EMBEDDERS as found
    elif kind == "store":
        from rag_core.stores import STORES as found
    elif kind == "reranker":
        from rag_core.rerank import RERANKERS as found
    elif kind == "llm":
        from rag_core.llm import LLMS as found
    else:
        raise ConfigError(f"unknown kind of provider {kind!r}; known: {', '.join(KINDS)}")
    return found


def registration(kind: str, name: str) -> Registration:
    """What `name` declares as a `kind`; an unknown name is a ConfigError listing the known ones."""
    return registry(kind).lookup(name)


def is_hosted(name: str | None, kind: str | None = None) -> bool:
    """True when `name` (e.g. `openai:gpt-4o-mini`) is a hosted provider: it needs a key or a
    server, and may cost money. With no `kind`, any registry that knows its prefix decides
    (a prefix means the same in every kind: a test checks)."""
    if not name:
        return False
    kinds = (kind,) if kind else KINDS
    return any(registry(k).is_hosted(name) for k in kinds)


def is_free(name: str | None, kind: str | None = None) -> bool:
    """Costs nothing: exactly the names that are not hosted."""
    return not is_hosted(name, kind)


def is_local(name: str | None) -> bool:
    """A registered provider that runs on this machine (free, and known to be so)."""
    return bool(name) and not is_hosted(name) and any(registry(k).get(name) is not None for k in KINDS)


def credential(name: str | None) -> str | None:
    """Which credentials (`openai`, `cohere`, `compatible`) a name reads, or None."""
    for kind in KINDS:
        found = registry(kind).get(name)
        if found is not None and found.credential:
            return found.credential
    return None


def describe(kind: str, name: str) -> str:
    """The one-line help text for `name` as a `kind` (the app's selectbox help)."""
    return registration(kind, name).description


def choices(kind: str) -> list[str]:
    """The names the app offers for `kind`, in registration order; `prefix:` (ending in a
    colon) means the model is typed beside it."""
    return registry(kind).choices()


def takes_typed_model(choice: str) -> bool:
    """A choice such as `compatible:` whose model the person types."""
    return choice.endswith(":")


def dim_from_server(name: str) -> bool:
    """An embedder whose vector size its server tells (pass `dim=` when it is known)."""
    found = registry("embedder").get(name)
    return found is not None and found.dim_from_server


__all__ = ["KINDS", "Kind", "registry", "registration", "is_hosted", "is_free", "is_local", "credential",
           "describe", "choices", "takes_typed_model", "dim_from_server"]
