"""Answerers found by name: `extractive` (offline, no model) and, added by their modules,
hosted or OpenAI-compatible chat models: `openai:<model>`, `compatible:<model>` (SDK loaded on
use). `create_llm(name, credentials=..., embedder=...)` builds one, passing credentials to hosted
ones only and the embedder (the process's local one, for sentence meaning) to `extractive` only."""

from __future__ import annotations

from ..registry import Registry
from ..types import LLM, Embedder
from .extractive import ExtractiveAnswerer

LLMS = Registry[LLM]("llm")


@LLMS.register("extractive")
def _extractive(model: str | None = None, embedder: Embedder | None = None, **options) -> LLM:
    return ExtractiveAnswerer(embedder=embedder, **options)


@LLMS.register("openai", example="openai:gpt-4o-mini")
def _openai(model: str | None = None, **options) -> LLM:
    from .openai_chat import OpenAIChat

    return OpenAIChat(model, provider="openai", **options)


@LLMS.register("compatible", example="compatible:<model>")
def _compatible(model: str | None = None, **options) -> LLM:
    from .openai_chat import OpenAIChat

    return OpenAIChat(model, provider="compatible", **options)


HOSTED_LLMS = ("openai", "compatible")


def create_llm(name: str = "extractive", credentials=None, embedder: Embedder | None = None, **options) -> LLM:
    """`LLMS.create`, with `credentials` (and hosted options such as base_url) for hosted names, and
    `embedder` for the offline answerer (never a hosted embedder: pass a local one or None)."""
    if name.partition(":")[0] in HOSTED_LLMS:
        options["credentials"] = credentials
    elif embedder is not None:
        options["embedder"] = embedder
    return LLMS.create(name, **options)


__all__ = ["LLMS", "ExtractiveAnswerer", "create_llm", "HOSTED_LLMS"]
