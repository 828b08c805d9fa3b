"""AppTest of Chat's Compare view (two columns, the diff, blind votes and their tally), hit cards
that explain each chunk (every labelled score with its rank, the question's words highlighted,
escaped), citations that link to their cards, failed turns kept in the history, and hosted
choices without a key marked in the selectboxes."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
from helpers import app_errors as errors
from helpers import fact_documents
from hypothesis import given
from hypothesis import strategies as st
from streamlit.testing.v1 import AppTest
from test_app_share import _bytes, downloads  # noqa: F401  (records each download button's data)

from rag_core.embeddings import create_embedder
from rag_core.index.index import Index
from rag_core.core.types import Chunk, ChunkingConfig, Document, Hit, Score
from ui import hitcards

ROOT = Path(__file__).resolve().parents[2]
SMALL = "small"
QUESTION = "What is the capital of Kenya?"
EVIL = Document("notes/evil.md", "Evil <b>x</b>", "Kenya <script>alert(1)</script> costs $5 "
                "![p](http://h/p.png) and the capital of Kenya is Nairobi. " * 3)


@pytest.fixture
def chat_page(app_root, monkeypatch):
    for var in ("OPENAI_API_KEY", "COHERE_API_KEY", "COMPATIBLE_BASE_URL", "OPENAI_BASE_URL"):
        monkeypatch.delenv(var, raising=False)
    index = Index.create(app_root / SMALL, create_embedder("hashing"), "numpy",
                         ChunkingConfig(size=300, overlap=30))
    index.ingest(fact_documents() + [EVIL])
    index.save()
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.switch_page("pages/chat.py").run()
    assert not errors(at), errors(at)
    return at


def markdowns(at) -> list[str]:
    return [m.value for m in at.markdown]


def test_compare_shows_both_columns_and_the_diff(chat_page):
    at = chat_page
    at.toggle(key="w:compare").set_value(True).run()
    assert at.chat_input[0].placeholder == "Ask both A and B a question"
    at.selectbox(key="w:cmp_B_reranker").set_value("none").run()
    at.slider(key="w:cmp_B_top_k").set_value(2).run()
    at.chat_input[0].set_value(QUESTION).run()
    assert not errors(at), errors(at)
    entry = at.session_state["compare_history"][0]
    assert entry.a.answer.settings.top_k == 5 and entry.b.answer.settings.top_k == 2
    md = markdowns(at)
    assert "**A**" in md and "**B**" in md
    answers = [m for m in md if m.startswith('<div class="rag-answer"')]
    assert len(answers) == 2  # each column's citations link to its own cards
    assert re.search(r'href="#hit-c0a-\d"', answers[0]) and re.search(r'href="#hit-c0b-\d"', answers[1])
    cards = " ".join(m for m in md if "rag-hit" in m)
    assert 'id="hit-c0a-1"' in cards and 'id="hit-c0b-2"' in cards and 'id="hit-c0b-3"' not in cards
    diff = next(m for m in md if m.startswith('<div class="rag-diff"'))
    # B's two chunks are A's top two (same dense ranking): both 2, only A 3, only B 0
    assert "found by both: <b>2</b> · only by A: <b>3</b> · only by B: <b>0</b>" in diff
    assert diff.count("only A") == 3 and "same rank" in diff and "<script>" not in diff
    assert "B − A:" in diff and "tokens" in diff and " ms" in diff
    assert any(m.startswith(":material/payments: 1 turn:") for m in (s.value for s in at.sidebar.markdown))
    at.run()  # drawn again from the compare history
    assert not errors(at), errors(at)
    assert sum(m.startswith('<div class="rag-diff"') for m in markdowns(at)) == 1
    at.toggle(key="w:compare").set_value(False).run()  # the plain chat is untouched
    assert at.chat_input[0].placeholder == "Ask a question about the documents in this index"
    assert at.session_state["chat_history"] == []


def test_blind_mode_hides_which_is_which_and_keeps_a_tally(chat_page):
    at = chat_page
    at.toggle(key="w:compare").set_value(True).run()
    at.toggle(key="w:cmp_blind").set_value(True).run()
    at.chat_input[0].set_value(QUESTION).run()
    assert not errors(at), errors(at)
    md = markdowns(at)
    assert "**Left**" in md and "**Right**" in md and "**A**" not in md and "**B**" not in md
    assert not any("Settings used:" in c.value for c in at.caption)  # nothing says which is which
    cards = [m for m in md if "rag-hit" in m]  # issue 17: no score or score label on either side
    assert len(cards) == 2 and not any("rag-score" in c or "cosine" in c or "hybrid" in c for c in cards)
    entry = at.session_state["compare_history"][0]
    assert entry.blind and entry.config_a != entry.config_b
    at.button(key="vote_0_Left").click().run()
    assert not errors(at), errors(at)
    at.chat_input[0].set_value("Who developed relativity?").run()
    at.button(key="vote_1_Right").click().run()
    at.button(key="vote_1_Left").click().run()  # a second pick replaces the first
    assert at.session_state["blind_votes"] == {0: "Left", 1: "Left"}
    reveal = at.toggle(key="w:cmp_reveal")
    assert reveal.label.startswith("Reveal the tally (2 votes)") and not reveal.value
    assert not any("configuration" in d.value.columns for d in at.dataframe)
    reveal.set_value(True).run()
    table = next(d.value for d in at.dataframe if "configuration" in d.value.columns)
    history = at.session_state["compare_history"]
    lefts = [e.config_b if e.swapped else e.config_a for e in history]
    wins = dict(zip(table["configuration"], table["wins"]))
    for config in set(lefts):
        assert wins[config] == lefts.count(config)
    assert any(c.value.startswith("was A:") for c in at.caption)  # revealed under each column
    # issue 19 part 2: the tally says whether the votes show a difference (two votes cannot)
    assert any("sign test p = " in c.value and c.value.endswith(": not yet a difference") for c in at.caption)


def test_hit_cards_show_every_labelled_score_and_highlight_the_question(chat_page):
    at = chat_page
    at.chat_input[0].set_value(QUESTION).run()  # the default retriever: hybrid (cosine + bm25, fused)
    assert not errors(at), errors(at)
    cards = next(m for m in markdowns(at) if "rag-hit" in m)
    first = cards.split('<div class="rag-hit"')[1]
    labels = re.findall(r'font-weight:600">([^<]+)</span> -?[\d.]+ <span[^>]*>\(rank (\d+)\)', first)
    assert {"cosine", "bm25"} <= {kind for kind, _ in labels} and len(labels) >= 3, labels
    assert '<mark class="rag-match"' in cards and ">Kenya</mark>" in cards and ">capital</mark>" in cards
    assert ">What</mark>" not in cards and ">is</mark>" not in cards  # stopwords stay plain
    assert "<script>" not in cards and "&lt;script&gt;" in cards and "<img" not in cards


def test_citations_link_to_their_cards_in_every_turn(chat_page):
    at = chat_page
    at.chat_input[0].set_value(QUESTION).run()
    at.chat_input[0].set_value("Who developed relativity?").run()
    assert not errors(at), errors(at)
    md = markdowns(at)
    ids = set(re.findall(r'id="(hit-[\w-]+)"', " ".join(md)))
    links = [re.findall(r'href="#(hit-[\w-]+)"', m) for m in md if m.startswith('<div class="rag-answer"')]
    assert len(links) == 2 and all(links), links
    assert all(link in ids for turn in links for link in turn)
    assert {link.split("-")[1] for turn in links for link in turn} == {"t0", "t1"}  # unique per turn


def test_a_failed_turn_stays_in_the_history_and_keyless_choices_are_marked(chat_page):
    at = chat_page
    options = at.sidebar.selectbox(key="w:llm").options
    assert "openai:gpt-4o-mini — needs a key: add it in Settings" in options
    assert "extractive" in options
    assert any("needs a server" in o for o in options)  # compatible: no base URL
    rerankers = at.sidebar.selectbox(key="w:reranker").options
    assert "cohere:rerank-v3.5 — needs a key: add it in Settings" in rerankers
    at.sidebar.selectbox(key="w:llm").set_value("openai:gpt-4o-mini").run()
    at.chat_input[0].set_value(QUESTION).run()
    assert not at.exception
    at.sidebar.selectbox(key="w:llm").set_value("extractive").run()
    at.chat_input[0].set_value(QUESTION).run()
    failed, answered = at.session_state["chat_history"]
    assert "no OpenAI API key" in failed.error and failed.llm == "openai:gpt-4o-mini"
    assert [e.value for e in at.error] == [failed.error]  # still drawn, in its place
    assert answered.answer.text and not answered.error
    assert any(m.value.startswith(":material/payments: 2 turns:") for m in at.sidebar.markdown)


@given(st.text(max_size=60), st.text(max_size=30))
def test_a_highlighted_card_shows_the_chunk_text_exactly(text, question):
    text = text or "x"
    scores = (Score("cosine", 0.5, 1), Score("bm25", 2.0, 3))
    hit = Hit(Chunk("s.md", "s", text, 0, len(text), "d"), 0.5, "cosine", 1, scores=scores)
    markup = hitcards.card_html(hit, 1, "t0", question)
    assert "\n" not in markup and not re.search(r"<(img|a|script|iframe)\b", markup)
    body = markup.split('<div style="font-size:0.95rem;margin-top:0.3rem">', 1)[1]
    shown = html.unescape(re.sub(r"<[^>]*>", "", body.replace("<br>", "\n")))
    assert shown == text.replace("\r", "")
    marked = re.findall(r'<mark class="rag-match"[^>]*>([^<]*)</mark>', body)
    assert [html.unescape(m) for m in marked] == hitcards.matched_words(text, question)


def _round_trip_script(prefix: str) -> None:  # an AppTest script: one Streamlit session
    import dataclasses

    import streamlit as st

    from rag_core.core.types import RetrievalSettings
    from ui import state

    chosen = RetrievalSettings(mode="hybrid", fusion="rrf", normalise="minmax", alpha=0.3, rrf_k=30.0, depth=70,
                               mmr_lambda=0.6, neighbours=2, rewrite="multi_query", rewrites=4)
    state.put_retrieval(chosen, prefix)
    back = state.retriever_of(prefix, RetrievalSettings(), True)
    st.session_state["differ"] = [f.name for f in dataclasses.fields(RetrievalSettings)
                                  if getattr(back, f.name) != getattr(chosen, f.name)]


def test_every_retrieval_setting_survives_the_form_under_any_prefix():
    """Issue 17 item 9: the one retriever form (the sidebar and both Compare columns) carries every
    retriever field of RetrievalSettings; a field added later fails here until it does."""
    import dataclasses

    from rag_core.core.types import RetrievalSettings

    tested = {"mode", "fusion", "normalise", "alpha", "rrf_k", "depth", "mmr_lambda", "neighbours", "rewrite",
              "rewrites"}
    own_widgets = {"top_k", "score_threshold", "reranker", "sources"}  # drawn beside the form
    assert {f.name for f in dataclasses.fields(RetrievalSettings)} == tested | own_widgets
    for prefix in ("", "cmp_A_", "cmp_B_"):
        at = AppTest.from_function(_round_trip_script, args=(prefix,)).run()
        assert not at.exception and at.session_state["differ"] == [], (prefix, at.session_state["differ"])


def test_a_compare_column_shows_only_the_fields_that_apply_with_the_sidebars_labels(chat_page):
    at = chat_page
    at.toggle(key="w:compare").set_value(True).run()
    at.selectbox(key="w:cmp_B_method").set_value("dense").run()
    labels_b = {w.label for w in at.get("selectbox") + at.get("slider") + at.get("number_input")
                if (w.key or "").startswith("w:cmp_B_")}
    assert "Retriever" in labels_b and not any(("α" in label or "RRF" in label or "depth" in label)
                                               for label in labels_b)
    assert not any(w.key == "w:cmp_B_rewrite_choice" for w in at.get("selectbox"))  # extractive: no rewriting
    at.selectbox(key="w:cmp_B_method").set_value("hybrid (weighted)").run()
    labels = {w.label for w in at.get("slider") if (w.key or "").startswith("w:cmp_B_")}
    assert "Dense weight α (weighted hybrid)" in labels  # the sidebar's label, not 'Alpha'
    at.selectbox(key="w:cmp_B_method").set_value("hybrid (rrf)").run()
    at.number_input(key="w:cmp_B_rrf_k").set_value(20.0).run()
    assert at.session_state["compare_settings"]["B"].retrieval.rrf_k == 20.0


def test_a_sidebar_change_redraws_the_history_from_cached_cards_and_tables(chat_page):
    """History rendering is the usual culprit of a slow rerun: after the first drawing, a sidebar
    change builds no hit card and no cost table again (both are memoised per frozen value)."""
    from ui import widgets

    at = chat_page
    for question in (QUESTION, "Who developed relativity?", "What is photosynthesis?"):
        at.chat_input[0].set_value(question).run()
    at.run()
    cards, tables = hitcards._cached_card.cache_info().misses, widgets.cost_arrow.cache_info().misses
    hits_before = hitcards._cached_card.cache_info().hits
    at.sidebar.slider(key="w:top_k").set_value(3).run()
    assert not errors(at), errors(at)
    assert hitcards._cached_card.cache_info().misses == cards
    assert widgets.cost_arrow.cache_info().misses == tables
    assert hitcards._cached_card.cache_info().hits >= hits_before + 15  # three turns of five cards


def test_a_failed_side_keeps_its_error_and_the_other_side_answers(chat_page):
    at = chat_page
    at.toggle(key="w:compare").set_value(True).run()
    assert "openai:gpt-4o-mini — needs a key: add it in Settings" in at.selectbox(key="w:cmp_B_llm").options
    at.selectbox(key="w:cmp_B_llm").set_value("openai:gpt-4o-mini").run()
    at.chat_input[0].set_value(QUESTION).run()
    assert not at.exception
    entry = at.session_state["compare_history"][0]
    assert entry.a.answer.text and not entry.a.error
    assert "no OpenAI API key" in entry.b.error and entry.b.answer.hits == ()
    assert [e.value for e in at.error] == [entry.b.error]
    diff = next(m for m in markdowns(at) if m.startswith('<div class="rag-diff"'))
    assert "only by B: <b>0</b>" in diff and "found by both: <b>0</b>" in diff
    at.run()  # still there, drawn from the compare history
    assert [e.value for e in at.error] == [entry.b.error]


def test_a_neighbour_chunk_is_marked_as_such():
    from dataclasses import dataclass

    @dataclass(frozen=True)
    class NeighbourHit(Hit):  # the flag the neighbours step may add; older hits have none
        neighbour: bool = False

    chunk = Chunk("s.md", "s", "Nairobi is the capital of Kenya.", 0, 32, "d")
    plain = hitcards.card_html(Hit(chunk, 0.5, "cosine", 1), 1, "t0", QUESTION)
    marked = hitcards.card_html(NeighbourHit(chunk, 0.5, "cosine", 2, neighbour=True), 2, "t0", QUESTION)
    assert "rag-neighbour" not in plain
    assert 'class="rag-neighbour"' in marked and "neighbour chunk" in marked and "dashed" in marked


def test_a_column_whose_index_was_deleted_falls_back_to_an_existing_one(chat_page, app_root):
    import shutil

    at = chat_page
    other = Index.create(app_root / "other", create_embedder("hashing"), "numpy", ChunkingConfig(size=300))
    other.ingest(fact_documents())
    other.save()
    at.toggle(key="w:compare").set_value(True).run()
    at.selectbox(key="w:cmp_B_index").set_value("other").run()
    shutil.rmtree(app_root / "other")
    at.run()
    assert not errors(at), errors(at)
    assert at.selectbox(key="w:cmp_B_index").value == SMALL


def test_the_session_export_adds_up_to_the_sidebar_with_compare_turns_and_votes(chat_page, downloads):
    """Issue 17 item 7: chat turns, compare turns (both sides) and blind votes are all exported,
    and the export's turns, tokens and dollars are the sidebar's."""
    import json

    at = chat_page
    at.chat_input[0].set_value(QUESTION).run()  # one chat turn
    at.toggle(key="w:compare").set_value(True).run()
    at.chat_input[0].set_value(QUESTION).run()  # a compare turn
    at.toggle(key="w:cmp_blind").set_value(True).run()
    at.chat_input[0].set_value("Who developed relativity?").run()  # a blind one, voted
    at.button(key="vote_1_Left").click().run()
    assert not errors(at), errors(at)
    exported = json.loads(_bytes(downloads["session_json"]))
    history = at.session_state["compare_history"]
    sidebar = next(m.value for m in at.sidebar.markdown if "turns:" in m.value)
    assert sidebar.startswith(":material/payments: 3 turns:")
    assert exported["turn_count"] == 3 and len(exported["turns"]) == 1 and len(exported["comparisons"]) == 2
    assert exported["comparisons"][1]["vote"] == ("B" if history[1].swapped else "A")
    assert exported["comparisons"][0]["vote"] is None and exported["comparisons"][1]["blind"] is True
    tokens = exported["totals"]["total_tokens"]
    counted = sum(t["costs"]["total_tokens"] for t in exported["turns"]) + sum(
        c[s]["costs"]["total_tokens"] for c in exported["comparisons"] for s in ("a", "b"))
    assert tokens == counted and f"{exported['totals']['embedding_tokens']:,} embedding" in sidebar
    assert f"{exported['totals']['prompt_tokens']:,} prompt" in sidebar


def test_the_tally_names_each_configuration_by_what_differs():
    """Issue 17 item 10: short names, not every field."""
    from dataclasses import replace

    from rag_core.core.types import RetrievalSettings
    from ui import compare, state

    a = state.ChatSettings("demo", RetrievalSettings(), "extractive", "t")
    b = replace(a, retrieval=RetrievalSettings(reranker="pool-bm25", mode="dense"))
    assert compare.config_labels(a, b) == ("retriever hybrid z-score α=0.5 · reranker none",
                                           "retriever dense · reranker pool-bm25")
    assert compare.config_labels(a, a) == ("the same settings", "the same settings")
