"""Whole-index BM25: same ranking as a reference implementation, bounded queries, save/load."""

from __future__ import annotations

import math

import numpy as np
import pytest
from rank_bm25 import BM25Okapi

from rag_core.core.errors import ConfigError, StoreError
from rag_core.index.bm25 import MAX_QUERY_TERMS, BM25Index, BM25Params, Tokenizer

CORPUS = [
    "The Amazon river flows through the rainforest of Brazil and Peru.",
    "Photosynthesis lets plants turn sunlight into chemical energy.",
    "Nairobi is the capital and largest city of Kenya.",
    "The Nile is a long river in north-eastern Africa, flowing into the Mediterranean.",
    "Plants need water, sunlight and carbon dioxide to grow.",
    "Kenya borders Tanzania, Uganda and Ethiopia; its capital is Nairobi.",
    "Mount Kilimanjaro is the highest mountain in Africa, in Tanzania.",
    "Rivers carry sediment from mountains down to the sea.",
    "The painter used bright colours and short brush strokes.",
    "Chemical reactions release or absorb energy.",
]
QUERIES = ["river Africa", "capital of Kenya", "plants sunlight energy", "highest mountains",
           "painting colours", "rivers flowing sea", "chemical energy reactions"]
IDS = [f"c{i}" for i in range(len(CORPUS))]


def lucene_scores(tokens: list[list[str]], query: list[str], k1: float = 1.5, b: float = 0.75) -> np.ndarray:
    """BM25 written out by hand, Lucene variant: IDF log(1 + (N - df + 0.5) / (df + 0.5)), and no
    (k1 + 1) factor in the numerator (a constant that changes no ranking)."""
    n = len(tokens)
    avgdl = sum(len(t) for t in tokens) / n
    out = np.zeros(n)
    for term in set(query):
        df = sum(term in t for t in tokens)
        if not df:
            continue
        idf = math.log(1 + (n - df + 0.5) / (df + 0.5))
        for i, doc in enumerate(tokens):
            tf = doc.count(term)
            out[i] += idf * tf / (tf + k1 * (1 - b + b * len(doc) / avgdl))
    return out


def ranking(scores: np.ndarray) -> list[int]:
    return sorted((i for i in range(len(scores)) if scores[i] > 0), key=lambda i: (-scores[i], i))


@pytest.mark.parametrize("query", QUERIES)
def test_scores_and_ranking_match_the_hand_written_formula(query):
    index = BM25Index.build(IDS, CORPUS)
    tokens = Tokenizer().many(CORPUS)
    expected = lucene_scores(tokens, index.query_terms(query))
    assert np.allclose(index.scores(query), expected, rtol=1e-5, atol=1e-6)
    ids, scores = index.search(query, k=len(CORPUS))
    assert ids == [IDS[i] for i in ranking(expected)]
    assert list(scores) == sorted(scores, reverse=True)


@pytest.mark.parametrize("query", QUERIES)
def test_ranking_matches_rank_bm25_okapi(query):
    """rank-bm25's BM25Okapi uses Robertson's IDF; with the same tokens and method the order is equal
    (every query term here is in fewer than half the documents, so no IDF is floored)."""
    tokens = Tokenizer().many(CORPUS)
    index = BM25Index.build(IDS, CORPUS, BM25Params(k1=1.5, b=0.75, method="robertson"))
    terms = index.query_terms(query)
    assert all(sum(t in doc for doc in tokens) < len(CORPUS) / 2 for t in terms)
    reference = BM25Okapi(tokens, k1=1.5, b=0.75).get_scores(terms)
    ids, _ = index.search(query, k=len(CORPUS))
    assert ids == [IDS[i] for i in ranking(reference)]


def test_stemming_and_stopwords_apply_to_chunks_and_queries():
    tokenize = Tokenizer()
    assert tokenize("The rivers were flowing") == ["river", "flow"]
    index = BM25Index.build(IDS, CORPUS)
    ids, _ = index.search("What flows through rainforests?", k=3)
    assert ids[0] == "c0"
    assert index.search("the of and", k=3) == ([], pytest.approx(np.array([], dtype=np.float32)))


def test_search_is_within_k_sorted_unique_and_respects_a_filter():
    index = BM25Index.build(IDS, CORPUS)
    ids, scores = index.search("river Africa capital Kenya plants", k=3)
    assert len(ids) == 3 == len(set(ids)) and list(scores) == sorted(scores, reverse=True)
    allowed = np.array([i % 2 == 1 for i in range(len(IDS))])
    ids, _ = index.search("river Africa capital Kenya plants", k=10, allowed=allowed)
    assert ids and all(int(i[1:]) % 2 == 1 for i in ids)
    with pytest.raises(ConfigError):
        index.search("river", k=0)


def test_query_length_is_bounded():
    index = BM25Index.build(IDS, CORPUS)
    long_query = " ".join(f"word{i}" for i in range(10_000))
    assert len(index.query_terms(long_query)) == MAX_QUERY_TERMS
    assert index.search("river " * 100_000, k=2)[0]  # cut to MAX_QUERY_CHARS, still answers


def test_save_load_roundtrip(tmp_path):
    index = BM25Index.build(IDS, CORPUS)
    index.save(tmp_path / "bm25")
    loaded = BM25Index.load(tmp_path / "bm25")
    assert loaded.ids == index.ids and loaded.params == index.params
    for query in QUERIES:
        assert loaded.search(query, 5)[0] == index.search(query, 5)[0]


def test_load_rejects_a_damaged_or_missing_index(tmp_path):
    with pytest.raises(StoreError, match="rebuild"):
        BM25Index.load(tmp_path / "nothing")
    index = BM25Index.build(IDS, CORPUS)
    index.save(tmp_path / "bm25")
    (tmp_path / "bm25" / "ids.json").write_text('{"format": "rag-core-bm25/1", "params": {}, "ids": ["a"]}')
    with pytest.raises(StoreError, match="1 ids"):
        BM25Index.load(tmp_path / "bm25")


def test_empty_index_and_rebuild_after_removal(tmp_path):
    empty = BM25Index.build([], [])
    assert empty.search("river", 3)[0] == []
    empty.save(tmp_path / "e")
    assert len(BM25Index.load(tmp_path / "e")) == 0
    # incremental ingest = rebuild from the remaining chunks: removed ids never come back
    kept = [i for i in range(len(CORPUS)) if i != 3]
    rebuilt = BM25Index.build([IDS[i] for i in kept], [CORPUS[i] for i in kept])
    ids, _ = rebuilt.search("Nile Mediterranean", 5)
    assert "c3" not in ids and len(rebuilt) == len(CORPUS) - 1


def test_build_rejects_misaligned_or_duplicate_ids():
    with pytest.raises(ConfigError, match="one id per text"):
        BM25Index.build(["a"], ["x", "y"])
    with pytest.raises(ConfigError, match="unique"):
        BM25Index.build(["a", "a"], ["x", "y"])


# ---- scale: BM25 search is matrix work, not a Python loop over chunks ---------------------------

def test_search_is_faster_than_one_python_step_per_chunk():
    """A per-chunk Python loop (even one dict lookup per chunk) is the floor for rank-bm25-style
    scoring; whole-index search must beat it at 5k chunks (best of 5 each, same run)."""
    import time

    n = 5_000
    vocab = [f"w{i}" for i in range(2000)]
    texts = [" ".join(vocab[(i * 7 + j * 13) % 2000] for j in range(30)) for i in range(n)]
    index = BM25Index.build([str(i) for i in range(n)], texts)
    term_counts = [dict.fromkeys(t.split(), 1) for t in texts]

    def best(fn) -> float:
        times = []
        for _ in range(5):
            t0 = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t0)
        return min(times)

    search = best(lambda: index.search("w1 w2 w3", 100))
    loop = best(lambda: [tc.get("w1", 0) + tc.get("w2", 0) + tc.get("w3", 0) for tc in term_counts])
    assert search < loop, (search, loop)


def test_from_chunks_uses_chunk_ids_and_optional_headers():
    from rag_core.core.types import Chunk

    chunks = [Chunk(f"https://en.wikipedia.org/wiki/{t}", t, text, 0, len(text), f"d{i}-0")
              for i, (t, text) in enumerate([("Eiffel_Tower", "It was finished in 1889."),
                                             ("Nile", "It flows north into the sea.")])]
    plain = BM25Index.from_chunks(chunks)
    assert plain.ids == tuple(c.chunk_id for c in chunks)
    assert plain.search("eiffel", 2)[0] == []
    with_headers = BM25Index.from_chunks(chunks, headers=True)
    assert with_headers.search("eiffel tower", 2)[0] == [chunks[0].chunk_id]
