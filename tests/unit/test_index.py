import os
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest
from helpers import FACTS, fact_documents, hashing_index

from rag_core.embeddings import create_embedder
from rag_core.core.errors import IndexMismatchError, StoreError
from rag_core.index.index import Index, exists, open_for_ingest, read_manifest
from rag_core.core.types import ChunkingConfig, Document

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("store", ["numpy", "faiss", "faiss-hnsw"])
def test_save_and_open_round_trip(tmp_path, store):
    built = hashing_index(tmp_path / "idx", store=store)
    opened = Index.open(tmp_path / "idx")
    assert opened.manifest == built.manifest
    assert opened.store.count() == built.store.count() > 0
    query = opened.embedder.embed_query("capital of Kenya")
    assert [h.chunk.chunk_id for h in opened.store.search(query, 3)] == [
        h.chunk.chunk_id for h in built.store.search(query, 3)
    ]
    manifest = read_manifest(tmp_path / "idx")
    assert manifest.embedder.startswith("hashing") and manifest.dim == built.embedder.dim
    assert manifest.store == store and set(manifest.sources) == set(FACTS)


def test_opening_with_another_embedder_is_a_clear_error(tmp_path):
    hashing_index(tmp_path / "idx")
    with pytest.raises(IndexMismatchError, match="was built with hashing"):
        Index.open(tmp_path / "idx", embedder=create_embedder("hashing:64"))


def test_missing_index_says_how_to_build_one(tmp_path):
    with pytest.raises(StoreError, match="build one first"):
        Index.open(tmp_path / "nothing")


def test_unchanged_sources_are_skipped_and_changed_ones_replaced(tmp_path):
    index = hashing_index(tmp_path / "idx")
    before = index.store.count()
    changed = dict(FACTS, **{"kenya.md": "Mombasa is a coastal city of Kenya on the Indian Ocean, an old port."})
    result = index.ingest(fact_documents(changed))
    assert result.replaced == ("kenya.md",)
    assert set(result.unchanged) == set(FACTS) - {"kenya.md"}
    assert result.added == ()
    texts = " ".join(c.text for c in index.store.chunks() if c.source == "kenya.md")
    assert "Mombasa" in texts and "Nairobi" not in texts
    assert index.store.count() == before  # one chunk out, one chunk in


def test_adding_files_to_an_existing_index(tmp_path):
    hashing_index(tmp_path / "idx")
    index = open_for_ingest(tmp_path / "idx")
    result = index.ingest([Document("new.txt", "new", "Canberra is the capital city of Australia, inland.")])
    index.save()
    assert result.added == ("new.txt",)
    assert len(read_manifest(tmp_path / "idx").sources) == len(FACTS) + 1


def test_open_for_ingest_refuses_contradicting_settings(tmp_path):
    hashing_index(tmp_path / "idx")
    with pytest.raises(IndexMismatchError, match="chunking"):
        open_for_ingest(tmp_path / "idx", chunking=ChunkingConfig(size=999, overlap=0))
    with pytest.raises(IndexMismatchError, match="store"):
        open_for_ingest(tmp_path / "idx", store_name="faiss")


def test_save_keeps_the_live_generation_and_the_one_before(tmp_path):
    index = hashing_index(tmp_path / "idx")
    index.save()
    index.save()
    generations = sorted(p.name for p in (tmp_path / "idx").iterdir() if p.name.startswith(("gen-", ".tmp-")))
    assert len(generations) == 2
    assert (tmp_path / "idx" / "CURRENT").read_text().strip() in generations


WRITER = """
import sys
from rag_core.embeddings import create_embedder
from rag_core.index.index import Index
from rag_core.core.types import Document
directory = sys.argv[1]
index = Index.open(directory)
i = 0
print("ready", flush=True)
while True:
    i += 1
    docs = [Document(f"file{i}-{j}.txt", "s", f"document {i} {j} " + "lorem ipsum dolor " * 200) for j in range(20)]
    index.ingest(docs)
    index.save()
"""


def test_kill_9_during_ingest_leaves_a_loadable_index(tmp_path):
    directory = tmp_path / "idx"
    hashing_index(directory)
    for delay in (0.3, 0.55, 0.8, 1.1):
        proc = subprocess.Popen([sys.executable, "-c", WRITER, str(directory)], cwd=ROOT,
                                stdout=subprocess.PIPE, env=dict(os.environ))
        assert proc.stdout.readline().strip() == b"ready"
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        index = Index.open(directory)  # never half-written
        assert index.store.count() == index.manifest.n_chunks
        assert {c.source for c in index.store.chunks()} == set(index.manifest.sources)
    assert exists(directory)


def test_manifest_records_chunking_and_fingerprint_changes(tmp_path):
    index = hashing_index(tmp_path / "idx")
    first = index.manifest.fingerprint
    index.ingest([Document("more.txt", "x", "Lima is the capital of Peru, on the Pacific coast.")])
    assert index.manifest.fingerprint != first
    assert replace(index.manifest, fingerprint=first) != index.manifest


def test_a_second_writer_never_silently_overwrites_the_first(tmp_path):
    hashing_index(tmp_path / "idx")
    first = Index.open(tmp_path / "idx")
    second = Index.open(tmp_path / "idx")
    first.ingest([Document("a.txt", "a", "Ottawa is the capital city of Canada, on the Ottawa River.")])
    first.save()
    second.ingest([Document("b.txt", "b", "Canberra is the capital city of Australia, planned in 1913.")])
    with pytest.raises(StoreError, match="another writer"):
        second.save()
    survivor = Index.open(tmp_path / "idx")
    assert "a.txt" in survivor.manifest.sources and "b.txt" not in survivor.manifest.sources
    assert survivor.store.count() == survivor.manifest.n_chunks


def test_a_reader_of_the_previous_generation_can_still_load_it(tmp_path):
    index = hashing_index(tmp_path / "idx")
    old = (tmp_path / "idx" / "CURRENT").read_text().strip()
    index.ingest([Document("c.txt", "c", "Lima is the capital of Peru, founded in 1535 by Pizarro.")])
    index.save()
    assert (tmp_path / "idx" / old / "manifest.json").exists()  # kept one save longer
    index.save()
    assert not (tmp_path / "idx" / old).exists()


def test_creating_an_index_that_someone_else_just_created_is_refused(tmp_path):
    racer = Index.create(tmp_path / "idx", create_embedder("hashing"), "numpy")
    hashing_index(tmp_path / "idx")
    racer.ingest(fact_documents())
    with pytest.raises(StoreError, match="another writer"):
        racer.save()
