"""Objects one server shares between its sessions, used from many threads at once (issue 21).

A Streamlit server runs each session's script on its own thread, and ui/cache.py hands them all
the same embedder, opened Index (with its lazy BM25 and lookups) and BM25 query cache. These
tests hammer each from threads and compare with the serial answers; and they read an index whose
directory another writer replaces twice meanwhile.
"""

from __future__ import annotations

import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from rag_core.embeddings import create_embedder
from rag_core.index.index import Index
from rag_core.index.shelf import IndexShelf
from rag_core.index import bm25 as bm25_module
from rag_core.index.bm25 import BM25Index
from rag_core.core.types import ChunkingConfig, Document

WORDS = "river mountain island kingdom empire science music painter novel treaty ocean forest".split()
THREADS = 8


def docs(n: int, tag: str = "") -> list[Document]:
    return [Document(f"d{i}{tag}.md", f"S{i}", f"{tag} Passage {i}: " +
                     " ".join(WORDS[(i * 5 + j * 3) % len(WORDS)] for j in range(30)) + ".", 0)
            for i in range(n)]


def run_all(fn, items):
    start = threading.Barrier(THREADS)

    def worker(chunk):
        start.wait()
        return [fn(x) for x in chunk]

    parts = [items[i::THREADS] for i in range(THREADS)]
    with ThreadPoolExecutor(THREADS) as pool:
        results = list(pool.map(worker, parts))
    return {x: r for part, res in zip(parts, results) for x, r in zip(part, res)}


def test_bm25_query_cache_is_safe_under_threads(monkeypatch):
    """A tiny LRU evicts constantly while 8 threads search: no KeyError, same answers as serial."""
    monkeypatch.setattr(bm25_module, "CACHE_SIZE", 4)
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads between almost every bytecode: races show up
    texts = [d.text for d in docs(60)]
    index = BM25Index.build([f"c{i}" for i in range(60)], texts)
    queries = [f"{WORDS[i % len(WORDS)]} {WORDS[(i * 7) % len(WORDS)]}" for i in range(48)] * 20
    serial = {q: index.search(q, 5)[0] for q in set(queries)}
    try:
        got = run_all(lambda q: index.search(q, 5 + (hash(q) % 3))[0][:5], queries)
    finally:
        sys.setswitchinterval(old)
    assert all(got[q] == serial[q] for q in queries)
    assert len(index._cache) <= 4


def test_an_opened_index_builds_its_lazy_bm25_and_lookups_once_under_threads(tmp_path):
    emb = create_embedder("hashing", cached=False)
    built = Index.create(tmp_path / "ix", emb, "numpy", ChunkingConfig(size=2000, overlap=0))
    built.ingest(docs(40))
    built.save()
    shared = Index.open(tmp_path / "ix", embedder=emb)
    seen = run_all(lambda i: (id(shared.bm25), id(shared.lookup("rows")), shared.bm25.search(WORDS[i % 12], 3)[0]),
                   list(range(64)))
    assert len({v[0] for v in seen.values()}) == 1 and len({v[1] for v in seen.values()}) == 1
    fresh = Index.open(tmp_path / "ix", embedder=emb)
    assert all(v[2] == fresh.bm25.search(WORDS[i % 12], 3)[0] for i, v in seen.items())


def test_an_index_replaced_twice_on_disk_still_answers_its_reader(tmp_path):
    """A session opened generation A; another writer saves twice (A's directory is removed).
    The reader's vectors are in memory and its lazy BM25 is built from its own chunks, with a note."""
    emb = create_embedder("hashing", cached=False)
    first = Index.create(tmp_path / "ix", emb, "numpy", ChunkingConfig(size=2000, overlap=0))
    first.ingest(docs(20))
    first.save()
    reader = Index.open(tmp_path / "ix", embedder=emb)
    opened_from = tmp_path / "ix" / reader.base_generation
    for round_ in ("x", "y"):
        writer = Index.open(tmp_path / "ix", embedder=emb)
        writer.ingest(docs(5, tag=round_))
        writer.save()
    assert not opened_from.exists()
    ids, _ = reader.bm25.search("river", 5)
    assert ids and all(cid in reader.lookup("rows") for cid in ids)
    assert any("replaced on disk" in note for note in reader.notes)
    hits = reader.store.search(emb.embed_query("river mountain"), 3)
    assert len(hits) == 3 and reader.store.count() == 20


def test_the_shelf_opens_a_generation_once_and_replaces_the_older_one():
    shelf: IndexShelf[object] = IndexShelf(max_entries=2)
    calls = []

    def slow_open(tag):
        def opened():
            calls.append(tag)
            time.sleep(0.05)
            return object()
        return opened

    got = run_all(lambda i: shelf.get("/ix/a", "gen-1", slow_open("a1")), list(range(16)))
    assert calls == ["a1"] and len({id(v) for v in got.values()}) == 1 and shelf.opens == 1
    old = got[0]
    new = shelf.get("/ix/a", "gen-2", slow_open("a2"))
    assert new is not old and len(shelf) == 1  # the replaced generation is no longer held
    shelf.get("/ix/b", "g", slow_open("b"))
    shelf.get("/ix/c", "g", slow_open("c"))
    assert len(shelf) == 2 and shelf.get("/ix/c", "g", slow_open("c2")) is not None and calls[-1] == "c"
    shelf.drop("/ix/c")
    assert len(shelf) == 1


def test_the_local_embedder_gives_the_same_vectors_from_threads():
    emb = create_embedder("local", cached=False)
    texts = [f"{WORDS[i % 12]} and the {WORDS[(i * 5) % 12]} of question {i}" for i in range(24)]
    serial = {t: emb.embed_query(t) for t in texts}
    got = run_all(emb.embed_query, texts)
    assert all(np.allclose(got[t], serial[t], atol=1e-5) for t in texts)
