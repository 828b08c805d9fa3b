"""Query rewriting (multi-query, HyDE) through the real `openai` SDK against the local server
speaking the OpenAI chat wire format (tests/fake_provider_server.py), and the fusion of the
per-query result lists (hypothesis for its invariants)."""

from __future__ import annotations

import pytest
from fake_provider_server import server_tokens
from helpers import hashing_index
from hypothesis import given, settings
from hypothesis import strategies as st

from rag_core import costs
from rag_core.core.errors import ConfigError, ProviderError
from rag_core.llm import create_llm
from rag_core.retrieval.rewrite import (MAX_HYDE_CHARS, MAX_QUESTION_CHARS, MAX_READ_CHARS, MAX_REPLY_CHARS,
                                        MAX_REWRITE_CHARS, MAX_REWRITES, HydeRewriter, MultiQueryRewriter,
                                        create_rewriter, fuse_rewrites, hyde, multi_query, parse_queries)
from rag_core.core.types import Chunk, Hit, TokenUsage

QUESTION = "What is the capital of Kenya?"


@pytest.fixture
def llm(server, creds, policy):
    return create_llm("openai:gpt-4o-mini", credentials=creds, policy=policy)


def sent_prompt(server) -> str:
    """The user message of the last chat request the server got."""
    return server.calls("/v1/chat/completions")[-1].body["messages"][-1]["content"]


# ---- multi-query ------------------------------------------------------------------------


def test_multi_query_parses_numbered_and_bulleted_lists_and_dedupes(server, llm):
    server.reply("Here are three search queries:\n\n"
                 "1. Which city is Kenya's capital\n"
                 "2) **Nairobi capital city of Kenya**\n"
                 "- \"capital of Kenya\"\n"
                 "3. which city is KENYA's capital?\n"  # a duplicate, in other case
                 "* What is the capital of Kenya\n"  # the question itself
                 "4. Kenyan seat of government\n")
    rw = multi_query(llm, QUESTION, 4)
    assert rw.strategy == "multi_query" and rw.model == "openai:gpt-4o-mini"
    assert rw.queries == ("Which city is Kenya's capital", "Nairobi capital city of Kenya",
                          "capital of Kenya", "Kenyan seat of government")
    assert rw.search_texts() == (QUESTION, *rw.queries) and rw.warning == "" and not rw.fell_back
    assert sent_prompt(server) == rw.prompt and "4 different search queries" in rw.prompt
    assert rw.prompt.endswith(f"Question: {QUESTION}") and rw.latency_ms >= 0


def test_multi_query_bounds_the_count_and_the_length_of_each_rewrite(server, llm):
    long_line = "capital " * 60  # 480 characters: cut at a word, within the limit
    server.reply("\n".join([long_line] + [f"query number {i}" for i in range(12)]))
    rw = multi_query(llm, QUESTION, MAX_REWRITES)
    assert len(rw.queries) == MAX_REWRITES
    assert all(0 < len(q) <= MAX_REWRITE_CHARS for q in rw.queries)
    assert rw.queries[0].startswith("capital capital") and not rw.queries[0].endswith(" ")
    assert rw.queries[1:] == tuple(f"query number {i}" for i in range(4))
    for bad in (0, MAX_REWRITES + 1, -1, True):
        with pytest.raises(ConfigError, match=f"1 to {MAX_REWRITES}"):
            multi_query(llm, QUESTION, bad)
    assert len(server.calls("/v1/chat/completions")) == 1  # a bad n never reaches the model


@pytest.mark.parametrize("chat_mode", ["stream", "json"])
def test_usage_is_what_the_server_reported_beside_the_estimate(server, llm, chat_mode):
    server.chat_mode = chat_mode
    reply = "Nairobi capital\nKenya main city"
    server.reply(reply)
    rw = multi_query(llm, QUESTION, 2)
    assert rw.reported == TokenUsage(prompt_tokens=server_tokens(rw.prompt),
                                     completion_tokens=len(reply.split(" ")))
    assert rw.usage == rw.reported
    # the estimate is tiktoken's (the fake server counts words: the two differ, so we know which is which)
    encoding = costs.encoding_for_model("openai:gpt-4o-mini")
    assert rw.estimated == TokenUsage(costs.count_tokens(rw.prompt, encoding),
                                      costs.count_tokens(reply, encoding))
    assert rw.estimated != rw.reported


def test_a_server_that_reports_no_usage_is_priced_on_the_estimate(server, llm):
    server.report_usage = False
    server.reply("Nairobi capital\nKenya main city")
    rw = multi_query(llm, QUESTION, 2)
    assert rw.reported is None and rw.usage == rw.estimated and rw.usage.prompt_tokens > 0


@pytest.mark.parametrize("reply", [
    "```\n---\n***\n```",
    "Here are the queries:\n\n",
    "<think>the user wants rewrites of a question about Kenya</think>",
    "?!\n.\n-",
    f"{QUESTION}\n{QUESTION.upper()}",
    "x" * 5000,  # one line of prose, not a query
])
def test_a_garbage_reply_falls_back_to_the_question_with_a_warning(server, llm, reply):
    server.reply(reply)
    rw = multi_query(llm, QUESTION, 3)
    assert rw.queries == () and rw.fell_back
    assert rw.search_texts() == (QUESTION,) and rw.search_texts(with_question=False) == (QUESTION,)
    assert "no usable query" in rw.warning and "question alone" in rw.warning
    assert "![" not in rw.warning and "Kenya" not in rw.warning  # the untrusted reply is never echoed
    assert rw.reported is not None  # the tokens were still billed, and are still shown


def test_fewer_rewrites_than_asked_is_a_warning_not_a_failure(server, llm):
    server.reply("Sure!\n1. Nairobi capital\n")
    rw = multi_query(llm, QUESTION, 3)
    assert rw.queries == ("Nairobi capital",)
    assert rw.warning == "asked for 3 rewrites, the model gave 1 usable"


def test_the_question_sent_to_the_model_is_bounded_and_on_one_line(server, llm):
    server.reply("Nairobi capital")
    question = "Where is Nairobi?\n\nIgnore this line.\t" + "very long " * 900
    rw = multi_query(llm, question, 1)
    asked = sent_prompt(server).split("Question: ", 1)[1]
    assert 0 < len(asked) <= MAX_QUESTION_CHARS and "\n" not in asked
    assert asked.startswith("Where is Nairobi? Ignore")
    assert rw.question == question  # retrieval still uses the person's own question


def test_reasoning_blocks_and_control_characters_are_dropped(server, llm):
    server.reply("<think>\nmaybe list cities\n</think>\n1. Nairobi\x1b[31m capital\u200b\n2. Kenya\x00 city")
    assert multi_query(llm, QUESTION, 2).queries == ("Nairobi[31m capital", "Kenya city")


# ---- HyDE -------------------------------------------------------------------------------


def test_hyde_returns_one_bounded_passage_to_embed(server, llm):
    sentence = "Nairobi is the capital and largest city of Kenya, on the Athi plains. "
    server.reply("Passage: " + sentence * 40)  # ~2,800 characters
    rw = hyde(llm, QUESTION)
    (passage,) = rw.queries
    assert rw.strategy == "hyde" and len(passage) <= MAX_HYDE_CHARS
    assert passage.endswith("Kenya, on the Athi plains.")
    assert passage.startswith("Nairobi is the capital")  # the label is gone
    assert rw.search_texts(with_question=False) == (passage,) and rw.search_texts() == (QUESTION, passage)
    assert rw.reported == TokenUsage(server_tokens(rw.prompt), len(("Passage: " + sentence * 40).split(" ")))
    assert "encyclopedia" in sent_prompt(server) and rw.warning == ""


@pytest.mark.parametrize("reply", ["I'm sorry, I cannot help with that.", "...", "<think>hmm</think>"])
def test_hyde_refusal_or_empty_passage_falls_back_with_a_warning(server, llm, reply):
    server.reply(reply)
    rw = hyde(llm, QUESTION)
    assert rw.fell_back and rw.search_texts(with_question=False) == (QUESTION,)
    assert "not a usable passage" in rw.warning


# ---- availability, errors, bounds on the stream --------------------------------------------


def test_the_extractive_answerer_cannot_rewrite():
    extractive = create_llm("extractive")
    for call in (lambda: multi_query(extractive, QUESTION, 3), lambda: hyde(extractive, QUESTION),
                 lambda: create_rewriter("multi-query", extractive), lambda: create_rewriter("hyde", None)):
        with pytest.raises(ConfigError, match="needs a generative answerer") as caught:
            call()
        message = str(caught.value)
        assert "--llm openai:gpt-4o-mini" in message and "turn query rewriting off" in message


def test_create_rewriter_by_name(server, llm):
    assert create_rewriter(None, llm) is None and create_rewriter("none", llm) is None
    with pytest.raises(ConfigError, match="known: none, multi_query, hyde"):
        create_rewriter("step-back", llm)
    rewriter = create_rewriter("multi-query", llm, n=2)
    assert isinstance(rewriter, MultiQueryRewriter) and rewriter.strategy == "multi_query" and rewriter.n == 2
    assert isinstance(create_rewriter("HyDE", llm), HydeRewriter)
    server.reply("Nairobi capital\nKenya main city\nthird")
    assert rewriter.rewrite(QUESTION).queries == ("Nairobi capital", "Kenya main city")
    with pytest.raises(ConfigError, match="1 to 5"):
        create_rewriter("multi_query", llm, n=9)
    server.reply("Nairobi is the capital of Kenya.")
    german = "Welche Stadt ist die Hauptstadt von Kenia?"  # cl100k and o200k count it differently
    counted = create_rewriter("hyde", llm, encoding="cl100k_base").rewrite(german)
    assert counted.estimated.prompt_tokens == costs.count_tokens(counted.prompt, "cl100k_base")
    assert counted.estimated.prompt_tokens != costs.count_tokens(counted.prompt, "o200k_base")


def test_a_provider_failure_is_raised_not_hidden(server, llm):
    server.fail("/v1/chat/completions", 401)
    with pytest.raises(ProviderError):
        multi_query(llm, QUESTION, 3)


class EndlessLLM:
    """A model that never stops talking (a fake, not the wire: the SDK path bounds tokens)."""

    name = "compatible:endless"
    context_window = 8192
    max_answer_tokens = 512

    def __init__(self) -> None:
        self.closed = False
        self.pieces = 0

    def stream(self, request):
        try:
            while True:
                self.pieces += 1
                yield "Nairobi capital city\n" * 50
        finally:
            self.closed = True


def test_an_endless_reply_is_cut_off_and_the_stream_closed():
    model = EndlessLLM()
    rw = multi_query(model, QUESTION, 3)
    assert model.closed and model.pieces * 1050 <= MAX_READ_CHARS + 1050
    assert rw.queries == ("Nairobi capital city",) and "cut off" in rw.warning
    assert rw.reported is None and rw.model == "compatible:endless"
    kept = "Nairobi capital city\n" * 400  # 8,400 characters: more than is kept
    assert rw.estimated.completion_tokens <= costs.count_tokens(kept)
    assert len(kept) >= MAX_REPLY_CHARS


@pytest.mark.parametrize("reply, expected", [
    ("## Search queries\nNairobi capital\nKenya main city", ("Nairobi capital", "Kenya main city")),
    ("**Queries:**\n1. Nairobi capital\n2. Kenya main city\nHope this helps!",
     ("Nairobi capital", "Kenya main city")),
    ("Query 1: Nairobi capital\nQ2 - Kenya main city", ("Nairobi capital", "Kenya main city")),
    ("(1) Nairobi capital\n\n\n(2) 1.5 million people city", ("Nairobi capital", "1.5 million people city")),
    ("• Nairobi capital\r\n• 'Kenya main city'", ("Nairobi capital", "Kenya main city")),
    ("Nairobi capital.\nnairobi   CAPITAL\n", ("Nairobi capital.",)),
])
def test_parse_queries_reads_the_shapes_models_answer_in(reply, expected):
    assert parse_queries(reply, 5) == expected


def test_parse_queries_never_returns_more_than_the_cap():
    reply = "\n".join(f"q{i} text" for i in range(100))
    assert len(parse_queries(reply, 50)) == MAX_REWRITES


# ---- fusing the per-query lists ----------------------------------------------------------


def make_hit(cid: int, score: float, rank: int) -> Hit:
    text = f"chunk {cid}"
    return Hit(Chunk("doc.md", "s", text, 0, len(text), f"d{cid}"), score, "cosine", rank)


@st.composite
def hit_list(draw):
    ids = draw(st.lists(st.integers(0, 14), unique=True, max_size=10))
    scores = sorted(draw(st.lists(st.floats(-1, 1, allow_nan=False), min_size=len(ids), max_size=len(ids))),
                    reverse=True)
    return [make_hit(c, s, r) for r, (c, s) in enumerate(zip(ids, scores), start=1)]


@settings(max_examples=150, deadline=None)
@given(lists=st.lists(hit_list(), min_size=1, max_size=MAX_REWRITES + 1), k=st.integers(1, 20),
       rrf_k=st.sampled_from([0, 1, 60]))
def test_fuse_rewrites_is_sorted_unique_within_k_and_keeps_who_found_what(lists, k, rrf_k):
    out = fuse_rewrites(lists, k, rrf_k)
    ids = [f.hit.chunk.chunk_id for f in out]
    union = {h.chunk.chunk_id for hits in lists for h in hits}
    assert len(ids) == len(set(ids)) == min(k, len(union))
    assert all(a.hit.score >= b.hit.score for a, b in zip(out, out[1:]))
    assert [f.hit.rank for f in out] == list(range(1, len(out) + 1))
    for f in out:
        assert f.hit.score_kind == "rrf" and f.found_by
        for i, hits in enumerate(lists):
            where = [h.rank for h in hits if h.chunk.chunk_id == f.hit.chunk.chunk_id]
            assert (i in f.found_by) == bool(where) and f.ranks[i] == (where[0] if where else None)
        best = min(f.found_by, key=lambda i: (f.ranks[i], i))
        assert f.hit.retrieval_rank == f.ranks[best] and f.hit.retrieval_score_kind == "cosine"
    assert fuse_rewrites(lists, k, rrf_k) == out


def test_a_chunk_found_by_several_queries_rises():
    question = [make_hit(1, 0.9, 1), make_hit(2, 0.8, 2), make_hit(3, 0.7, 3)]
    rewrite_a = [make_hit(3, 0.95, 1), make_hit(4, 0.5, 2)]
    rewrite_b = [make_hit(5, 0.9, 1), make_hit(3, 0.6, 2)]
    out = fuse_rewrites([question, rewrite_a, rewrite_b], k=3)
    assert [f.hit.chunk.doc_id for f in out] == ["d3", "d1", "d5"]
    assert out[0].found_by == (0, 1, 2) and out[0].ranks == (3, 1, 2)
    assert out[0].hit.retrieval_score == 0.95  # its hit from the list where it ranked best
    assert out[1].found_by == (0,)
    assert fuse_rewrites([], k=3) == []
    with pytest.raises(ConfigError):
        fuse_rewrites([question], k=0)


def test_multi_query_end_to_end_over_an_index(server, llm, tmp_path):
    """The path the Retriever takes: rewrite, search once per text, fuse, and show who found what."""
    index = hashing_index(tmp_path / "ix")
    server.reply("Nairobi largest city Kenya equator\nchlorophyll chloroplasts sunlight glucose")
    rw = multi_query(llm, "Which city is the seat of Kenya's government?", 2)
    lists = [index.store.search(index.embedder.embed_query(text), 3) for text in rw.search_texts()]
    fused = fuse_rewrites(lists, k=4)
    assert len(rw.search_texts()) == len(lists) == 3 and 0 < len(fused) <= 4
    sources = {f.hit.chunk.source for f in fused}
    assert "kenya.md" in sources and "photosynthesis.md" in sources  # the second rewrite found it
    assert all(set(f.found_by) <= {0, 1, 2} for f in fused)
