"""Retrieval modes in the Retriever (dense, bm25, hybrid rrf/weighted), MMR and neighbours as
steps, BM25 kept with each index generation (incremental ingest, delete, old indexes, kill -9),
and contextual headers."""

import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import numpy as np
import pytest
from fake_pinecone import FakePinecone
from helpers import FACTS, fact_documents, hashing_index
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rag_core.embeddings import create_embedder
from rag_core.core.errors import ConfigError
from rag_core.index.index import BM25_DIR, Index, live_generation, read_manifest
from rag_core.llm import create_llm
from rag_core.answer.pipeline import Pipeline
from rag_core.retrieval import Retriever
from rag_core.index.bm25 import BM25Index
from rag_core.index.headers import indexed_text
from rag_core.stores import pinecone_store
from rag_core.core.types import ChunkingConfig, Document, RetrievalSettings

ROOT = Path(__file__).resolve().parents[2]
STORES = ["numpy", "faiss", "faiss-hnsw"]
LONG = {f"topic{i}.md": f"Topic {i} paragraph. " + " ".join(f"word{i}x{j} filler text here." for j in range(40))
        for i in range(6)}


@pytest.fixture(scope="module", params=STORES + ["pgvector", "pgvector-hnsw", "pinecone"])
def index(request, tmp_path_factory):
    """Each store holds the same index; a pgvector one lives in the session's embedded PostgreSQL
    (its table is named after the directory, hence a unique name); a Pinecone one in a namespace of
    the local wire-format fake of Pinecone."""
    docs = fact_documents() + fact_documents(LONG)
    with pytest.MonkeyPatch.context() as patch, FakePinecone(dim=None) as fake:
        if request.param.startswith("pgvector"):
            patch.setenv("RAG_PG_DSN", request.getfixturevalue("pg_dsn"))
        if request.param == "pinecone":
            patch.setattr(pinecone_store, "_OVERRIDE", [pinecone_store.PineconeSettings(
                api_key=fake.api_key, index=fake.index, host=fake.url, timeout_s=5)])
        name = f"idx-{request.param}-{uuid.uuid4().hex[:8]}"
        built = hashing_index(tmp_path_factory.mktemp(request.param) / name, store=request.param, documents=docs)
        yield built


def _check_sorted_unique(hits, k):
    assert len(hits) <= k
    assert len({h.chunk.chunk_id for h in hits}) == len(hits)
    assert [h.rank for h in hits] == list(range(1, len(hits) + 1))
    scores = [h.score for h in hits]
    assert scores == sorted(scores, reverse=True)


@pytest.mark.parametrize("mode,fusion,kind", [("dense", "weighted", "cosine"), ("bm25", "weighted", "bm25"),
                                              ("hybrid", "weighted", "hybrid z-score"), ("hybrid", "rrf", "rrf")])
def test_every_mode_works_on_every_store(index, mode, fusion, kind):
    result = Retriever(index).retrieve("Nobel Prize photoelectric effect",
                                       RetrievalSettings(top_k=3, mode=mode, fusion=fusion))
    _check_sorted_unique(result.hits, 3)
    assert result.hits[0].chunk.source == "einstein.md"
    assert all(h.score_kind == kind for h in result.hits)
    top = result.hits[0]
    kinds = [s.kind for s in top.scores]
    if mode == "hybrid":  # every score it got, each with its rank in that list, the fused one last
        assert kinds == ["cosine", "bm25", kind] and top.scores[-1].rank == 1
    else:
        assert kinds == [kind]


def test_minmax_label_and_sources_filter(index):
    settings = RetrievalSettings(top_k=4, normalise="minmax", sources=("japan.md", "kenya.md"))
    result = Retriever(index).retrieve("capital city", settings)
    assert {h.chunk.source for h in result.hits} <= {"japan.md", "kenya.md"}
    assert all(h.score_kind == "hybrid min-max" for h in result.hits)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(mode=st.sampled_from(["dense", "bm25", "hybrid"]), fusion=st.sampled_from(["weighted", "rrf"]),
       normalise=st.sampled_from(["zscore", "minmax"]), alpha=st.floats(0, 1), rrf_k=st.floats(0, 100),
       depth=st.integers(1, 50), mmr=st.one_of(st.none(), st.floats(0, 1)), top_k=st.integers(1, 12),
       question=st.sampled_from(["capital of Kenya", "word3x7 filler", "volcano island", "zzz", "topic paragraph"]))
def test_fusion_and_mmr_keep_results_sorted_unique_within_k(index, mode, fusion, normalise, alpha, rrf_k, depth,
                                                             mmr, top_k, question):
    s = RetrievalSettings(top_k=top_k, mode=mode, fusion=fusion, normalise=normalise, alpha=alpha, rrf_k=rrf_k,
                          depth=depth, mmr_lambda=mmr)
    result = Retriever(index).retrieve(question, s)
    _check_sorted_unique(result.hits, top_k)
    if mmr is not None and result.hits:
        assert all(h.score_kind == f"mmr λ={mmr:g}" for h in result.hits)


@pytest.mark.parametrize("bad", [dict(alpha=1.5), dict(fusion="sum"), dict(normalise="raw"), dict(rrf_k=-1),
                                 dict(depth=0), dict(mmr_lambda=2.0), dict(neighbours=9), dict(mode="sparse")])
def test_bad_settings_are_clear_errors(index, bad):
    with pytest.raises(ConfigError):
        Retriever(index).retrieve("capital", RetrievalSettings(**bad))


def test_neighbours_go_to_the_answerer_not_the_hits(tmp_path):
    doc = Document("story.md", "story", " ".join(f"Sentence number {i} of the long story." for i in range(60)))
    index = hashing_index(tmp_path / "i", documents=[doc], chunking=ChunkingConfig(size=200, overlap=0))
    s = RetrievalSettings(top_k=1, mode="bm25")
    plain = Retriever(index).retrieve("Sentence number 30", s)
    wide = Retriever(index).retrieve("Sentence number 30", RetrievalSettings(top_k=1, mode="bm25", neighbours=1))
    assert wide.hits == plain.hits and len(wide.context) == 3
    hit_id = wide.hits[0].chunk.chunk_id
    assert [h.neighbour_of for h in wide.context].count(hit_id) == 2
    starts = [h.chunk.start for h in wide.context]
    assert starts == sorted(starts)  # reading order
    llm = create_llm("extractive")
    p0 = Pipeline(index, llm).prepare("Sentence number 30", s)[1]
    p1 = Pipeline(index, llm).prepare("Sentence number 30", RetrievalSettings(top_k=1, mode="bm25", neighbours=1))[1]
    assert len(p1.hits) == 3 and p1.prompt_tokens > p0.prompt_tokens


def test_bm25_follows_incremental_ingest_and_delete(tmp_path):
    index = hashing_index(tmp_path / "i")
    index.ingest([Document("mars.md", "mars", "Mars is the red planet with Olympus Mons.")])
    bm25 = RetrievalSettings(top_k=2, mode="bm25")
    assert Retriever(index).retrieve("Olympus Mons", bm25).hits[0].chunk.source == "mars.md"  # before the save
    index.save()
    index.delete_source("japan.md")
    assert all(h.chunk.source != "japan.md" for h in Retriever(index).retrieve("Tokyo Fuji volcano", bm25).hits)
    index.save()
    reopened = Index.open(tmp_path / "i")
    assert list(reopened.bm25.ids) == [c.chunk_id for c in reopened.store.chunks()] and not reopened.notes
    fresh = BM25Index.from_chunks(reopened.store.chunks())
    for q in ("Olympus Mons red planet", "capital", "Tokyo"):
        a, sa = reopened.bm25.search(q, 5)
        b, sb = fresh.search(q, 5)
        assert a == b and np.allclose(sa, sb)
    assert "japan.md" not in {c.source for c in reopened.store.chunks()}


def test_an_index_saved_without_bm25_builds_it_on_first_use(tmp_path):
    hashing_index(tmp_path / "i")
    shutil.rmtree(live_generation(tmp_path / "i") / BM25_DIR)
    index = Index.open(tmp_path / "i")
    hits = Retriever(index).retrieve("photoelectric", RetrievalSettings(top_k=1, mode="bm25")).hits
    assert hits[0].chunk.source == "einstein.md"
    assert any("without BM25" in n for n in index.notes)


def test_manifest_records_bm25_settings_and_headers(tmp_path):
    index = Index.create(tmp_path / "i", create_embedder("hashing"), "numpy", ChunkingConfig(size=300, overlap=30),
                         headers=True)
    index.ingest(fact_documents())
    index.save()
    manifest = read_manifest(tmp_path / "i")
    assert manifest.headers is True and manifest.bm25 == {"k1": 1.5, "b": 0.75, "method": "lucene"}


def test_headers_are_embedded_and_bm25_indexed_but_not_shown(tmp_path):
    docs = [Document("Eiffel_Tower.md", "Eiffel_Tower", "It was completed in 1889 for the World's Fair."),
            Document("Big_Ben.md", "Big_Ben", "The clock tower was finished in 1859.")]
    embedder = create_embedder("hashing")
    index = Index.create(tmp_path / "i", embedder, "numpy", ChunkingConfig(size=300, overlap=30), headers=True)
    index.ingest(docs)
    chunk = index.store.chunks()[0]
    assert chunk.text == docs[0].text  # shown text unchanged
    assert np.allclose(index.store.vectors()[0], embedder.embed_documents([indexed_text(chunk, True)])[0])
    hits = Retriever(index).retrieve("Eiffel", RetrievalSettings(top_k=1, mode="bm25")).hits
    assert hits and hits[0].chunk.source == "Eiffel_Tower.md"


WRITER = """
import sys
from rag_core.index.index import Index
from rag_core.core.types import Document
index = Index.open(sys.argv[1])
print("ready", flush=True)
i = 0
while True:
    i += 1
    docs = [Document(f"file{i}-{j}.txt", "s", f"document{i} part{j} " + "lorem ipsum dolor " * 200) for j in range(20)]
    index.ingest(docs)
    if i % 2 == 0:
        index.delete_source(f"file{i - 1}-0.txt")
    index.save()
"""


def test_kill_9_during_ingest_leaves_vectors_and_bm25_consistent(tmp_path):
    directory = tmp_path / "idx"
    hashing_index(directory)
    for delay in (0.3, 0.6, 0.9, 1.3):
        proc = subprocess.Popen([sys.executable, "-c", WRITER, str(directory)], cwd=ROOT,
                                stdout=subprocess.PIPE, env=dict(os.environ))
        assert proc.stdout.readline().strip() == b"ready"
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        index = Index.open(directory)
        assert (live_generation(directory) / BM25_DIR).is_dir()
        assert list(index.bm25.ids) == [c.chunk_id for c in index.store.chunks()]
        assert index.notes == []  # loaded from the generation, not rebuilt
        assert index.store.count() == index.manifest.n_chunks == len(index.bm25)
        hits = Retriever(index).retrieve("photoelectric", RetrievalSettings(top_k=1, mode="bm25")).hits
        assert hits[0].chunk.source == "einstein.md"


def test_a_sweep_searches_and_bm25_scores_each_question_once(tmp_path):
    from rag_core.evaluation.evaluate import EvalQuestion, QuestionSet, sweep

    index = hashing_index(tmp_path / "i")
    calls = {"search": 0, "bm25": 0}
    search, scores = index.store.search, index.bm25.scores

    def counted_search(*a, **k):
        calls["search"] += 1
        return search(*a, **k)

    def counted_scores(*a, **k):
        calls["bm25"] += 1
        return scores(*a, **k)

    index.store.search, index.bm25.scores = counted_search, counted_scores
    qs = QuestionSet("q", tuple(EvalQuestion(q, ("kenya.md",)) for q in ("capital of Kenya", "Nairobi city", "savannah")))
    grid = [RetrievalSettings(top_k=5), RetrievalSettings(top_k=5, mode="dense"), RetrievalSettings(top_k=3, fusion="rrf"),
            RetrievalSettings(top_k=5, alpha=0.8), RetrievalSettings(top_k=5, mode="bm25", depth=100)]
    results = sweep(index, qs, grid)
    assert len(results) == 5 and calls == {"search": 3, "bm25": 3}


def test_chunks_added_behind_the_index_and_repeated_ids_keep_bm25_right(tmp_path):
    index = hashing_index(tmp_path / "i")
    chunk = index.store.chunks()[0]
    index.store.add([chunk], index.store.vectors_at(np.array([0])))  # the same chunk id twice
    index.save()
    reopened = Index.open(tmp_path / "i")
    assert len(reopened.bm25) == reopened.store.count() and not reopened.notes
    hits = Retriever(reopened).retrieve(chunk.text[:40], RetrievalSettings(top_k=5, mode="bm25")).hits
    assert [h.chunk.chunk_id for h in hits].count(chunk.chunk_id) == 2
