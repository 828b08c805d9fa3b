"""Cohere embed and rerank (v2 API) through the real `cohere` SDK against a local server
speaking Cohere's wire format (tests/fake_provider_server.py)."""

from __future__ import annotations

import numpy as np
import pytest
from fake_provider_server import fake_vector, server_tokens

from rag_core.embeddings import create_embedder
from rag_core.core.errors import ConfigError
from rag_core.providers.retry import ProviderCallError
from rag_core.rerank import create_reranker
from rag_core.core.types import Chunk, Hit


def unit(v):
    v = np.asarray(v, dtype=np.float32)
    return v / np.linalg.norm(v)


def test_documents_and_queries_use_their_input_types(server, creds, policy):
    emb = create_embedder("cohere:embed-english-v3.0", credentials=creds, cached=False, policy=policy)
    assert emb.name == "cohere:embed-english-v3.0" and emb.dim == 1024
    docs = emb.embed_documents(["Nairobi is the capital of Kenya.", "Paris is in France."])
    query = emb.embed_query("capital of Kenya")
    first, second = server.calls("/v2/embed")
    assert first.body["input_type"] == "search_document" and second.body["input_type"] == "search_query"
    assert first.body["embedding_types"] == ["float"] and first.body["truncate"] == "END"
    np.testing.assert_allclose(docs[0], unit(fake_vector("search_document|Nairobi is the capital of Kenya.", 1024)),
                               rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(query, unit(fake_vector("search_query|capital of Kenya", 1024)), rtol=1e-5, atol=1e-6)


def test_batches_of_at_most_96_and_billed_tokens_metered(server, creds, policy):
    emb = create_embedder("cohere:embed-english-v3.0", credentials=creds, cached=False, policy=policy)
    texts = [f"document {i} text" for i in range(200)]
    assert emb.embed_documents(texts).shape == (200, 1024)
    assert [len(r.body["texts"]) for r in server.calls("/v2/embed")] == [96, 96, 8]
    assert emb.meter.tokens == sum(server_tokens(t) for t in texts) and emb.meter.requests == 3


def test_v4_output_dimension(server, creds, policy):
    emb = create_embedder("cohere:embed-v4.0@512", credentials=creds, cached=False, policy=policy)
    assert emb.name == "cohere:embed-v4.0@512" and emb.cost_model == "cohere:embed-v4.0"
    assert emb.embed_query("x").shape == (512,)
    assert server.calls("/v2/embed")[0].body["output_dimension"] == 512
    with pytest.raises(ConfigError, match="cannot output 300"):
        create_embedder("cohere:embed-v4.0@300", credentials=creds)


def test_overlong_input_warns(server, creds, policy):
    seen = []
    emb = create_embedder("cohere:embed-english-v3.0", credentials=creds, cached=False, policy=policy,
                          on_warning=seen.append)
    emb.embed_documents(["word " * 600])
    assert seen and "truncate=END" in seen[0]


def _hits():
    texts = ["Bananas are yellow fruit.", "The capital of Kenya is Nairobi.", "Kenya borders Tanzania.",
             "Paris is the capital of France."]
    return [Hit(Chunk("src.md", "s", t, 0, len(t), f"d{i}"), score=0.9 - i * 0.1, score_kind="cosine", rank=i + 1)
            for i, t in enumerate(texts)]


def test_rerank_labels_scores_and_keeps_retrieval_ranks(server, creds, policy):
    rr = create_reranker("cohere:rerank-v3.5", credentials=creds, policy=policy)
    assert rr.name == "cohere:rerank-v3.5" and rr.score_kind == "rerank relevance"
    out = rr.rerank("Kenya Nairobi", _hits(), top_n=2)
    assert [h.chunk.text for h in out] == ["The capital of Kenya is Nairobi.", "Kenya borders Tanzania."]
    assert [h.rank for h in out] == [1, 2] and all(h.score_kind == "rerank relevance" for h in out)
    assert [(h.retrieval_rank, h.retrieval_score, h.retrieval_score_kind) for h in out] == [
        (2, pytest.approx(0.8), "cosine"), (3, pytest.approx(0.7), "cosine")]
    assert 0 < out[1].score < out[0].score <= 1
    body = server.calls("/v2/rerank")[0].body
    assert body["top_n"] == 2 and len(body["documents"]) == 4
    assert rr.meter.search_units == 1


def test_rerank_retries_429_honouring_retry_after(server, creds, policy, sleeps):
    server.fail("/v2/rerank", 429, headers={"Retry-After": "1.5"}, body={"message": "too many requests"})
    rr = create_reranker("cohere:rerank-v3.5", credentials=creds, policy=policy)
    assert len(rr.rerank("Kenya", _hits(), 3)) == 3
    assert sleeps.waits == [1.5] and len(server.calls("/v2/rerank")) == 2


def test_cohere_errors_are_clear_and_not_retried(server, creds, policy, sleeps):
    bad = create_embedder("cohere:embed-english-v3.0", credentials=creds.with_values(cohere_api_key="co-wrong-key-0123456789"),
                          cached=False, policy=policy)
    with pytest.raises(ProviderCallError, match="401.*COHERE_API_KEY") as info:
        bad.embed_query("x")
    assert info.value.reason == "auth" and sleeps.waits == []
    rr = create_reranker("cohere:rerank-v9", credentials=creds, policy=policy)
    with pytest.raises(ProviderCallError, match="404") as info:
        rr.rerank("q", _hits(), 2)
    assert info.value.reason == "not_found"
    server.fail("/v2/embed", 500, times=10)
    emb = create_embedder("cohere:embed-english-v3.0", credentials=creds, cached=False, policy=policy)
    with pytest.raises(ProviderCallError, match="after 4 attempts"):
        emb.embed_query("x")
    assert len(sleeps.waits) == 3


def test_missing_key_is_a_config_error():
    with pytest.raises(ConfigError, match="COHERE_API_KEY"):
        create_reranker("cohere:rerank-v3.5")
