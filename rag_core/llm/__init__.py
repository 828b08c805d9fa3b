"""Answerers found by name: `extractive` (offline, no model) and, added by their modules,
hosted or OpenAI-compatible chat models: `openai:<model>`, `compatible:<model>` (SDK loaded on
use). `create_llm(name, credentials=..., embedder=...)` builds one, passing credentials to hosted
ones only and the embedder (the process's local one, for sentence meaning) to `extractive` only."""

from __future__ import annotations

from rag_core.core.catalog import LLMS
from rag_core.core.types import LLM, Embedder
from rag_core.llm.extractive import ExtractiveAnswerer


def create_llm(name: str = "extractive", credentials=None, embedder: Embedder | None = None, **options) -> LLM:
    """`LLMS.create`, with `credentials` (and hosted options such as base_url) for hosted names, and
    `embedder` for the offline answerer (never a hosted embedder: pass a local one or None)."""
    if embedder is not None and not LLMS.is_hosted(name):
        options["embedder"] = embedder
    return LLMS.create(name, credentials=credentials, **options)


__all__ = ["LLMS", "ExtractiveAnswerer", "create_llm"]
