"""Every vector store behaves like the numpy reference store (the oracle)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rag_core.core.errors import ConfigError
from rag_core.stores import STORES, NumpyStore, create_store
from rag_core.core.types import Chunk, VectorStore

STORE_NAMES = ["numpy", "faiss", "faiss-hnsw", "pgvector", "pgvector-hnsw", "pinecone"]
APPROXIMATE = ("faiss-hnsw", "pgvector-hnsw")
DIM = 32


def unit(rows: np.ndarray) -> np.ndarray:
    rows = rows.astype(np.float32)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def make_chunks(n: int, n_sources: int = 5, offset: int = 0) -> list[Chunk]:
    out = []
    for i in range(offset, offset + n):
        text = f"chunk {i}"
        out.append(Chunk(source=f"doc{i % n_sources}.txt", section=f"s{i}", text=text, start=0, end=len(text),
                         doc_id=f"d{i % n_sources}"))
    return out


def clustered(n: int, seed: int = 0, clusters: int = 8) -> np.ndarray:
    """Structured data, like real embeddings: points around a few centres."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((clusters, DIM))
    return unit(centres[rng.integers(0, clusters, n)] + 0.35 * rng.standard_normal((n, DIM)))


def queries(n: int, seed: int = 1) -> np.ndarray:
    return clustered(n, seed=seed)


def filled(name: str, n: int = 400, seed: int = 0) -> tuple[VectorStore, NumpyStore, np.ndarray]:
    vecs, chunks = clustered(n, seed), make_chunks(n)
    store, oracle = create_store(name, DIM), NumpyStore(DIM)
    store.add(chunks, vecs)
    oracle.add(chunks, vecs)
    return store, oracle, vecs


def ids(hits) -> list[str]:
    return [h.chunk.text for h in hits]


def assert_matches_oracle(name, hits, expected, k):
    if name in APPROXIMATE:  # approximate: most of the true top-k, with exact scores
        truth = {h.chunk.text: h.score for h in expected}
        assert len(set(ids(hits)) & set(truth)) >= 0.9 * len(truth)
    else:
        assert ids(hits) == ids(expected)
        np.testing.assert_allclose([h.score for h in hits], [h.score for h in expected], atol=1e-5)


@pytest.fixture(params=STORE_NAMES)
def name(request) -> str:
    return request.param


@pytest.fixture(autouse=True)
def _pg_when_needed(request):
    """A pgvector case gets the session's embedded PostgreSQL (RAG_PG_DSN); a Pinecone case, the
    local wire-format fake of Pinecone, configured as the entry point would."""
    params = getattr(getattr(request.node, "callspec", None), "params", {})
    if any(str(v).startswith("pgvector") for v in params.values()):
        request.getfixturevalue("pg_env")
    if any(str(v) == "pinecone" for v in params.values()):
        request.getfixturevalue("pinecone_env")


def test_protocol_and_labels(name):
    store = create_store(name, DIM)
    assert isinstance(store, VectorStore)
    assert store.name == name and store.metric == "cosine"


def test_same_top_k_as_oracle(name):
    store, oracle, _ = filled(name)
    recall = []
    for q in queries(30):
        hits, expected = store.search(q, 10), oracle.search(q, 10)
        assert [h.rank for h in hits] == list(range(1, len(hits) + 1))
        assert all(h.score_kind == "cosine" for h in hits)
        vec_of = {c.text: v for c, v in zip(oracle.chunks(), oracle.vectors())}
        for h in hits:  # every store's scores are the exact cosine of what it returns
            assert h.score == pytest.approx(float(vec_of[h.chunk.text] @ q), abs=1e-5)
        recall.append(len(set(ids(hits)) & set(ids(expected))) / 10)
        if name not in APPROXIMATE:
            assert_matches_oracle(name, hits, expected, 10)
    assert np.mean(recall) >= 0.9


def test_k_larger_than_count_and_empty(name):
    empty = create_store(name, DIM)
    assert empty.count() == 0 and empty.search(queries(1)[0], 5) == []
    assert empty.chunks() == [] and empty.vectors().shape[0] == 0
    assert empty.delete("anything") == 0
    store, oracle, _ = filled(name, n=7)
    hits = store.search(queries(1)[0], 50)
    assert len(hits) == 7 and ids(hits) == ids(oracle.search(queries(1)[0], 50))
    assert store.search(queries(1)[0], 0) == []


def test_source_filter(name):
    store, oracle, _ = filled(name)
    for q in queries(10):
        for sources in (["doc1.txt"], ["doc0.txt", "doc3.txt"]):
            hits = store.search(q, 10, sources=sources)
            assert len(hits) == 10 and {h.chunk.source for h in hits} <= set(sources)
            assert_matches_oracle(name, hits, oracle.search(q, 10, sources=sources), 10)
    assert store.search(queries(1)[0], 10, sources=["missing.txt"]) == []
    assert store.search(queries(1)[0], 10, sources=[]) == []


def test_source_filter_on_large_hnsw_uses_the_graph():
    """Over EXACT_FILTER_MAX allowed ids the filter runs inside the HNSW search."""
    store, oracle = create_store("faiss-hnsw", DIM), NumpyStore(DIM)
    vecs, chunks = clustered(6000, seed=3), make_chunks(6000, n_sources=2)
    store.add(chunks, vecs)
    oracle.add(chunks, vecs)
    recall = []
    for q in queries(10):
        hits = store.search(q, 10, sources=["doc1.txt"])
        assert len(hits) == 10 and {h.chunk.source for h in hits} == {"doc1.txt"}
        recall.append(len(set(ids(hits)) & set(ids(oracle.search(q, 10, sources=["doc1.txt"])))) / 10)
    assert np.mean(recall) >= 0.9


def test_delete_then_search(name):
    store, oracle, _ = filled(name)
    assert store.delete("doc2.txt") == oracle.delete("doc2.txt") == 80
    assert store.delete("doc2.txt") == 0
    assert store.count() == oracle.count() == 320
    assert [c.text for c in store.chunks()] == [c.text for c in oracle.chunks()]
    np.testing.assert_array_equal(store.vectors(), oracle.vectors())
    for q in queries(10):
        hits = store.search(q, 10)
        assert "doc2.txt" not in {h.chunk.source for h in hits}
        assert_matches_oracle(name, hits, oracle.search(q, 10), 10)


def test_save_load_round_trip(name, tmp_path):
    store, _, _ = filled(name)
    store.save(str(tmp_path))
    again = create_store(name, DIM)
    again.load(str(tmp_path))
    assert again.chunks() == store.chunks()
    np.testing.assert_array_equal(again.vectors(), store.vectors())
    for q in queries(10):
        assert store.search(q, 10) == again.search(q, 10)
        assert store.search(q, 5, sources=["doc4.txt"]) == again.search(q, 5, sources=["doc4.txt"])


def test_save_load_empty(name, tmp_path):
    create_store(name, DIM).save(str(tmp_path))
    again = create_store(name, DIM)
    again.load(str(tmp_path))
    assert again.count() == 0 and again.search(queries(1)[0], 3) == []


def test_add_in_two_batches_equals_once(name):
    vecs, chunks = clustered(300), make_chunks(300)
    once, twice = create_store(name, DIM), create_store(name, DIM)
    once.add(chunks, vecs)
    twice.add(chunks[:120], vecs[:120])
    twice.add(chunks[120:], vecs[120:])
    assert once.chunks() == twice.chunks()
    for q in queries(10):
        assert_matches_oracle(name, twice.search(q, 10), once.search(q, 10), 10)


def test_dimension_mismatch_is_an_error(name):
    from rag_core.core.errors import IndexMismatchError

    store = create_store(name, DIM)
    with pytest.raises(IndexMismatchError):
        store.add(make_chunks(2), unit(np.ones((2, DIM + 1))))
    with pytest.raises(ValueError):
        store.add(make_chunks(3), clustered(2))


def test_unknown_store_lists_known_ones():
    with pytest.raises(ConfigError, match="faiss-hnsw"):
        create_store("chroma", DIM)
    assert set(STORE_NAMES) <= set(STORES.names())


def test_numpy_ties_go_to_the_earlier_chunk():
    store = NumpyStore(2)
    store.add(make_chunks(4), unit(np.array([[1, 0], [0, 1], [1, 0], [1, 0]])))
    assert ids(store.search(np.array([1, 0], np.float32), 2)) == ["chunk 0", "chunk 2"]


@pytest.mark.parametrize("store_name", STORE_NAMES)
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(n=st.integers(0, 60), k=st.integers(1, 80), seed=st.integers(0, 2**16),
       filt=st.sampled_from([None, ["doc0.txt"], ["doc1.txt", "doc4.txt"]]))
def test_hits_are_sorted_ranked_and_unique(store_name, n, k, seed, filt):
    store = create_store(store_name, DIM)
    if n:
        store.add(make_chunks(n), clustered(n, seed))
    hits = store.search(queries(1, seed + 1)[0], k, sources=filt)
    scores = [h.score for h in hits]
    assert scores == sorted(scores, reverse=True)
    assert [h.rank for h in hits] == list(range(1, len(hits) + 1))
    assert len({h.chunk for h in hits}) == len(hits)
    allowed = sum(1 for c in make_chunks(n) if filt is None or c.source in filt)
    assert len(hits) == min(k, allowed) if store_name not in APPROXIMATE else len(hits) <= min(k, allowed)
    if filt is not None:
        assert all(h.chunk.source in filt for h in hits)


@pytest.mark.parametrize("name", STORE_NAMES)
def test_delete_many_sources_in_one_pass_matches_the_oracle(name):
    rng = np.random.default_rng(3)
    vectors = rng.normal(size=(60, 16)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    chunks = [Chunk(f"s{i % 6}", "x", f"text {i}", 0, 6, f"d{i}") for i in range(60)]
    store, oracle = create_store(name, 16), create_store("numpy", 16)
    for s in (store, oracle):
        s.add(chunks, vectors)
    assert store.delete(["s1", "s4", "missing"]) == 20
    for source in ("s1", "s4"):
        oracle.delete(source)
    assert store.count() == oracle.count() == 40
    assert {c.source for c in store.chunks()} == {"s0", "s2", "s3", "s5"}
    query = vectors[7]
    assert [h.chunk.chunk_id for h in store.search(query, 5)] == [h.chunk.chunk_id for h in oracle.search(query, 5)]


@pytest.mark.parametrize("name", STORE_NAMES)
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_no_store_accepts_nan_or_infinite_vectors(name, bad):
    """issue 9: NaN rows from a compatible server were saved, and every query then matched nothing."""
    from rag_core.core.errors import StoreError

    store = create_store(name, DIM)
    store.add(make_chunks(3), clustered(3))
    vectors = clustered(4, seed=5)
    vectors[2, 7] = bad
    with pytest.raises(StoreError, match="NaN or infinite"):
        store.add(make_chunks(4, offset=3), vectors)
    assert store.count() == 3


@pytest.mark.parametrize("name", STORE_NAMES)
def test_a_saved_store_loads_back_bit_for_bit(tmp_path, name):
    store, _, vecs = filled(name, n=300)
    store.save(str(tmp_path))
    loaded = create_store(name, DIM)
    loaded.load(str(tmp_path))
    assert loaded.chunks() == store.chunks()
    assert np.array_equal(loaded.vectors(), store.vectors())


def test_vectors_at_are_the_rows_of_vectors_in_the_order_asked(name, tmp_path):
    """MMR reads candidates' vectors by row (position in chunks() order); a store that deleted
    rows, or was saved and loaded again, still numbers them as chunks() lists them."""
    store, oracle, _ = filled(name, n=60)
    store.delete("doc1.txt")
    oracle.delete("doc1.txt")
    rows = np.array([5, 0, 47, 5, oracle.count() - 1], dtype=np.int64)
    assert [c.text for c in store.chunks()] == [c.text for c in oracle.chunks()]
    assert np.allclose(store.vectors_at(rows), oracle.vectors()[rows], atol=1e-6)
    assert store.vectors_at(np.array([], dtype=np.int64)).shape == (0, DIM)
    store.save(str(tmp_path))
    again = create_store(name, DIM)
    again.load(str(tmp_path))
    assert np.allclose(again.vectors_at(rows), oracle.vectors()[rows], atol=1e-6)
