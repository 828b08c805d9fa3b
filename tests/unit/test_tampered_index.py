"""A tampered index is a clear StoreError (CLI: exit 2, one line), never exit 1, a hang, a huge
allocation or silently accepted garbage (issue 9, hostile item 11)."""

from __future__ import annotations

import json
import os
import struct

import numpy as np
import pytest
from helpers import FACTS, fact_documents, hashing_index

from rag_core import cli
from rag_core.core.errors import ProviderError, StoreError
from rag_core.index.index import Index, read_manifest
from rag_core.core.types import Document

STORES = ["numpy", "faiss", "faiss-hnsw"]


def _generation(directory):
    return directory / (directory / "CURRENT").read_text().strip()


def _refused(directory, capsys, match: str | None = None) -> None:
    """Index.open and the CLI's query and info all refuse it with one clear line."""
    with pytest.raises(StoreError, match=match):
        Index.open(directory)
    for argv in (["query", "--index", str(directory), "capital of Kenya", "--quiet"],
                 ["info", "--index", str(directory)]):
        code = cli.main(argv)
        err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
        if code == 0 and argv[0] == "info":
            continue  # info reads the manifest only: damage to the store shows at query time
        assert code == 2, (argv, err)
        assert len(err) == 1 and err[0].startswith("error: ") and "unexpected" not in err[0], err


@pytest.fixture(params=STORES)
def built(request, tmp_path):
    directory = tmp_path / "idx"
    hashing_index(directory, store=request.param)
    return directory, request.param


# ---- CURRENT and the manifest ------------------------------------------------------------


@pytest.mark.parametrize("content", [b"\x00\xff\xfe\x89PNG" * 20, b"../../../etc\n", b"gen-1-ab/../../x\n",
                                     b"gen-" + b"1" * 5_000_000 + b"-ab\n", b""],
                         ids=["binary", "parent-path", "traversal", "5MB-line", "empty"])
def test_a_garbage_current_file_is_refused(tmp_path, capsys, content):
    directory = tmp_path / "idx"
    hashing_index(directory)
    (directory / "CURRENT").write_bytes(content)
    _refused(directory, capsys, "CURRENT|generation")


def test_a_current_file_that_is_a_symlink_is_refused(tmp_path, capsys):
    directory = tmp_path / "idx"
    hashing_index(directory)
    outside = tmp_path / "elsewhere"
    outside.write_text((directory / "CURRENT").read_text())
    (directory / "CURRENT").unlink()
    (directory / "CURRENT").symlink_to(outside)
    _refused(directory, capsys, "symbolic link")


def test_a_generation_that_is_a_symlink_is_refused(tmp_path, capsys):
    directory = tmp_path / "idx"
    hashing_index(directory)
    generation = _generation(directory)
    moved = tmp_path / "moved"
    generation.rename(moved)
    generation.symlink_to(moved, target_is_directory=True)
    _refused(directory, capsys, "generation")


def test_a_deeply_nested_manifest_is_refused(tmp_path, capsys):
    directory = tmp_path / "idx"
    hashing_index(directory)
    (_generation(directory) / "manifest.json").write_text("[" * 200_000 + "]" * 200_000)
    _refused(directory, capsys, "manifest")
    with pytest.raises(StoreError):
        read_manifest(directory)


def _mutate_manifest(raw: dict, change: str) -> dict:
    if change.startswith("chunking."):
        field = change.split(".")[1]
        raw["chunking"][field] = "x" if field == "size" else 5
        return raw
    key, value = {
        "dim-text": ("dim", "256"), "dim-bool": ("dim", True), "dim-huge": ("dim", 10**12),
        "n_chunks-negative": ("n_chunks", -1), "n_chunks-float": ("n_chunks", 3.5),
        "sources-list": ("sources", ["a"]), "sources-values": ("sources", {"a.md": 5}),
        "embedder-number": ("embedder", 5), "store-null": ("store", None), "chunking-list": ("chunking", [1]),
    }[change]
    raw[key] = value
    return raw


@pytest.mark.parametrize("change", ["dim-text", "dim-bool", "dim-huge", "n_chunks-negative", "n_chunks-float",
                                    "sources-list", "sources-values", "embedder-number", "store-null",
                                    "chunking-list", "chunking.size", "chunking.strategy"])
def test_manifest_fields_of_the_wrong_type_are_refused(tmp_path, capsys, change):
    directory = tmp_path / "idx"
    hashing_index(directory)
    path = _generation(directory) / "manifest.json"
    raw = json.loads(path.read_text())
    raw["chunking"] = dict(raw["chunking"])
    path.write_text(json.dumps(_mutate_manifest(raw, change)))
    with pytest.raises(StoreError, match="manifest"):
        read_manifest(directory)
    _refused(directory, capsys)


def test_a_huge_manifest_is_refused_without_reading_it(tmp_path, monkeypatch):
    from rag_core.index import index as index_module

    directory = tmp_path / "idx"
    hashing_index(directory)
    monkeypatch.setattr(index_module, "MANIFEST_MAX_BYTES", 100)
    with pytest.raises(StoreError, match="more than the 100"):
        read_manifest(directory)


# ---- the chunks file ---------------------------------------------------------------------


def test_a_symlinked_chunks_file_is_refused(built, tmp_path, capsys):
    directory, _ = built
    chunks = _generation(directory) / "chunks.jsonl"
    copy = tmp_path / "outside.jsonl"
    copy.write_bytes(chunks.read_bytes())
    chunks.unlink()
    chunks.symlink_to(copy)
    _refused(directory, capsys, "symbolic link")


def test_a_fifo_chunks_file_is_refused_without_hanging(built, capsys):
    directory, _ = built
    chunks = _generation(directory) / "chunks.jsonl"
    chunks.unlink()
    os.mkfifo(chunks)
    _refused(directory, capsys, "not a regular file")


@pytest.mark.parametrize("line", ['{"source": "a", "section": "s", "text": 5, "start": 0, "end": 1, "doc_id": "d"}',
                                  '{"source": "a", "section": "s", "text": "t", "start": "0", "end": 1, "doc_id": "d"}',
                                  '{"source": "a", "section": "s", "text": "t", "start": 3, "end": 1, "doc_id": "d"}',
                                  '{"source": "a", "section": "s", "text": "t", "start": true, "end": 1, "doc_id": "d"}',
                                  '{"source": "a", "text": "t", "start": 0, "end": 1, "doc_id": "d"}',
                                  '["a", "s", "t", 0, 1, "d"]', "[" * 100_000 + "]" * 100_000, "\x00garbage"],
                         ids=["text-number", "start-text", "start-after-end", "start-bool", "missing-field", "list",
                              "nested", "garbage"])
def test_chunk_rows_of_the_wrong_shape_are_refused(built, capsys, line):
    directory, _ = built
    chunks = _generation(directory) / "chunks.jsonl"
    rows = chunks.read_text().splitlines()
    chunks.write_text("\n".join([line, *rows[1:]]) + "\n")
    _refused(directory, capsys, "chunks.jsonl")


# ---- the vectors -------------------------------------------------------------------------


def _npy(shape, payload: bytes) -> bytes:
    from numpy.lib import format as npy
    import io

    out = io.BytesIO()
    npy.write_array_header_1_0(out, {"descr": "<f4", "fortran_order": False, "shape": shape})
    return out.getvalue() + payload


@pytest.mark.parametrize("shape", [(2**40, 256), (4, 2**40), "rows-match"])
def test_a_vectors_header_claiming_terabytes_is_refused_before_allocating(tmp_path, capsys, shape):
    directory = tmp_path / "idx"
    index = hashing_index(directory)
    rows = index.store.count()
    vectors = _generation(directory) / "vectors.npy"
    shape = (rows, 2**36) if shape == "rows-match" else shape
    vectors.write_bytes(_npy(shape, b"\x00" * 64))
    _refused(directory, capsys, "vectors.npy")


def test_a_truncated_vectors_file_is_refused(tmp_path, capsys):
    directory = tmp_path / "idx"
    index = hashing_index(directory)
    vectors = _generation(directory) / "vectors.npy"
    vectors.write_bytes(vectors.read_bytes()[:-4])
    assert index.store.count()
    _refused(directory, capsys, "does not match its size")


@pytest.mark.parametrize("kind", ["faiss", "faiss-hnsw"])
@pytest.mark.parametrize("claim", ["ntotal", "floats"])
def test_a_faiss_header_claiming_terabytes_is_refused_before_allocating(tmp_path, capsys, kind, claim):
    directory = tmp_path / "idx"
    hashing_index(directory, store=kind)
    path = _generation(directory) / "index.faiss"
    data = bytearray(path.read_bytes())
    flat = data.rfind(b"IxFI")  # the vectors: a flat index, alone or as the HNSW's storage
    if claim == "ntotal":
        struct.pack_into("<q", data, 8, 2**38)  # the outer header's vector count
    else:
        struct.pack_into("<Q", data, flat + 4 + 33, 2**38)  # the float count before the vectors: 1 TB
    path.write_bytes(bytes(data))
    _refused(directory, capsys, "index.faiss")


def test_a_faiss_graph_edge_past_the_vectors_is_refused(tmp_path, capsys):
    import faiss

    directory = tmp_path / "idx"
    hashing_index(directory, store="faiss-hnsw")
    path = _generation(directory) / "index.faiss"
    index = faiss.read_index(str(path))
    neighbors = faiss.vector_to_array(index.hnsw.neighbors)
    neighbors[0] = 10**6
    faiss.copy_array_to_vector(neighbors, index.hnsw.neighbors)
    faiss.write_index(index, str(path))
    _refused(directory, capsys, "graph")


def _poison(directory, store: str) -> None:
    """Rewrite the saved vectors with one NaN row, in the store's own format."""
    import faiss

    generation = _generation(directory)
    if store == "numpy":
        matrix = np.load(generation / "vectors.npy")
        matrix[1, 3] = np.nan
        np.save(generation / "vectors.npy", matrix)
        return
    index = faiss.read_index(str(generation / "index.faiss"))
    vectors = index.reconstruct_n(0, index.ntotal)
    vectors[1, 3] = np.inf
    fresh = faiss.IndexFlatIP(vectors.shape[1]) if store == "faiss" else faiss.IndexHNSWFlat(
        vectors.shape[1], 32, faiss.METRIC_INNER_PRODUCT)
    fresh.add(vectors)
    faiss.write_index(fresh, str(generation / "index.faiss"))


def test_nan_vectors_on_disk_are_refused(built, capsys):
    directory, store = built
    _poison(directory, store)
    _refused(directory, capsys, "NaN")


# ---- NaN vectors from an embedder --------------------------------------------------------


class _NaNForPoison:
    """A hashing embedder whose vector is NaN for any text mentioning 'poison' (like a broken
    compatible server)."""

    def __init__(self) -> None:
        from rag_core.embeddings import create_embedder

        self.inner = create_embedder("hashing", cached=False)
        self.name, self.dim = self.inner.name, self.inner.dim

    def embed_documents(self, texts):
        out = np.asarray(self.inner.embed_documents(texts), dtype=np.float32)
        out[["poison" in t for t in texts]] = np.nan
        return out

    def embed_query(self, text):
        return self.inner.embed_query(text)

    def count_tokens(self, texts):
        return self.inner.count_tokens(texts)


@pytest.mark.parametrize("store", STORES)
def test_ingest_refuses_nan_vectors_and_saves_nothing(tmp_path, store):
    directory = tmp_path / "idx"
    hashing_index(directory, store=store)
    index = Index.open(directory, embedder=_NaNForPoison())
    with pytest.raises(ProviderError, match="NaN or infinite.*bad.txt"):
        index.ingest([Document("bad.txt", "b", "poison: this text makes the server return NaN values.")])
    reopened = Index.open(directory)
    assert set(reopened.manifest.sources) == set(FACTS)
    assert np.isfinite(reopened.store.vectors()).all()


def test_a_clean_index_still_loads_and_answers(built):
    directory, _ = built
    index = Index.open(directory)
    hits = index.store.search(index.embedder.embed_query("capital of Kenya"), 2)
    assert hits and hits[0].chunk.source == "kenya.md"
    assert len(fact_documents()) == len(index.manifest.sources)


@pytest.mark.parametrize("field", ["source", "section"])
def test_escape_codes_in_a_stored_source_or_section_are_refused(built, capsys, field):
    """A tampered chunks file put `\\x1b[31m` in a source: query printed it raw to the terminal."""
    directory, _ = built
    chunks = _generation(directory) / "chunks.jsonl"
    rows = chunks.read_text().splitlines()
    row = json.loads(rows[0])
    row[field] = "a\x00b\x1b[31mred"
    chunks.write_text("\n".join([json.dumps(row), *rows[1:]]) + "\n")
    _refused(directory, capsys, "chunks.jsonl")
    assert "\x1b" not in capsys.readouterr().err


def test_escape_codes_in_a_document_never_reach_the_terminal(tmp_path, capsys):
    """The extractive answer quotes document text: an escape sequence in it is shown escaped."""
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "colours.txt").write_text("The capital of Kenya is Nairobi \x1b[31mred text\x1b[0m, a large city.\n" * 3)
    index = str(tmp_path / "idx")
    assert cli.main(["ingest", str(docs), "--index", index, "--embedder", "hashing", "--quiet"]) == 0
    capsys.readouterr()
    assert cli.main(["query", "What is the capital of Kenya?", "--index", index]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "Nairobi" in out
