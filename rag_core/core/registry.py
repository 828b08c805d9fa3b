"""A registry by name for each kind of provider (embedder, store, reranker, llm).

Names look like `kind` or `provider:model` (e.g. `local:all-MiniLM-L6-v2`,
`openai:gpt-4o-mini`). A factory receives the part after the colon, so one factory
serves every model of a provider. Unknown names raise a ConfigError listing known ones.

Each provider declares, once, where it registers (a `Registration`): whether it is hosted
(needs a key, costs money), which credentials it takes, a one-line description (the app's
help text), whether it takes a `:model` suffix and which models the app offers. Everything
else (is_hosted, "free", credential injection, the app's choice lists) is derived from it;
rag_core/core/catalog.py answers those questions across every kind.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Callable, Generic, Literal, Mapping, TypeVar

from rag_core.core.errors import ConfigError

T = TypeVar("T")

#: which credentials a hosted provider reads (the fields of providers.Credentials it uses)
Credential = Literal["openai", "cohere", "compatible", "pinecone"]
CREDENTIALS: tuple[str, ...] = ("openai", "cohere", "compatible", "pinecone")


@dataclass(frozen=True)
class Registration(Generic[T]):
    """What one provider prefix declares. `models` are the model suffixes the app offers
    ("" is the bare prefix); a provider that takes a model but offers none (an
    OpenAI-compatible server) is offered as `prefix:` with the model typed beside it.
    `dim_from_server`: the vector size is not implied by the name (the server tells), so a
    caller that knows it (an index manifest) passes `dim=`."""

    prefix: str
    factory: Callable[..., T] | str
    hosted: bool
    credential: Credential | None
    description: str
    takes_model: bool = False
    models: tuple[str, ...] = ()
    example: str = ""
    dim_from_server: bool = False
    #: fixed keyword arguments for a `module:attr` factory (e.g. which OpenAI-shaped provider)
    bind: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))

    def __post_init__(self) -> None:
        problem = _problem(self)
        if problem:
            raise ConfigError(f"provider {self.prefix!r} is registered wrongly: {problem}")

    def choices(self) -> list[str]:
        """The names the app offers for this provider."""
        if not self.takes_model:
            return [self.prefix]
        if not self.models:
            return [self.prefix + ":"]
        return [f"{self.prefix}:{m}" if m else self.prefix for m in self.models]


def load_factory(target: str) -> Callable[..., Any]:
    """`module:attr[.attr]` imported on first use: the catalog names every provider without
    importing one (nor its SDK), so asking "is this hosted?" loads nothing."""
    module, _, attr = target.partition(":")
    found: Any = importlib.import_module(module)
    for part in attr.split("."):
        found = getattr(found, part)
    return found


def _problem(r: Registration) -> str:
    if not r.prefix or ":" in r.prefix:
        return "a prefix is a non-empty name without ':'"
    if r.hosted != (r.credential is not None):
        return "a hosted provider names its credential, and only a hosted one does"
    if r.credential is not None and r.credential not in CREDENTIALS:
        return f"credential must be one of {', '.join(CREDENTIALS)}"
    if not r.description.strip() or "\n" in r.description:
        return "the description is one non-empty line"
    if r.models and not r.takes_model:
        return "models are offered only by a provider that takes a :model suffix"
    return ""


class Registry(Generic[T]):
    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._entries: dict[str, Registration[T]] = {}

    def register(self, prefix: str, *, hosted: bool, description: str, credential: Credential | None = None,
                 takes_model: bool = False, models: tuple[str, ...] = (), example: str | None = None,
                 dim_from_server: bool = False) -> Callable[[Callable[..., T]], Callable[..., T]]:
        """Decorator: `@EMBEDDERS.register("local", hosted=False, ...)` makes `local` (and, if it
        takes a model, `local:<model>`) resolve."""

        def wrap(factory: Callable[..., T]) -> Callable[..., T]:
            if prefix in self._entries:
                raise ConfigError(f"{self.kind} {prefix!r} is registered twice")
            self._entries[prefix] = Registration(
                prefix, factory, hosted, credential, description, takes_model, tuple(models),
                example or prefix, dim_from_server)
            return factory

        return wrap

    def declare(self, prefix: str, factory: str, *, hosted: bool, description: str,
                credential: Credential | None = None, takes_model: bool = False, models: tuple[str, ...] = (),
                example: str | None = None, dim_from_server: bool = False, **bind: Any) -> None:
        """Register `prefix` by where its class lives (`"rag_core.stores.faiss_store:FaissStore"`),
        imported only when one is created; `bind` are fixed keyword arguments (`kind="hnsw"`). The
        model suffix is passed first when the provider takes one."""
        if prefix in self._entries:
            raise ConfigError(f"{self.kind} {prefix!r} is registered twice")
        self._entries[prefix] = Registration(prefix, factory, hosted, credential, description, takes_model,
                                             tuple(models), example or prefix, dim_from_server,
                                             MappingProxyType(dict(bind)))

    def registrations(self) -> tuple[Registration[T], ...]:
        """In registration order (the order the app offers them)."""
        return tuple(self._entries.values())

    def describe(self, name: str) -> str:
        """What `name` (or `prefix:model`) is for, as declared where it registered; "" if unknown."""
        found = self.get(name)
        return found.description if found else ""

    def names(self) -> list[str]:
        return sorted(r.example for r in self._entries.values())

    def choices(self) -> list[str]:
        """Every name the app offers, in registration order."""
        return [c for r in self._entries.values() for c in r.choices()]

    def get(self, name: str | None) -> Registration[T] | None:
        """The registration `name` resolves to, or None (never raises)."""
        return self._entries.get(str(name or "").partition(":")[0])

    def lookup(self, name: str) -> Registration[T]:
        found = self.get(name)
        if found is None:
            known = ", ".join(self.names()) or "(none)"
            raise ConfigError(f"unknown {self.kind} {name!r}; known: {known}")
        return found

    def is_hosted(self, name: str | None) -> bool:
        found = self.get(name)
        return found is not None and found.hosted

    def create(self, name: str, credentials: object = None, **options) -> T:
        """The one place a name becomes an object: `credentials` (a providers.Credentials) reach
        hosted providers only, so callers may pass them whatever the name."""
        found = self.lookup(name)
        _, colon, model = name.partition(":")
        if colon and not found.takes_model:
            raise ConfigError(f"{self.kind} {found.prefix!r} takes no ':model' suffix; "
                              f"write just {found.prefix!r}")
        if found.credential is not None:
            options["credentials"] = credentials
        if isinstance(found.factory, str):
            make = load_factory(found.factory)
            args = (model or None,) if found.takes_model else ()
            return make(*args, **found.bind, **options)
        return found.factory(model or None, **options)
