"""Every piece of untrusted text in the Markdown session export renders inert: no remote image,
no javascript: or data: link, no raw HTML, whether it comes from a document, an answer, a
question, a source name or a setting (issue 16, item 7). Checked with markdown-it (CommonMark,
HTML allowed, as permissive viewers render it)."""

from __future__ import annotations

import re

from helpers import Record
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from rag_core.costs import TurnCosts
from rag_core.answer.session_export import session_markdown
from rag_core.core.types import Answer, Chunk, Hit, RetrievalSettings, Score, Usage

PAYLOADS = ["![x](https://evil.example/p.png?leak=1)", "[click](javascript:alert(1))", "<img src=x onerror=alert(1)>",
            "<script>alert(1)</script>", "[d](data:text/html;base64,PHNjcmlwdD4=)", "<https://evil.example/a>",
            "![y][r]\n\n[r]: https://evil.example/q.png", "&lt;img src=x&gt;", "<!-- x --><iframe src=//evil>"]



def _record(payload: str) -> Record:
    chunk = Chunk(source=f"{payload}.md", section=payload, text=payload, start=0, end=len(payload), doc_id="d")
    hit = Hit(chunk, 0.5, "cosine", 1, scores=(Score("cosine", 0.5, 1),))
    settings = RetrievalSettings(sources=(f"{payload}.md",), reranker=None)
    answer = Answer(question=payload, text=f"{payload} [1]", hits=(hit,), prompt=payload, usage=Usage(),
                    settings=settings)
    return Record(answer, TurnCosts(), payload, payload, True)


def _live(html: str) -> list[str]:
    """Markup the export must never produce from untrusted text."""
    found = re.findall(r"<(?:img|script|iframe|a|svg|object|embed)\b[^>]*>", html, re.IGNORECASE)
    return [f for f in found if "evil" in f or "javascript" in f.lower() or "data:" in f or "onerror" in f]


def _render(text: str) -> str:
    return MarkdownIt("commonmark", {"html": True}).render(text)


def test_every_payload_in_every_place_is_inert():
    for payload in PAYLOADS:
        html = _render(session_markdown([_record(payload)]))
        assert not _live(html), (payload, _live(html))


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(alphabet=st.sampled_from("![]()<>:/\\`*_&#;=\"' \nabcjsvrptimgoe.xl"), max_size=60))
def test_any_text_renders_inert(text):
    payload = text + "javascript:evil" + "<img src=evil onerror=x>"
    html = _render(session_markdown([_record(payload)]))
    assert not _live(html), (payload, _live(html))
