"""A corpus with no word BM25 can match still ingests; hybrid then says BM25 matched nothing and
ranks by dense alone (issue 16, item 12: bm25s failed with "max() arg is an empty sequence")."""

from __future__ import annotations

import pytest
from helpers import hashing_index, run_cli

from rag_core.retrieval import Retriever
from rag_core.index.bm25 import BM25Index
from rag_core.retrieval.modes import BM25_NOTHING
from rag_core.core.types import ChunkingConfig, Document, RetrievalSettings

NO_WORDS = {"stop.md": "the of and to is a in it " * 8, "emoji.md": "😀 🎉 !!! ... ??? 💥 " * 8,
            "punct.md": "--- *** ;;; ,,, ((( ))) " * 8}


def test_build_save_and_load_with_no_terms(tmp_path):
    index = BM25Index.build(["a", "b"], ["the of and", "😀 !!!"])
    assert not index.has_terms and index.search("the party", 3) == ([], pytest.approx([]))
    index.save(tmp_path / "bm25")
    loaded = BM25Index.load(tmp_path / "bm25")
    assert not loaded.has_terms and len(loaded) == 2


@pytest.mark.parametrize("chunking", [ChunkingConfig(size=300, overlap=30),
                                      ChunkingConfig(strategy="chars", size=1, overlap=0)])
def test_hybrid_over_such_an_index_says_dense_alone(tmp_path, chunking):
    docs = [Document(source=name, section=name, text=text) for name, text in NO_WORDS.items()]
    index = hashing_index(tmp_path / "idx", documents=docs, chunking=chunking)
    hits = Retriever(index).retrieve("the party", RetrievalSettings(mode="hybrid", top_k=3)).hits
    assert hits and all(BM25_NOTHING in h.score_kind for h in hits)
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


def test_cli_ingests_a_corpus_of_stopwords_emoji_and_punctuation(tmp_path):
    folder = tmp_path / "docs"
    folder.mkdir()
    for name, text in NO_WORDS.items():
        (folder / name).write_text(text)
    for flags in ([], ["--strategy", "chars", "--chunk-size", "1", "--chunk-overlap", "0"]):
        target = tmp_path / f"idx{len(flags)}"
        result = run_cli("ingest", str(folder), "--index", str(target), "--embedder", "hashing",
                         "--min-words", "0", "--min-chars", "0", *flags, check=False)
        assert result.returncode == 0, result.stderr[-600:]
        query = run_cli("query", "--index", str(target), "the party", check=False)
        assert query.returncode == 0 and BM25_NOTHING in query.stdout, query.stderr[-600:]
