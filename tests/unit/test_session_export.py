"""A chat session exported as JSON and Markdown: every field that explains a turn, and no secret."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest
from helpers import Record, hashing_index

from rag_core.costs import cost_models_for
from rag_core.llm import create_llm
from rag_core.answer.pipeline import Pipeline
from rag_core.providers import Credentials
from rag_core.rerank import create_reranker
from rag_core.answer.session_export import FORMAT, session_json, session_markdown
from rag_core.core.types import RetrievalSettings

SECRET = "typed-secret-value-42"
WHEN = datetime(2026, 12, 1, 12, 0, tzinfo=timezone.utc)



@pytest.fixture
def records(tmp_path):
    index = hashing_index(tmp_path / "idx")
    llm, reranker = create_llm("extractive"), create_reranker("bm25")
    pipeline = Pipeline(index, llm, reranker, cost_models=cost_models_for(llm, index.embedder, reranker))
    out = []
    for question, settings in [("What is the capital of Kenya?", RetrievalSettings(top_k=2, reranker="bm25")),
                               (f"Who won the Nobel Prize? my key is {SECRET} <b>x</b>",
                                RetrievalSettings(top_k=1, score_threshold=-1.0, reranker="bm25"))]:
        turn = pipeline.ask(question, settings)
        for _ in turn:
            pass
        out.append(Record(turn.answer, turn.costs, "facts", "extractive", False))
    return out


def test_json_has_questions_answers_hits_scores_prompts_settings_tokens_dollars(records):
    data = json.loads(session_json(records, Credentials(openai_api_key=SECRET), WHEN))
    assert data["format"] == FORMAT and data["exported_at"] == "2026-12-01T12:00:00+00:00"
    first = data["turns"][0]
    assert first["question"] == "What is the capital of Kenya?" and "Nairobi" in first["answer"]
    import dataclasses

    assert first["settings"] == {"index": "facts", "answerer": "extractive", "template": "default",
                                 "retrieval": dataclasses.asdict(RetrievalSettings(top_k=2, reranker="bm25"))}
    assert first["settings"]["retrieval"]["mode"] == "hybrid"  # every retrieval field, the default retriever too
    hit = first["hits"][0]
    assert hit["source"] == "kenya.md" and hit["text"] and hit["chunk_id"]
    assert [s["kind"] for s in hit["scores"]] == ["cosine", "bm25", "hybrid z-score", "pool bm25"]  # every score, labelled, with its rank
    assert first["prompt"].startswith("Answer the question") and "Nairobi" in first["prompt"]
    costs = first["costs"]
    assert costs["prompt_tokens"] > 0 and costs["cost_usd"] > 0
    assert {s["stage"] for s in costs["stages"]} >= {"query embedding", "prompt", "completion"}
    totals = data["totals"]
    assert totals["cost_usd"] == pytest.approx(sum(t["costs"]["cost_usd"] for t in data["turns"]))
    assert totals["prompt_tokens"] == sum(t["costs"]["prompt_tokens"] for t in data["turns"])


def _rendered(markdown: str) -> str:
    """The export as a CommonMark renderer shows it (HTML allowed, as GitHub-like viewers do)."""
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark", {"html": True}).render(markdown)


def test_markdown_reads_as_a_report(records):
    text = session_markdown(records, Credentials(openai_api_key=SECRET), WHEN)
    html = _rendered(text)
    assert text.startswith("# RAG Playground chat session")
    assert "<h2>1. What is the capital of Kenya?</h2>" in html
    assert "<blockquote>" in html and "Nairobi" in html
    assert "index facts" in html and "top_k 2" in html and "reranker bm25" in html
    assert "all scores: cosine" in html and "bm25" in html and "source: kenya.md" in html
    assert "| prompt |" in text and "| total |" in text and "## Session totals" in text
    assert "Prompt sent to the answerer" in text
    assert "&lt;b&gt;x&lt;/b&gt;" in html and "<b>x</b>" not in html  # no raw HTML from a question


def test_configured_secrets_are_redacted_everywhere(records):
    creds = Credentials(openai_api_key=SECRET)
    for text in (session_json(records, creds, WHEN), _rendered(session_markdown(records, creds, WHEN))):
        assert SECRET not in text and "***" in text
    assert SECRET in session_json(records, None, WHEN)  # (the secret really was in the session)


def test_a_fence_inside_a_chunk_cannot_close_the_block():
    from rag_core.answer.session_export import _fence

    block = _fence("before ```` after")
    assert block.startswith("`````text") and block.endswith("`````")
