"""Hostile item 11, provider parts (issue 9): a compatible server that answers garbage is a
clear ProviderError (CLI: exit 2, one `error:` line), never silently saved or shown as an
empty answer: NaN/inf/zero, wrong-dimension, ragged or missing vectors; a chat server that
answers a stream request with plain JSON (accepted) or with garbage; a reranker whose answer
has the wrong shape. The fake server speaks the real wire formats and misbehaves on request."""

from __future__ import annotations

import math

import numpy as np
import pytest
from fake_provider_server import ANSWER

from rag_core.cli import main
from rag_core.embeddings import create_embedder
from rag_core.core.errors import ProviderError
from rag_core.llm import create_llm
from rag_core.rerank import create_reranker
from rag_core.core.types import Chunk, GenerationRequest, Hit, TokenUsage

EMBEDDERS = {
    "openai": ("openai:text-embedding-3-small", {}),
    "compatible": ("compatible:nomic-embed-text", {"dim": 768}),  # as from a manifest
    "cohere": ("cohere:embed-english-v3.0", {}),
}
FAULTS = {
    "nan": "NaN or infinite", "inf": "NaN or infinite", "zero": "all-zero", "wrong_dim": "dimensional vectors",
    "ragged": "numbers of one length", "missing": "asked for 3 embeddings, got 2",
    "repeated_index": "missing or repeated indexes",
}


@pytest.mark.parametrize("fault", list(FAULTS))
@pytest.mark.parametrize("kind", list(EMBEDDERS))
def test_bad_vectors_are_a_clear_error_and_never_cached(server, creds, policy, tmp_path, kind, fault):
    if fault == "repeated_index" and kind == "cohere":
        pytest.skip("Cohere's answer has no per-row index")
    name, options = EMBEDDERS[kind]
    server.embedding_fault = fault
    cached = create_embedder(name, credentials=creds, policy=policy, cache_dir=tmp_path, **options)
    texts = ["one text", "two text", "three text"]
    with pytest.raises(ProviderError, match=FAULTS[fault]) as info:
        cached.embed_documents(texts)
    assert "nothing was saved" in str(info.value) or fault == "wrong_dim"
    server.embedding_fault = None
    calls = len(server.requests)
    vectors = cached.embed_documents(texts)  # nothing bad was cached: the server is asked again
    assert len(server.requests) == calls + 1
    assert np.isfinite(vectors).all() and np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_a_compatible_server_learning_its_dimension_rejects_a_later_mismatch(server, creds, policy):
    emb = create_embedder("compatible:nomic-embed-text", credentials=creds, cached=False, policy=policy)
    assert emb.dim == 768
    server.embedding_fault = "wrong_dim"
    with pytest.raises(ProviderError, match="767-dimensional vectors, expected 768"):
        emb.embed_documents(["a", "b"])


def test_cli_ingest_with_nan_vectors_exits_2_and_saves_nothing(server, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a.md").write_text("# Kenya\n\nNairobi is the capital of Kenya, a country in East Africa.\n")
    server.embedding_fault = "nan"
    index = tmp_path / "idx"
    code = main(["ingest", str(tmp_path / "a.md"), "--index", str(index), "--embedder", "compatible:nomic-embed-text",
                 "--base-url", server.openai_url, "--store", "numpy", "--quiet", "--min-words", "1"])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("error: ") and err.count("\n") == 1, err
    assert "NaN or infinite" in err
    assert not index.exists() or not any(index.rglob("vectors*"))


# ---- chat ----------------------------------------------------------------------------------


def _ask(creds, policy, name="compatible:llama3.2"):
    return list(create_llm(name, credentials=creds, policy=policy).stream(GenerationRequest("p", "q", ())))


def test_a_plain_json_completion_to_a_stream_request_is_the_answer(server, creds, policy):
    server.chat_mode = "json"
    out = _ask(creds, policy)
    assert "".join(p for p in out if isinstance(p, str)) == ANSWER
    assert isinstance(out[-1], TokenUsage) and out[-1].completion_tokens == len(ANSWER.split(" "))
    assert server.calls("/v1/chat/completions")[0].body["stream"] is True


@pytest.mark.parametrize("mode, message", [
    ("garbage", "neither a stream nor JSON"),
    ("garbage_sse", "not a chat completion"),
    ("empty_sse", "sent no chat completion events"),
    ("error_json", "server said: model is loading"),
])
def test_a_garbage_chat_answer_is_a_clear_provider_error(server, creds, policy, mode, message):
    server.chat_mode = mode
    with pytest.raises(ProviderError, match=message):
        _ask(creds, policy)


def test_an_empty_answer_says_why(server, creds, policy):
    server.answer = ""
    with pytest.raises(ProviderError, match="returned an empty answer"):
        _ask(creds, policy, "openai:gpt-4o-mini")


def _index(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.md").write_text("# Kenya\n\nNairobi is the capital of Kenya, a country in East Africa.\n")
    index = tmp_path / "idx"
    assert main(["ingest", str(docs), "--index", str(index), "--embedder", "hashing", "--store", "numpy",
                 "--quiet", "--min-words", "1"]) == 0
    return index


@pytest.mark.parametrize("mode", ["json", "garbage", "garbage_sse", "empty_sse"])
def test_cli_query_with_a_misbehaving_chat_server(server, tmp_path, monkeypatch, capsys, mode):
    monkeypatch.chdir(tmp_path)
    index = _index(tmp_path)
    server.chat_mode = mode
    capsys.readouterr()
    code = main(["query", "capital of Kenya?", "--index", str(index), "--llm", "compatible:llama3.2",
                 "--base-url", server.openai_url])
    out = capsys.readouterr()
    if mode == "json":
        assert code == 0 and ANSWER in out.out, out.err
    else:
        assert code == 2 and out.err.startswith("error: compatible: ") and out.err.count("\n") == 1, out.err


# ---- rerank ---------------------------------------------------------------------------------


def _hits(n=3):
    return [Hit(Chunk(f"s{i}", "s", f"text {i} about Kenya", 0, 10, f"d{i}"), 0.5 - i / 10, "cosine", i + 1)
            for i in range(n)]


@pytest.mark.parametrize("fault", ["not_a_list", "missing_score", "string_index", "out_of_range", "nan_score",
                                   "repeated"])
def test_a_wrong_shaped_rerank_answer_is_a_clear_provider_error(server, creds, policy, fault):
    server.rerank_fault = fault
    reranker = create_reranker("cohere:rerank-v3.5", credentials=creds, policy=policy)
    with pytest.raises(ProviderError, match="rerank answer is not a list|document index") as info:
        reranker.rerank("Kenya", _hits(), 2)
    assert not isinstance(info.value, TypeError)
    server.rerank_fault = None
    ranked = reranker.rerank("Kenya", _hits(), 2)
    assert len(ranked) == 2 and all(math.isfinite(h.score) for h in ranked)


def test_cli_query_with_a_wrong_shaped_rerank_answer_exits_2(server, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COHERE_API_KEY", server.cohere_key)
    monkeypatch.setenv("COHERE_BASE_URL", server.cohere_url)
    index = _index(tmp_path)
    server.rerank_fault = "string_index"
    capsys.readouterr()
    code = main(["query", "capital of Kenya?", "--index", str(index), "--reranker", "cohere:rerank-v3.5"])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("error: cohere:rerank-v3.5: ") and err.count("\n") == 1, err
