"""A registry by name for each kind of provider (embedder, store, reranker, llm).

Names look like `kind` or `provider:model` (e.g. `local:all-MiniLM-L6-v2`,
`openai:gpt-4o-mini`). A factory receives the part after the colon, so one factory
serves every model of a provider. Unknown names raise a ConfigError listing known ones.
"""

from __future__ import annotations

from typing import Callable, Generic, TypeVar

from .errors import ConfigError

T = TypeVar("T")


class Registry(Generic[T]):
    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._factories: dict[str, Callable[..., T]] = {}
        self._examples: dict[str, str] = {}
        self._descriptions: dict[str, str] = {}

    def register(self, prefix: str, example: str | None = None,
                 description: str = "") -> Callable[[Callable[..., T]], Callable[..., T]]:
        """Decorator: `@EMBEDDERS.register("local")` makes `local` and `local:<model>` resolve.
        `description` says what it is for (the app shows it beside the choice)."""

        def wrap(factory: Callable[..., T]) -> Callable[..., T]:
            self._factories[prefix] = factory
            self._examples[prefix] = example or prefix
            self._descriptions[prefix] = description
            return factory

        return wrap

    def describe(self, name: str) -> str:
        """What `name` (or `prefix:model`) is for, as declared where it registered; "" if unknown."""
        return self._descriptions.get(name.partition(":")[0], "")

    def names(self) -> list[str]:
        return sorted(self._examples.values())

    def create(self, name: str, **options) -> T:
        prefix, _, model = name.partition(":")
        factory = self._factories.get(prefix)
        if factory is None:
            known = ", ".join(self.names()) or "(none)"
            raise ConfigError(f"unknown {self.kind} {name!r}; known: {known}")
        return factory(model or None, **options)
