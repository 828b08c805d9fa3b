"""Whole-index BM25: lexical search over every chunk, not just the dense candidates.

`BM25Index.build(ids, texts)` tokenises (lower-case words of 2+ characters, the shared
stopword list of `rag_core.core.text`, English Snowball stems from PyStemmer) and hands the token
lists to bm25s, which keeps the scores as a sparse matrix: a query is a sum of a few matrix
columns plus a top-k partition, never a Python loop over chunks. `ids` line up with the store's
chunks (the caller passes `chunk.chunk_id` in store order), so hits join back to chunks by id.

Incremental ingest rebuilds the whole index from every chunk's text at save time: BM25's IDF and
average length depend on the whole corpus, and bm25s builds 100k chunks in seconds, so a rebuild
is the simplest way to stay exactly right. `save(directory)` writes into a directory the caller
chooses (the index writes it inside its atomic generation directory); `load` checks it.
"""

from __future__ import annotations

import json
import re
import threading
from collections import OrderedDict
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from rag_core.core.errors import ConfigError, StoreError
from rag_core.core.text import words
from rag_core.core.types import Chunk
from rag_core.index.headers import indexed_text

#: a query longer than this is cut (bounded work per query; BM25 gains nothing from an essay)
MAX_QUERY_CHARS = 2000
MAX_QUERY_TERMS = 64
#: a chunk longer than this is tokenised only up to here (chunks are ~1,000 characters)
MAX_TEXT_CHARS = 100_000
IDS_FILE = "ids.json"
CACHE_SIZE = 4096
FORMAT = "rag-core-bm25/1"


@dataclass(frozen=True)
class BM25Params:
    """Okapi BM25 parameters; `method` is the bm25s variant ("lucene": IDF never negative)."""

    k1: float = 1.5
    b: float = 0.75
    method: str = "lucene"


class Tokenizer:
    """Lower-case words, stopwords dropped, English stems (rag_core/core/text.py: the one word
    matching); the same for chunks and queries."""

    def __call__(self, text: str, limit: int = MAX_TEXT_CHARS) -> list[str]:
        return words(text, limit)

    def many(self, texts: Sequence[str]) -> list[list[str]]:
        return [self(t) for t in texts]


def _model(params: BM25Params):  # -> bm25s.BM25
    import bm25s

    return bm25s.BM25(k1=params.k1, b=params.b, method=params.method)


def unique_ids(chunks: Sequence[Chunk]) -> list[str]:
    """One id per chunk, in store order: its chunk id, or `id#row` for a repeat (a store may hold
    two chunks with the same id, e.g. the same file added under two names)."""
    seen: set[str] = set()
    out = []
    for row, chunk in enumerate(chunks):
        cid = chunk.chunk_id
        out.append(cid if cid not in seen else f"{cid}#{row}")
        seen.add(cid)
    return out


class BM25Index:
    """BM25 over a list of chunk texts, searched by id. Build with `build`, or `load` from disk."""

    def __init__(self, ids: Sequence[str], model: object | None, params: BM25Params,
                 tokenizer: Tokenizer | None = None) -> None:
        self.ids = tuple(ids)
        self.params = params
        self._model = model
        self._tokenize = tokenizer or Tokenizer()
        self._position = {chunk_id: i for i, chunk_id in enumerate(self.ids)}
        #: query -> (ids, k asked, scores) of its deepest unfiltered search: a sweep asks each
        #: question under many settings, BM25 runs once per question (bounded LRU)
        self._cache: OrderedDict[str, tuple[list[str], int, np.ndarray]] = OrderedDict()
        #: one BM25Index is shared by every session of a server (ui/cache.py): the LRU's
        #: get / insert / evict / move_to_end must not interleave (a KeyError otherwise)
        self._cache_lock = threading.Lock()

    @classmethod
    def build(cls, ids: Sequence[str], texts: Sequence[str], params: BM25Params = BM25Params()) -> "BM25Index":
        """Index `texts`; `ids[i]` names `texts[i]` (ids must be unique)."""
        if len(ids) != len(texts):
            raise ConfigError(f"BM25 needs one id per text: got {len(ids)} ids for {len(texts)} texts")
        if len(set(ids)) != len(ids):
            raise ConfigError("BM25 chunk ids must be unique; two chunks share an id")
        tokenizer = Tokenizer()
        model = None
        tokens = tokenizer.many(texts) if ids else []
        if any(tokens):  # all stopwords, emoji or punctuation: nothing to match (bm25s cannot index it)
            model = _model(params)
            model.index(tokens, show_progress=False)
        return cls(ids, model, params, tokenizer)

    @property
    def has_terms(self) -> bool:
        """False when no chunk has a word BM25 can match: every search is empty."""
        return self._model is not None

    @classmethod
    def from_chunks(cls, chunks: Sequence[Chunk], headers: bool = False,
                    params: BM25Params = BM25Params()) -> "BM25Index":
        """The index over a store's chunks, in store order, searched by `chunk.chunk_id`. Call it
        again after an ingest or delete (a full rebuild keeps IDF and lengths exact). `headers`:
        index the contextual-header text (see headers.py), as the embedder saw it."""

        return cls.build(unique_ids(chunks), [indexed_text(c, headers) for c in chunks], params)

    def __len__(self) -> int:
        return len(self.ids)

    def query_terms(self, query: str) -> list[str]:
        """The stems a query is scored on (bounded: first MAX_QUERY_TERMS of MAX_QUERY_CHARS)."""
        return list(dict.fromkeys(self._tokenize(query, MAX_QUERY_CHARS)))[:MAX_QUERY_TERMS]

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every chunk (float32, aligned with `ids`); 0 where no term matches."""
        terms = self.query_terms(query)
        if self._model is None or not terms:
            return np.zeros(len(self.ids), dtype=np.float32)
        return np.asarray(self._model.get_scores(terms), dtype=np.float32)

    def search(self, query: str, k: int, allowed: np.ndarray | None = None) -> tuple[list[str], np.ndarray]:
        """The top `k` chunk ids with a positive score, best first (ties: store order), and their
        scores. `allowed` (bool mask over `ids`) restricts the search, e.g. to chosen sources."""
        if k < 1:
            raise ConfigError(f"k must be at least 1, not {k}")
        if allowed is None:
            key = query[:MAX_QUERY_CHARS]
            with self._cache_lock:
                cached = self._cache.get(key)
                if cached is not None:
                    self._cache.move_to_end(key)
            # a deeper list already computed serves any smaller k: same order, same tie-break
            if cached is None or (len(cached[0]) < k and cached[1] < k):
                ids, scores = self._search(query, k, None)  # outside the lock: sessions score in parallel
                cached = (ids, k, scores)
                with self._cache_lock:
                    self._cache[key] = cached
                    self._cache.move_to_end(key)
                    while len(self._cache) > CACHE_SIZE:
                        self._cache.popitem(last=False)
            ids, _, scores = cached
            return list(ids[:k]), scores[:k].copy()
        return self._search(query, k, allowed)

    def _search(self, query: str, k: int, allowed: np.ndarray | None) -> tuple[list[str], np.ndarray]:
        scores = self.scores(query)
        if allowed is not None:
            if allowed.shape != scores.shape:
                raise ConfigError(f"the filter mask has {allowed.shape[0]} entries for {len(self.ids)} chunks")
            scores = np.where(allowed, scores, 0.0).astype(np.float32)
        candidates = np.flatnonzero(scores > 0)
        if candidates.size > k:
            # partition on score, then a stable sort so equal scores keep store order
            cut = np.argpartition(-scores[candidates], k - 1)[:k]
            threshold = scores[candidates[cut]].min()
            candidates = candidates[scores[candidates] >= threshold]
        order = candidates[np.lexsort((candidates, -scores[candidates]))][:k]
        return [self.ids[i] for i in order], scores[order]

    def position(self, chunk_id: str) -> int | None:
        return self._position.get(chunk_id)

    def save(self, directory: str | Path) -> None:
        """Write the index into `directory` (created; files are plain .npy/.json, no pickle)."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        meta = {"format": FORMAT, "params": asdict(self.params), "ids": list(self.ids),
                "has_terms": self._model is not None}
        (directory / IDS_FILE).write_text(json.dumps(meta), encoding="utf-8")
        if self._model is not None:
            self._model.save(str(directory), show_progress=False)

    @classmethod
    def load(cls, directory: str | Path) -> "BM25Index":
        directory = Path(directory)
        try:
            meta = json.loads((directory / IDS_FILE).read_text(encoding="utf-8"))
            if meta.get("format") != FORMAT:
                raise ValueError(f"unknown format {meta.get('format')!r}")
            params = BM25Params(**meta["params"])
            ids = [str(i) for i in meta["ids"]]
        except (OSError, ValueError, TypeError, KeyError) as exc:
            raise StoreError(f"the BM25 index in {directory} is unreadable ({exc}); rebuild the index") from exc
        model = None
        if ids and meta.get("has_terms", True):  # older indexes have no flag: they always had terms
            import bm25s

            try:
                model = bm25s.BM25.load(str(directory), show_progress=False)
            except (OSError, ValueError, KeyError) as exc:
                raise StoreError(f"the BM25 index in {directory} is unreadable ({exc}); rebuild the index") from exc
            if int(model.scores["num_docs"]) != len(ids):
                raise StoreError(f"the BM25 index in {directory} has {model.scores['num_docs']} documents "
                                 f"for {len(ids)} ids; rebuild the index")
        return cls(ids, model, params)


__all__ = ["BM25Index", "BM25Params", "MAX_QUERY_CHARS", "MAX_QUERY_TERMS", "Tokenizer", "unique_ids"]
