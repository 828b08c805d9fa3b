"""OpenAI and OpenAI-compatible embedders and chat, driven through the real `openai` SDK
against a local server speaking the OpenAI wire format (tests/fake_provider_server.py)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from fake_provider_server import ANSWER, fake_vector, server_tokens
from helpers import fact_documents

from rag_core import costs
from rag_core.embeddings import create_embedder
from rag_core.core.errors import ConfigError, IndexMismatchError
from rag_core.index.index import Index, open_for_ingest
from rag_core.llm import create_llm
from rag_core.answer.pipeline import Pipeline, cost_models_for
from rag_core.providers.connection import test_connection as check_connection
from rag_core.providers.retry import ProviderCallError, RetryPolicy
from rag_core.rerank import create_reranker
from rag_core.core.types import ChunkingConfig, GenerationRequest, RetrievalSettings, TokenUsage


def unit(v):
    v = np.asarray(v, dtype=np.float32)
    return v / np.linalg.norm(v)


# ---- embeddings -------------------------------------------------------------------------


def test_embeddings_are_batched_by_inputs_and_ordered_by_index(server, creds, policy):
    emb = create_embedder("openai:text-embedding-3-small", credentials=creds, cached=False, policy=policy,
                          max_inputs=3)
    texts = [f"text number {i}" for i in range(7)]
    vectors = emb.embed_documents(texts)
    sizes = [len(r.body["input"]) for r in server.calls("/v1/embeddings")]
    assert sizes == [3, 3, 1]
    assert vectors.shape == (7, 1536) and vectors.dtype == np.float32
    for text, vec in zip(texts, vectors):  # the server answers in reverse order: sorted by index
        np.testing.assert_allclose(vec, unit(fake_vector(text, 1536)), rtol=1e-5, atol=1e-6)
    assert emb.meter.tokens == sum(server_tokens(t) for t in texts) and emb.meter.requests == 3


def test_embeddings_are_batched_by_tokens_per_request(server, creds, policy):
    emb = create_embedder("openai:text-embedding-3-small", credentials=creds, cached=False, policy=policy,
                          max_tokens_per_request=12)
    emb.embed_documents(["one two three four five"] * 5)  # 5 tokens each: 2 per request
    assert [len(r.body["input"]) for r in server.calls("/v1/embeddings")] == [2, 2, 1]


def test_dimensions_option_names_the_embedder_and_reaches_the_api(server, creds, policy):
    emb = create_embedder("openai:text-embedding-3-large@256", credentials=creds, cached=False, policy=policy)
    assert emb.name == "openai:text-embedding-3-large@256" and emb.dim == 256
    assert emb.cost_model == "openai:text-embedding-3-large"
    assert emb.embed_query("hello").shape == (256,)
    assert server.calls("/v1/embeddings")[0].body["dimensions"] == 256
    with pytest.raises(ConfigError, match="fixed 1536"):
        create_embedder("openai:text-embedding-ada-002@256", credentials=creds)


def test_overlong_input_is_truncated_with_a_visible_warning(server, creds, policy, caplog):
    seen: list[str] = []
    emb = create_embedder("openai:text-embedding-3-small", credentials=creds, cached=False, policy=policy,
                          max_tokens_per_input=5, on_warning=seen.append)
    emb.embed_documents(["short", "word " * 40])
    sent = server.calls("/v1/embeddings")[0].body["input"]
    assert sent[0] == "short" and costs.count_tokens(sent[1]) == 5
    assert len(seen) == 1 and "input 2" in seen[0] and "first 5" in seen[0]
    assert "over the limit" in caplog.text


def test_missing_key_is_a_clear_config_error():
    with pytest.raises(ConfigError, match="OPENAI_API_KEY"):
        create_embedder("openai:text-embedding-3-small", cached=False)


# ---- retries ----------------------------------------------------------------------------


def test_429_with_retry_after_then_500_then_success(server, creds, policy, sleeps):
    server.fail("/v1/embeddings", 429, headers={"Retry-After": "2"},
                body={"error": {"message": "Rate limit reached", "type": "requests", "param": None,
                                "code": "rate_limit_exceeded"}})
    server.fail("/v1/embeddings", 500)
    emb = create_embedder("openai:text-embedding-3-small", credentials=creds, cached=False, policy=policy)
    assert emb.embed_query("hello").shape == (1536,)
    assert len(server.calls("/v1/embeddings")) == 3  # our policy only: the SDK's retries are off
    assert sleeps.waits[0] == 2.0  # Retry-After honoured
    assert 0 <= sleeps.waits[1] <= 1.0  # second attempt: jitter within base * 2
    assert emb.meter.requests == 1  # only the success reported usage


def test_retry_after_is_capped_and_ms_header_understood(server, creds, policy, sleeps):
    server.fail("/v1/embeddings", 429, headers={"Retry-After": "3600"})
    server.fail("/v1/embeddings", 503, headers={"retry-after-ms": "250"})
    create_embedder("openai:text-embedding-3-small", credentials=creds, cached=False, policy=policy).embed_query("x")
    assert sleeps.waits == [30.0, 0.25]


@pytest.mark.parametrize("status,reason", [(400, "bad_request"), (401, "auth"), (403, "forbidden"),
                                           (404, "not_found"), (422, "bad_request")])
def test_4xx_that_cannot_succeed_is_not_retried(server, creds, policy, sleeps, status, reason):
    server.fail("/v1/embeddings", status, times=3)
    emb = create_embedder("openai:text-embedding-3-small", credentials=creds, cached=False, policy=policy)
    with pytest.raises(ProviderCallError) as info:
        emb.embed_query("x")
    assert info.value.reason == reason and info.value.status == status
    assert len(server.calls("/v1/embeddings")) == 1 and sleeps.waits == []


def test_gives_up_after_max_attempts_with_a_clear_message(server, creds, policy, sleeps):
    server.fail("/v1/embeddings", 500, times=10)
    emb = create_embedder("openai:text-embedding-3-small", credentials=creds, cached=False, policy=policy)
    with pytest.raises(ProviderCallError, match=r"failed \(500\) after 4 attempts"):
        emb.embed_query("x")
    assert len(server.calls("/v1/embeddings")) == 4 and len(sleeps.waits) == 3
    assert all(0 <= w <= min(4.0, 0.5 * 2 ** i) for i, w in enumerate(sleeps.waits))


def test_timeout_is_retried_then_reported(server, creds, sleeps):
    server.fail("/v1/embeddings", 200, times=2, delay=1.0)
    quick = RetryPolicy(max_attempts=2, base_delay=0.01, timeout=0.2, sleep=sleeps)
    emb = create_embedder("openai:text-embedding-3-small", credentials=creds, cached=False, policy=quick)
    with pytest.raises(ProviderCallError) as info:
        emb.embed_query("x")
    assert info.value.reason == "timeout" and "timed out after 2 attempts" in str(info.value)


def test_unreachable_server(creds, policy):
    emb = create_embedder("compatible:nomic-embed-text", credentials=creds.with_values(
        compatible_base_url="http://127.0.0.1:9/v1"), cached=False, policy=policy, dim=768)
    with pytest.raises(ProviderCallError, match="could not reach http://127.0.0.1:9/v1") as info:
        emb.embed_query("x")
    assert info.value.reason == "unreachable" and info.value.attempts == 4


# ---- compatible server and the index manifest ------------------------------------------


def test_compatible_dimension_is_learnt_and_stored_in_the_manifest(server, creds, policy, tmp_path):
    index = open_for_ingest(tmp_path / "idx", "compatible:nomic-embed-text", "numpy", ChunkingConfig(size=300, overlap=30),
                            credentials=creds, policy=policy)
    assert index.manifest.embedder == "compatible:nomic-embed-text" and index.manifest.dim == 768
    index.ingest(fact_documents())
    index.save()
    n_calls = len(server.calls("/v1/embeddings"))
    reopened = Index.open(tmp_path / "idx", credentials=creds, policy=policy)
    assert reopened.embedder.dim == 768 and len(server.calls("/v1/embeddings")) == n_calls  # no probe
    assert server.calls("/v1/embeddings")[-1].body["encoding_format"] == "float"
    hits = reopened.store.search(reopened.embedder.embed_query("capital of Kenya"), 3)
    assert len(hits) == 3
    other = create_embedder("openai:text-embedding-3-small", credentials=creds, policy=policy)
    with pytest.raises(IndexMismatchError, match="compatible:nomic-embed-text"):
        Index.open(tmp_path / "idx", embedder=other)
    with pytest.raises(IndexMismatchError):
        open_for_ingest(tmp_path / "idx", "openai:text-embedding-3-small", credentials=creds)


def test_compatible_unknown_model_is_404(server, creds, policy):
    emb = create_embedder("compatible:no-such-model", credentials=creds, cached=False, policy=policy, dim=8)
    with pytest.raises(ProviderCallError, match="404.*no-such-model") as info:
        emb.embed_query("x")
    assert info.value.reason == "not_found"


# ---- chat -------------------------------------------------------------------------------


def _request(prompt="Context: Paris is in France.\nQuestion: capital?"):
    return GenerationRequest(prompt=prompt, question="capital?", hits=())


def test_chat_streams_deltas_then_the_usage_the_api_reported(server, creds, policy):
    llm = create_llm("openai:gpt-4o-mini", credentials=creds, policy=policy)
    items = list(llm.stream(_request()))
    assert "".join(i for i in items if isinstance(i, str)) == ANSWER
    assert isinstance(items[-1], TokenUsage) and sum(isinstance(i, TokenUsage) for i in items) == 1
    prompt = _request().prompt
    assert items[-1] == TokenUsage(server_tokens(prompt), len(ANSWER.split(" ")))
    body = server.calls("/v1/chat/completions")[0].body
    assert body["stream"] is True and body["stream_options"] == {"include_usage": True}
    assert body["max_completion_tokens"] == 512 and llm.context_window == 128_000


def test_compatible_chat_without_usage_yields_none_and_pipeline_estimates(server, creds, policy, tmp_path):
    server.report_usage = False
    llm = create_llm("compatible:llama3.2", credentials=creds, policy=policy)
    items = list(llm.stream(_request()))
    assert not any(isinstance(i, TokenUsage) for i in items)
    assert server.calls("/v1/chat/completions")[0].body["max_tokens"] == 512
    index = _index(tmp_path, "hashing")
    pipeline = Pipeline(index, llm, cost_models=cost_models_for(llm, index.embedder))
    turn = pipeline.ask("What is the capital of Kenya?", RetrievalSettings(top_k=2))
    assert "".join(turn) == ANSWER
    prompt_stage = turn.costs.stage("prompt")
    assert prompt_stage.reported_tokens is None and prompt_stage.tokens == turn.prompt.prompt_tokens
    assert prompt_stage.would_cost and prompt_stage.model == costs.DEFAULT_COST_MODEL


def test_chat_retries_opening_the_stream(server, creds, policy, sleeps):
    server.fail("/v1/chat/completions", 503)
    llm = create_llm("openai:gpt-4o-mini", credentials=creds, policy=policy)
    assert "".join(i for i in llm.stream(_request()) if isinstance(i, str)) == ANSWER
    assert len(server.calls("/v1/chat/completions")) == 2 and len(sleeps.waits) == 1


def test_chat_unknown_model_is_not_retried(server, creds, policy):
    llm = create_llm("openai:gpt-9", credentials=creds, policy=policy)
    with pytest.raises(ProviderCallError, match="gpt-9") as info:
        list(llm.stream(_request()))
    assert info.value.reason == "not_found" and len(server.calls("/v1/chat/completions")) == 1


# ---- per-stage costs of a hosted turn ---------------------------------------------------


def _index(tmp_path, name, creds=None, policy=None):
    index = open_for_ingest(tmp_path / "idx", name, "numpy", ChunkingConfig(size=300, overlap=30),
                            credentials=creds, **({"policy": policy} if policy else {}))
    index.ingest(fact_documents())
    return index


def test_hosted_turn_costs_use_reported_usage_and_the_price_table(server, creds, policy, tmp_path):
    index = _index(tmp_path, "openai:text-embedding-3-small", creds, policy)
    llm = create_llm("openai:gpt-4o-mini", credentials=creds, policy=policy)
    reranker = create_reranker("cohere:rerank-v3.5", credentials=creds, policy=policy)
    prices = costs.DEFAULT_PRICES.with_override("openai:gpt-4o-mini", costs.Price("", 1.0, 2.0))
    models = cost_models_for(llm, index.embedder, reranker, prices)
    assert (models.chat, models.embedding, models.rerank) == (
        "openai:gpt-4o-mini", "openai:text-embedding-3-small", "cohere:rerank-v3.5")
    question = "What is the capital of Kenya?"
    turn = Pipeline(index, llm, reranker, cost_models=models).ask(question, RetrievalSettings(top_k=2))
    text = "".join(turn)
    usage, stages = turn.answer.usage, turn.costs
    embed, prompt, completion, rerank = (stages.stage(s) for s in ("query embedding", "prompt", "completion", "rerank"))
    assert embed.reported_tokens == server_tokens(question) == usage.embedding_tokens
    assert embed.estimated_tokens == costs.count_tokens(question)
    assert prompt.reported_tokens == server_tokens(turn.prompt.text) == usage.prompt_tokens
    assert prompt.estimated_tokens == turn.prompt.prompt_tokens != prompt.reported_tokens
    assert completion.reported_tokens == len(ANSWER.split(" ")) and completion.estimated_tokens == costs.count_tokens(
        text, "o200k_base")
    assert rerank.searches == 1 and rerank.cost_usd == pytest.approx(2.00 / 1000)
    assert prompt.cost_usd == pytest.approx(usage.prompt_tokens * 1.0 / 1e6)
    assert completion.cost_usd == pytest.approx(usage.completion_tokens * 2.0 / 1e6)
    assert embed.cost_usd == pytest.approx(usage.embedding_tokens * 0.02 / 1e6)
    assert usage.cost_usd == pytest.approx(stages.total_usd)
    assert not any(s.would_cost for s in stages.stages)
    assert all(h.score_kind == "rerank relevance" and h.retrieval_score_kind == "hybrid z-score" for h in turn.answer.hits)
    # the same question again: the query vector comes from the cache, nothing is billed
    again = Pipeline(index, llm, reranker, cost_models=models).ask(question, RetrievalSettings(top_k=2))
    list(again)
    assert again.costs.stage("query embedding").reported_tokens == 0
    session = stages + again.costs
    assert session.total_usd == pytest.approx(stages.total_usd + again.costs.total_usd)
    assert session.stage("rerank").searches == 2


def test_local_providers_keep_the_would_cost_defaults(tmp_path):
    index = _index(tmp_path, "hashing")
    llm = create_llm("extractive")
    models = cost_models_for(llm, index.embedder, create_reranker("pool-bm25"))
    assert (models.chat, models.embedding, models.rerank) == (costs.DEFAULT_COST_MODEL, costs.DEFAULT_EMBED_COST_MODEL,
                                                              None)
    turn = Pipeline(index, llm, create_reranker("pool-bm25"), cost_models=models).ask(
        "capital of Kenya?", RetrievalSettings(top_k=2))
    list(turn)
    assert all(s.would_cost or s.stage == "rerank" for s in turn.costs.stages)
    assert turn.costs.stage("rerank").cost_usd == 0.0
    assert turn.answer.usage.cost_usd == pytest.approx(turn.costs.total_usd) and turn.answer.usage.cost_usd > 0


# ---- test connection --------------------------------------------------------------------


def test_connection_reports(server, creds):
    ok = check_connection("openai", creds, "openai:gpt-4o-mini")
    assert ok.ok and "gpt-4o-mini" in ok.models and "available" in ok.message
    bad_key = check_connection("openai", creds.with_values(openai_api_key="sk-wrong-0123456789abcdef"))
    assert not bad_key.ok and bad_key.reason == "auth" and "401" in bad_key.message
    missing = check_connection("compatible", creds, "compatible:mistral")
    assert not missing.ok and missing.reason == "missing_model" and "404" in missing.message
    down = check_connection("compatible", creds.with_values(compatible_base_url="http://127.0.0.1:9/v1"))
    assert not down.ok and down.reason == "unreachable" and "could not reach" in down.message
    no_url = check_connection("compatible", creds.with_values(compatible_base_url=None))
    assert not no_url.ok and no_url.reason == "config" and "base URL" in no_url.message
    cohere = check_connection("cohere", creds, "cohere:rerank-v3.5")
    assert cohere.ok and "rerank-v3.5" in cohere.models


# ---- the offline path imports no SDK ------------------------------------------------------


def test_offline_path_never_imports_the_sdks(tmp_path):
    code = f"""
import sys
from rag_core.cli import main
from rag_core.answer import pipeline
from rag_core import providers
from rag_core.providers import connection
assert main(["demo", "--index", {str(tmp_path / 'i')!r}, "--embedder", "hashing", "--store", "numpy", "--quiet"]) == 0
assert main(["query", "capital of France?", "--index", {str(tmp_path / 'i')!r}, "--reranker", "pool-bm25", "--json"]) == 0
print("LOADED", "openai" in sys.modules, "cohere" in sys.modules)
"""
    env = {**__import__("os").environ}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120, check=False)
    assert out.returncode == 0, out.stderr
    assert "LOADED False False" in out.stdout


def test_a_hosted_turn_with_its_models_missing_from_the_table_keeps_the_answer(server, creds, policy, tmp_path):
    index = _index(tmp_path, "openai:text-embedding-3-small", creds, policy)
    llm = create_llm("openai:gpt-4o-mini", credentials=creds, policy=policy)
    reranker = create_reranker("cohere:rerank-v3.5", credentials=creds, policy=policy)
    gone = {"openai:gpt-4o-mini", "openai:text-embedding-3-small", "cohere:rerank-v3.5"}
    prices = costs.PriceTable.of([p for p in costs.DEFAULT_PRICES.prices if p.model not in gone])
    models = cost_models_for(llm, index.embedder, reranker, prices)
    assert (models.chat, models.embedding) == ("openai:gpt-4o-mini", "openai:text-embedding-3-small")
    turn = Pipeline(index, llm, reranker, cost_models=models).ask("What is the capital of Kenya?",
                                                                   RetrievalSettings(top_k=2))
    assert "".join(turn) == ANSWER
    assert turn.answer is not None and turn.answer.text == ANSWER
    usage = turn.answer.usage
    assert usage.cost_usd == 0 and usage.prompt_tokens > 0
    for model in sorted(gone):
        assert f"{model} (no price in the table)" in usage.cost_model
    assert {s.stage: s.model for s in turn.costs.stages} == {
        "query embedding": "openai:text-embedding-3-small (no price in the table)",
        "rerank": "cohere:rerank-v3.5 (no price in the table)",
        "prompt": "openai:gpt-4o-mini (no price in the table)",
        "completion": "openai:gpt-4o-mini (no price in the table)"}
    assert not any(s.would_cost for s in turn.costs.stages)


def test_compatible_embedders_on_different_servers_do_not_share_the_cache(server, creds, policy, tmp_path):
    from rag_core.embeddings import CachedEmbedder

    here = create_embedder("compatible:nomic-embed-text", credentials=creds, cached=False, policy=policy, dim=768)
    there = create_embedder("compatible:nomic-embed-text", credentials=creds, cached=False, policy=policy, dim=768,
                            base_url=server.openai_url.replace("127.0.0.1", "localhost") + "/")
    keyed = create_embedder("compatible:nomic-embed-text", credentials=creds.with_values(
        compatible_api_key="sk-secret-KEY-0123456789"), cached=False, policy=policy, dim=768,
        base_url="http://127.0.0.1:9/v1?key=q-SECRET")
    with pytest.raises(ConfigError, match="user name or password") as info:  # refused: it would be Basic auth
        create_embedder("compatible:nomic-embed-text", credentials=creds, cached=False, dim=768,
                        base_url="http://user:pw-SECRET@127.0.0.1:9/v1")
    assert "SECRET" not in str(info.value)
    assert here.name == there.name and here.cache_namespace != there.cache_namespace
    assert "SECRET" not in keyed.cache_namespace and "127.0.0.1:9/v1" in keyed.cache_namespace
    a, b = CachedEmbedder(here, tmp_path), CachedEmbedder(there, tmp_path)
    a.embed_documents(["Nairobi is the capital of Kenya."])
    b.embed_documents(["Nairobi is the capital of Kenya."])
    assert (a.stats.misses, b.stats.misses, b.stats.hits) == (1, 1, 0)
    assert len(server.calls("/v1/embeddings")) == 2
    again = CachedEmbedder(create_embedder("compatible:nomic-embed-text", credentials=creds, cached=False,
                                           policy=policy, dim=768), tmp_path)
    again.embed_documents(["Nairobi is the capital of Kenya."])
    assert again.stats.hits == 1 and len(server.calls("/v1/embeddings")) == 2
    openai_emb = create_embedder("openai:text-embedding-3-small", credentials=creds, cached=False, policy=policy)
    assert openai_emb.cache_namespace == openai_emb.name  # hosted models keep their cache
