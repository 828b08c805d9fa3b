"""pgvector's limits by version (issue 20 item 2): the version is read from the real embedded
server (pgserver bundles 0.6.2); what each version gets is chosen from it — HNSW over 2,000
dimensions refused on 0.6 before anything is embedded, halfvec on 0.7+, iterative scan for
source-filtered searches on 0.8+ instead of the exact fallback."""

from __future__ import annotations

import uuid

import numpy as np
import pytest

from rag_core.core.errors import ConfigError, StoreError
from rag_core.stores import pg_features
from rag_core.stores.pg_features import PgVectorFeatures, filtered_plan, hnsw_opclass, parse_version
from rag_core.stores.pgvector_store import EXACT_FILTER_MAX, PgVectorStore
from rag_core.core.types import Chunk

V062, V072, V080 = (PgVectorFeatures(v) for v in ((0, 6, 2), (0, 7, 2), (0, 8, 0)))


class CountingEmbedder:
    """A 3,072-d embedder (text-embedding-3-large's size) that counts what it was asked to embed."""

    name, dim = "counting-3072", 3072

    def __init__(self) -> None:
        self.calls = 0

    def embed_documents(self, texts):
        self.calls += 1
        return np.ones((len(texts), self.dim), dtype=np.float32)

    def embed_query(self, text):
        self.calls += 1
        return np.ones(self.dim, dtype=np.float32)


def test_versions_are_parsed_and_unreadable_ones_refused():
    assert parse_version("0.6.2") == (0, 6, 2)
    assert parse_version("0.8.0-dev") == (0, 8, 0)
    assert parse_version("0.7") == (0, 7, 0)
    for bad in ("", "dev", "x" * 10_000):
        with pytest.raises(StoreError, match="cannot read"):
            parse_version(bad)
    assert not V062.halfvec and V072.halfvec and not V072.iterative_scan and V080.iterative_scan


def test_the_hnsw_operator_class_is_chosen_by_version_and_dimension():
    for features in (V062, V072, V080):
        assert hnsw_opclass(features, 2000) == "vector_cosine_ops"
    assert hnsw_opclass(V072, 3072) == hnsw_opclass(V080, 4000) == "halfvec_cosine_ops"
    with pytest.raises(ConfigError) as refused:
        hnsw_opclass(V062, 3072)
    message = str(refused.value)
    for said in ("0.6.2", "2,000", "3,072", "Nothing was embedded", "`pgvector`", "faiss-hnsw", "0.7", "dimensions"):
        assert said in message
    with pytest.raises(ConfigError, match="4,000"):
        hnsw_opclass(V080, 4001)


def test_a_filtered_search_is_planned_by_version():
    # 0.8+: the graph walk goes on until k rows pass, whatever the filter lets through
    assert filtered_plan(V080, None, 10, EXACT_FILTER_MAX) == "iterative"
    assert filtered_plan(V080, 5, 10, EXACT_FILTER_MAX) == "iterative"
    # before 0.8: an exact scan when few rows pass, else the graph (short -> exact fallback)
    for features in (V062, V072):
        assert filtered_plan(features, EXACT_FILTER_MAX, 10, EXACT_FILTER_MAX) == "exact"
        assert filtered_plan(features, EXACT_FILTER_MAX + 1, 10, EXACT_FILTER_MAX) == "graph"


def test_the_embedded_server_reports_its_pgvector_version(pg_dsn):
    pg_features.forget(pg_dsn)
    found = pg_features.features(pg_dsn)
    assert found.version >= (0, 6, 0) and found is pg_features.features(pg_dsn)  # read once
    import psycopg

    with psycopg.connect(pg_dsn) as conn:
        text = conn.execute("SELECT extversion FROM pg_extension WHERE extname = 'vector'").fetchone()[0]
    assert found.text == ".".join(map(str, parse_version(text)))


def test_hnsw_over_2000_dims_on_the_embedded_server_is_refused_before_anything_is_embedded(pg_dsn, tmp_path):
    from rag_core.index.index import Index

    if pg_features.features(pg_dsn).halfvec:
        pytest.skip("this pgserver bundles pgvector 0.7+: halfvec indexes 3,072 dims")
    embedder = CountingEmbedder()
    with pytest.raises(ConfigError, match="cannot build a pgvector-hnsw index") as refused:
        Index.create(tmp_path / f"big-{uuid.uuid4().hex[:8]}", embedder, "pgvector-hnsw", credentials={"dsn": pg_dsn})
    assert embedder.calls == 0 and "faiss-hnsw" in str(refused.value)
    # exact pgvector and HNSW at 2,000 dims are not refused
    PgVectorStore("exact", 3072, dsn=pg_dsn)
    PgVectorStore("hnsw", 2000, dsn=pg_dsn)


def test_on_0_7_a_3072_dim_hnsw_store_indexes_and_searches_halfvec(pg_dsn, monkeypatch):
    monkeypatch.setattr(pg_features, "features", lambda dsn: V072)
    store = PgVectorStore("hnsw", 3072, dsn=pg_dsn)  # not refused
    assert store._opclass() == "halfvec_cosine_ops"
    seen = []
    monkeypatch.setattr(store, "_read", lambda statement, params=(), settings=(): seen.append(statement) or [])
    store._version = 1  # as if built: the graph may serve the query
    store.search(np.ones(3072, dtype=np.float32), 3)
    rendered = seen[0].as_string(None)
    assert "ORDER BY embedding::halfvec(3072) <=> %(q)s::halfvec(3072)" in rendered
    assert "embedding <=> %(q)s AS d" in rendered  # the score stays full precision


def _filtered_rows(n: int = 300) -> tuple[list[Chunk], np.ndarray]:
    rng = np.random.default_rng(3)
    vecs = rng.standard_normal((n, 16)).astype(np.float32)
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    return [Chunk(f"doc{i % 3}.txt", "", f"chunk {i}", 0, 5, f"d{i}") for i in range(n)], vecs


def test_on_0_8_a_filtered_search_walks_the_graph_with_iterative_scan_and_counts_nothing(pg_dsn, monkeypatch):
    chunks, vecs = _filtered_rows()
    store = PgVectorStore("hnsw", 16, index_name=f"it-{uuid.uuid4().hex[:8]}", dsn=pg_dsn)
    store.add(chunks, vecs)
    store.commit()
    expected = [h.chunk.doc_id for h in store.search(vecs[0], 5, sources=["doc0.txt"])]  # 0.6: exact here
    real_read, calls = store._read, []

    def recording(statement, params=(), *, settings=()):
        calls.append((str(statement.as_string(None)) if hasattr(statement, "as_string") else statement,
                      list(settings)))
        # the embedded 0.6.2 server rejects the 0.8 setting: what was chosen is recorded, then dropped
        return real_read(statement, params, settings=[s for s in settings if "iterative_scan" not in s])

    monkeypatch.setattr(store, "_read", recording)
    monkeypatch.setattr(pg_features, "features", lambda dsn: V080)
    hits = store.search(vecs[0], 5, sources=["doc0.txt"])
    assert [h.chunk.doc_id for h in hits] == expected
    assert not any("count(*)" in statement for statement, _ in calls)  # no count, no exact pre-check
    assert "SET LOCAL hnsw.iterative_scan = relaxed_order" in calls[0][1]
    assert not any("enable_indexscan = off" in s for _, settings in calls for s in settings)
    calls.clear()
    monkeypatch.setattr(pg_features, "features", lambda dsn: V062)
    store.search(vecs[0], 5, sources=["doc0.txt"])
    assert any("count(*)" in statement for statement, _ in calls)  # 0.6: counted, then exact
    assert any("SET LOCAL enable_indexscan = off" in settings for _, settings in calls)
