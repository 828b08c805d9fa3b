"""Answerers found by name: `extractive` (offline, no model) and, added by their modules,
hosted or OpenAI-compatible chat models: `openai:<model>`, `compatible:<model>` (SDK loaded on
use). `create_llm(name, credentials=..., embedder=...)` builds one, passing credentials to hosted
ones only and the embedder (the process's local one, for sentence meaning) to `extractive` only."""

from __future__ import annotations

from rag_core.core.registry import Registry
from rag_core.core.types import LLM, Embedder
from rag_core.llm.extractive import ExtractiveAnswerer

LLMS = Registry[LLM]("llm")


@LLMS.register("extractive", hosted=False,
               description="Quotes the best-matching sentences of the retrieved chunks: offline, free.")
def _extractive(model: str | None = None, embedder: Embedder | None = None, **options) -> LLM:
    return ExtractiveAnswerer(embedder=embedder, **options)


@LLMS.register("openai", hosted=True, credential="openai", takes_model=True,
               models=("gpt-4o-mini", "gpt-4o", "gpt-4.1-mini"), example="openai:gpt-4o-mini",
               description="OpenAI's hosted chat models: key in Settings, paid.")
def _openai(model: str | None = None, **options) -> LLM:
    from rag_core.llm.openai_chat import OpenAIChat

    return OpenAIChat(model, provider="openai", **options)


@LLMS.register("compatible", hosted=True, credential="compatible", takes_model=True,
               example="compatible:<model>",
               description="A chat model on any OpenAI-compatible server (Ollama, vLLM, LM Studio): "
                           "base URL in Settings.")
def _compatible(model: str | None = None, **options) -> LLM:
    from rag_core.llm.openai_chat import OpenAIChat

    return OpenAIChat(model, provider="compatible", **options)


def create_llm(name: str = "extractive", credentials=None, embedder: Embedder | None = None, **options) -> LLM:
    """`LLMS.create`, with `credentials` (and hosted options such as base_url) for hosted names, and
    `embedder` for the offline answerer (never a hosted embedder: pass a local one or None)."""
    if embedder is not None and not LLMS.is_hosted(name):
        options["embedder"] = embedder
    return LLMS.create(name, credentials=credentials, **options)


__all__ = ["LLMS", "ExtractiveAnswerer", "create_llm"]
