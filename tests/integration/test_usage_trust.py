"""A server's usage figures are checked before they are priced: 10**400 tokens used to crash the
CLI (OverflowError), 10**30 was priced at $1.5e23, and negative, NaN, string or boolean counts
became 0 tokens and $0 (issue 16, item 17). Anything that is not a believable whole number falls
back to the tiktoken estimate, and the turn says the server's figure was not used."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rag_core.cli import main
from rag_core.costs import DEFAULT_PRICES
from rag_core.costs.record import PROMPT, StageCost
from rag_core.providers.metering import MAX_REPORTED_TOKENS, UsageMeter, believable_count

JUNK = [10**400, 10**30, -5, float("nan"), "lots", "12", True, None, 1.5, [], {}]


@given(st.one_of(st.integers(), st.floats(allow_nan=True), st.text(max_size=5), st.booleans(), st.none()))
def test_only_a_believable_whole_number_is_priced(value):
    stage = StageCost.priced(PROMPT, "openai:gpt-4o-mini", DEFAULT_PRICES, 100, value)
    if believable_count(value):
        assert stage.reported_tokens == value and not stage.report_refused
    else:
        assert stage.reported_tokens in (None,) and stage.tokens == 100
        assert stage.report_refused == (value is not None)
    assert 0 <= stage.cost_usd < 1_000  # never astronomical, never negative


def test_a_refused_figure_is_said():
    stage = StageCost.priced(PROMPT, "openai:gpt-4o-mini", DEFAULT_PRICES, 100, 10**30)
    assert stage.source == "tiktoken estimate; the server's figure was not used"


def test_the_meter_drops_junk():
    meter = UsageMeter()
    for junk in (10**400, -1, MAX_REPORTED_TOKENS + 1, True):
        meter.add(tokens=junk)
    meter.add(tokens=7)
    assert meter.snapshot().tokens == 7


@pytest.mark.parametrize("junk", JUNK)
@pytest.mark.parametrize("mode", ["stream", "json"])
def test_cli_query_with_junk_usage_prices_the_estimate_and_says_so(server, tmp_path, monkeypatch, capsys, junk, mode):
    from test_provider_garbage import _index

    monkeypatch.chdir(tmp_path)
    index = _index(tmp_path)
    server.chat_mode = mode
    server.usage_override = {"prompt_tokens": junk, "completion_tokens": junk, "total_tokens": junk}
    capsys.readouterr()
    code = main(["query", "capital of Kenya?", "--index", str(index), "--llm", "compatible:llama3.2",
                 "--base-url", server.openai_url])
    out = capsys.readouterr()
    assert code == 0, out.err
    assert "the server's figure was not used" in out.out, out.out
    assert "e+" not in out.out.split("tokens:")[1].splitlines()[0]  # no astronomical dollars


@pytest.mark.parametrize("junk", [True, "12"])
def test_a_plain_json_answer_with_boolean_or_string_usage_is_not_used(server, tmp_path, monkeypatch, capsys, junk):
    from test_provider_garbage import _index

    monkeypatch.chdir(tmp_path)
    index = _index(tmp_path)
    server.chat_mode = "json"
    server.usage_override = {"prompt_tokens": junk, "completion_tokens": junk}
    capsys.readouterr()
    assert main(["query", "capital of Kenya?", "--index", str(index), "--llm", "compatible:llama3.2",
                 "--base-url", server.openai_url]) == 0
    assert "the server's figure was not used" in capsys.readouterr().out


#: the cohere SDK reads billed_units as floats (it turns "12" into 12.0 before we see it)
COHERE_JUNK = [10**400, float("inf"), float("-inf"), float("nan"), 1e30, -5, 2.5, [], {"n": 1}]


@pytest.mark.parametrize("junk", COHERE_JUNK, ids=repr)
def test_cohere_billed_units_that_are_junk_are_not_counted(server, creds, policy, junk):
    """Cohere's billed_units: Infinity made int() raise OverflowError mid-embed, and true counted as 1."""
    from rag_core.embeddings import create_embedder
    from rag_core.rerank import create_reranker
    from rag_core.core.types import Chunk, Hit

    server.billed_override = {"input_tokens": junk, "search_units": junk}
    emb = create_embedder("cohere:embed-english-v3.0", credentials=creds, cached=False, policy=policy)
    assert emb.embed_documents(["the capital of Kenya"]).shape == (1, emb.dim)
    assert emb.meter.snapshot().tokens == 0 and emb.meter.reported is False
    rr = create_reranker("cohere:rerank-v3.5", credentials=creds, policy=policy)
    hits = [Hit(Chunk("a.md", "s", f"text {i}", 0, 6, f"c{i}"), score=0.5, score_kind="cosine", rank=i + 1)
            for i in range(3)]
    assert len(rr.rerank("text", hits, 2)) == 2
    assert rr.meter.snapshot().search_units == 1  # the estimate: ceil(3 documents / 100)


@given(st.one_of(st.integers(min_value=-10**500, max_value=10**500), st.floats(allow_nan=True, allow_infinity=True),
                 st.booleans(), st.none(), st.text(max_size=3)))
def test_a_count_read_as_a_float_never_raises_and_is_whole_and_bounded(value):
    from rag_core.providers.metering import count_from_float

    got = count_from_float(value)
    assert got is None or (type(got) is int and 0 <= got <= MAX_REPORTED_TOKENS and got == value)


@pytest.mark.parametrize("junk", [10**400, -5, "12", True, 1.5, None], ids=repr)
def test_a_turn_says_when_the_query_embeddings_figure_was_not_used(server, creds, policy, tmp_path, junk):
    """The embedding stage too: a junk figure is not used, and the turn says so (it said 'tiktoken
    estimate' as if the server had reported nothing)."""
    from helpers import fact_documents

    from rag_core.embeddings import create_embedder
    from rag_core.index.index import Index
    from rag_core.llm import create_llm
    from rag_core.answer.pipeline import Pipeline
    from rag_core.core.types import ChunkingConfig, RetrievalSettings

    emb = create_embedder("openai:text-embedding-3-small", credentials=creds, cached=False, policy=policy)
    index = Index.create(tmp_path / "idx", emb, "numpy", ChunkingConfig(size=300, overlap=30))
    index.ingest(fact_documents())
    server.embed_usage_override = {"prompt_tokens": junk, "total_tokens": junk}
    turn = Pipeline(index, create_llm("extractive")).ask("What is the capital of Kenya?", RetrievalSettings(top_k=2))
    list(turn)
    stage = turn.costs.stage("query embedding")
    assert stage.reported_tokens is None and stage.tokens == stage.estimated_tokens > 0
    assert stage.source == ("tiktoken estimate" if junk is None else
                            "tiktoken estimate; the server's figure was not used")
