"""A full disk while saving an index or writing the embedding cache (issue 9, hostile item 9).

No tmpfs here, so the disk is simulated: every file the index writes goes through a fake
`open` whose writes fail with ENOSPC once a byte budget is spent (a disk with that much free),
and faiss's own C writer, used by path, fails as it does on a full disk. The embedding cache
gets a real SQLITE_FULL from sqlite's `max_page_count`.
"""

from __future__ import annotations

import builtins
import errno
import logging
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import FACTS, fact_documents, hashing_index

from rag_core import cli
from rag_core.core.errors import StoreError
from rag_core.index.index import Index, open_for_ingest
from rag_core.core.types import Document

ROOT = Path(__file__).resolve().parents[2]
STORES = ["numpy", "faiss", "faiss-hnsw"]


class _TinyDisk:
    """Writes to files under `root` fail with ENOSPC once `free` bytes have been written."""

    def __init__(self, root: Path, free: int, spare: tuple[str, ...] = ()) -> None:
        self.root, self.free, self.spare = str(root), free, spare

    def open(self, file, mode="r", *args, **kwargs):
        handle = builtins.open(file, mode, *args, **kwargs)
        if not any(c in mode for c in "wax") or not str(file).startswith(self.root) or Path(file).name in self.spare:
            return handle
        disk = self

        def write(data):
            if len(data) > disk.free:
                disk.free = 0
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            disk.free -= len(data)
            return handle.write(data)

        return _Proxy(handle, write)


class _Proxy:
    def __init__(self, handle, write) -> None:
        self._handle, self.write = handle, write

    def __getattr__(self, name):
        return getattr(self._handle, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._handle.close()


def _full_disk(monkeypatch, root: Path, free: int = 100, fills_at: str = "chunks") -> None:
    """`fills_at="vectors"`: the chunks file still fits, the disk fills with the vectors."""
    disk = _TinyDisk(root, free, spare=("chunks.jsonl",) if fills_at == "vectors" else ())
    import faiss

    from rag_core.stores import numpy_store

    real_write_index = faiss.write_index

    def write_index(index, target, *args):
        if isinstance(target, str):  # faiss's C writer: fails at fwrite/fclose on a full disk
            raise RuntimeError(f"Error in faiss::FileIOWriter: write error in {target}: No space left on device")
        return real_write_index(index, target, *args)

    monkeypatch.setattr(faiss, "write_index", write_index)
    monkeypatch.setattr(numpy_store, "open", disk.open, raising=False)
    from rag_core.core import files

    monkeypatch.setattr(files, "open", disk.open, raising=False)


def _staging(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.startswith((".tmp-", ".CURRENT.")))


@pytest.mark.parametrize("fills_at", ["chunks", "vectors"])
@pytest.mark.parametrize("store", STORES)
def test_a_full_disk_is_a_clear_error_and_leaves_nothing_behind(tmp_path, monkeypatch, store, fills_at):
    directory = tmp_path / "idx"
    hashing_index(directory, store=store)
    before = (directory / "CURRENT").read_text()
    index = open_for_ingest(directory)
    index.ingest([Document("new.txt", "new", "Canberra is the capital city of Australia. " * 40)])
    _full_disk(monkeypatch, tmp_path, fills_at=fills_at)
    with pytest.raises(StoreError) as caught:
        index.save()
    monkeypatch.undo()
    message = str(caught.value)
    assert "full" in message and str(directory) in message and "free some space" in message
    assert _staging(directory) == []  # the staging folder does not keep the disk full
    assert (directory / "CURRENT").read_text() == before
    reopened = Index.open(directory)
    assert set(reopened.manifest.sources) == set(FACTS) and reopened.store.count() == reopened.manifest.n_chunks


def test_a_full_disk_is_a_known_disk_full_error(tmp_path, monkeypatch):
    from rag_core.core.errors import DiskFullError

    index = hashing_index(tmp_path / "idx", store="faiss")
    _full_disk(monkeypatch, tmp_path, fills_at="vectors")
    with pytest.raises(DiskFullError):
        index.save()


@pytest.mark.parametrize("store", ["numpy", "faiss"])
def test_cli_ingest_on_a_full_disk_exits_2_with_one_line(tmp_path, monkeypatch, capsys, store):
    docs = tmp_path / "docs"
    docs.mkdir()
    for name, text in FACTS.items():
        (docs / name).write_text(text)
    index = tmp_path / "idx"
    _full_disk(monkeypatch, index.parent, free=10, fills_at="vectors")
    code = cli.main(["ingest", str(docs), "--index", str(index), "--embedder", "hashing", "--store", store, "--quiet"])
    monkeypatch.undo()
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert code == 2, err
    assert len(err) == 1 and err[0].startswith("error: the disk holding") and "full" in err[0]
    assert not index.exists() or _staging(index) == []


def test_staging_of_a_dead_writer_is_removed_at_the_next_write(tmp_path):
    directory = tmp_path / "idx"
    index = hashing_index(directory)
    dead = directory / ".tmp-deadbeef"  # a writer killed mid-save, a minute ago
    (dead / "sub").mkdir(parents=True)
    (dead / "chunks.jsonl").write_bytes(b"x" * 1000)
    (directory / ".CURRENT.0badf00d").write_text("gen-1-ab\n")
    index.save()
    assert _staging(directory) == []


HOLDER = """
import sys, time
from pathlib import Path
from rag_core.index.index import _new_staging
staging, held = _new_staging(Path(sys.argv[1]))
print(staging.name, flush=True)
time.sleep(600)
"""


def test_a_live_writers_staging_is_kept_and_removed_once_it_is_killed(tmp_path):
    directory = tmp_path / "idx"
    index = hashing_index(directory)
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(directory)], cwd=ROOT, stdout=subprocess.PIPE,
                            env=dict(os.environ))
    try:
        name = proc.stdout.readline().decode().strip()
        assert name.startswith(".tmp-")
        index.save()
        assert (directory / name).is_dir()  # a live writer's work is never touched
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    index.save()
    assert not (directory / name).exists()  # dead now: its leftovers go at the next write
    assert _staging(directory) == []


WRITER = """
import sys
from rag_core.index.index import Index
from rag_core.core.types import Document
index = Index.open(sys.argv[1])
print("ready", flush=True)
i = 0
while True:
    i += 1
    index.ingest([Document(f"f{i}-{j}.txt", "s", f"doc {i} {j} " + "lorem ipsum " * 300) for j in range(20)])
    index.save()
"""


def test_kill_9_mid_save_leaves_no_staging_after_the_next_write(tmp_path):
    directory = tmp_path / "idx"
    hashing_index(directory, store="faiss")
    for delay in (0.2, 0.5, 0.9):
        proc = subprocess.Popen([sys.executable, "-c", WRITER, str(directory)], cwd=ROOT, stdout=subprocess.PIPE,
                                env=dict(os.environ))
        assert proc.stdout.readline().strip() == b"ready"
        try:
            proc.wait(timeout=delay)
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
        index = open_for_ingest(directory)
        index.save()
        assert _staging(directory) == []


# ---- the embedding cache ---------------------------------------------------------------


def _fill_up(cache) -> None:
    """sqlite's own limit on the file's pages: the next write gets a real SQLITE_FULL."""
    db = cache._db()
    pages = db.execute("PRAGMA page_count").fetchone()[0]
    db.execute(f"PRAGMA max_page_count={max(pages, 2)}")


def test_a_full_cache_disk_warns_once_and_keeps_embedding(tmp_path):
    from rag_core.embeddings import create_embedder

    cached = create_embedder("hashing", cache_dir=tmp_path / "cache")
    uncached = create_embedder("hashing", cached=False)
    warnings: list[str] = []
    cached.on_warning = warnings.append
    cached.embed_documents(["warm up"])
    _fill_up(cached)
    for round_ in range(3):
        texts = [f"text {round_} {i} " * 40 for i in range(600)]
        assert (cached.embed_documents(texts) == uncached.embed_documents(texts)).all()
    assert len(warnings) == 1 and "full" in warnings[0] and "continuing without it" in warnings[0]


def test_cli_ingest_with_a_full_cache_disk_succeeds_with_a_warning(tmp_path, monkeypatch, capsys, caplog):
    from rag_core.embeddings.cache import CachedEmbedder

    real_db = CachedEmbedder._db

    def full_db(self):
        db = real_db(self)
        pages = db.execute("PRAGMA page_count").fetchone()[0]
        db.execute(f"PRAGMA max_page_count={max(pages, 2)}")
        return db

    monkeypatch.setattr(CachedEmbedder, "_db", full_db)
    docs = tmp_path / "docs"
    docs.mkdir()
    for name, text in FACTS.items():
        (docs / name).write_text(text * 20)
    with caplog.at_level(logging.WARNING):
        code = cli.main(["ingest", str(docs), "--index", str(tmp_path / "idx"), "--embedder", "hashing", "--quiet"])
    assert code == 0, capsys.readouterr().err
    assert [r.getMessage() for r in caplog.records if "embedding cache" in r.getMessage()][:1]
    assert Index.open(tmp_path / "idx").manifest.n_chunks > 0


def test_nan_vectors_are_never_cached(tmp_path):
    import numpy as np

    from rag_core.embeddings.cache import CachedEmbedder

    class Broken:
        name, dim = "broken", 8

        def embed_documents(self, texts):
            return np.full((len(texts), 8), np.nan, dtype=np.float32)

        def embed_query(self, text):
            return np.zeros(8, dtype=np.float32)

        def count_tokens(self, texts):
            return 0

    cached = CachedEmbedder(Broken(), cache_dir=tmp_path)
    cached.embed_documents(["a", "b"])
    cached.embed_documents(["a", "b"])
    assert cached.stats.hits == 0 and cached.stats.misses == 4


def test_any_faiss_write_failure_is_a_store_error_and_cleaned(tmp_path, monkeypatch):
    """Not only a full disk: whatever faiss raises while writing ends as a StoreError, staging removed."""
    import faiss

    directory = tmp_path / "idx"
    index = hashing_index(directory, store="faiss-hnsw")
    before = (directory / "CURRENT").read_text()

    def broken(*args):
        raise RuntimeError("Error in faiss::write_index: something inside faiss failed")

    monkeypatch.setattr(faiss, "write_index", broken)
    with pytest.raises(StoreError, match="faiss could not write"):
        index.save()
    assert _staging(directory) == [] and (directory / "CURRENT").read_text() == before
