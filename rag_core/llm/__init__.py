"""Answerers found by name: `extractive` (offline, no model) and, added by their modules,
hosted or OpenAI-compatible chat models. `LLMS.create("extractive")` builds one."""

from __future__ import annotations

from ..registry import Registry
from ..types import LLM
from .extractive import ExtractiveAnswerer

LLMS = Registry[LLM]("llm")


@LLMS.register("extractive")
def _extractive(model: str | None = None, **options) -> LLM:
    return ExtractiveAnswerer(**options)


__all__ = ["LLMS", "ExtractiveAnswerer"]
