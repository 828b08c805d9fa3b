"""Answerers found by name: `extractive` (offline, no model) and, added by their modules,
hosted or OpenAI-compatible chat models: `openai:<model>`, `compatible:<model>` (SDK loaded on
use). `create_llm(name, credentials=...)` builds one, passing credentials to hosted ones only."""

from __future__ import annotations

from ..registry import Registry
from ..types import LLM
from .extractive import ExtractiveAnswerer

LLMS = Registry[LLM]("llm")


@LLMS.register("extractive")
def _extractive(model: str | None = None, **options) -> LLM:
    return ExtractiveAnswerer(**options)


@LLMS.register("openai", example="openai:gpt-4o-mini")
def _openai(model: str | None = None, **options) -> LLM:
    from .openai_chat import OpenAIChat

    return OpenAIChat(model, provider="openai", **options)


@LLMS.register("compatible", example="compatible:<model>")
def _compatible(model: str | None = None, **options) -> LLM:
    from .openai_chat import OpenAIChat

    return OpenAIChat(model, provider="compatible", **options)


HOSTED_LLMS = ("openai", "compatible")


def create_llm(name: str = "extractive", credentials=None, **options) -> LLM:
    """`LLMS.create`, with `credentials` (and hosted options such as base_url) for hosted names."""
    if name.partition(":")[0] in HOSTED_LLMS:
        options["credentials"] = credentials
    return LLMS.create(name, **options)


__all__ = ["LLMS", "ExtractiveAnswerer", "create_llm", "HOSTED_LLMS"]
