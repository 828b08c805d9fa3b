"""What flows between the parts of rag_core: frozen dataclasses, and the provider Protocols.

Read top to bottom: a Document is loaded, cut into Chunks, each chunk embedded and stored;
a query returns Hits; the answerer streams text and an Answer records what was used and
what it cost (Usage).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import TYPE_CHECKING, Iterable, Iterator, Mapping, Protocol, Sequence, runtime_checkable

if TYPE_CHECKING:  # annotations only: the CLI's --help need not import numpy
    import numpy as np


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Document:
    """One section of one source: a file path or URL, plus a heading, page or row label.

    `ordinal` numbers the sections of a source in reading order, so two sections with the
    same heading stay distinct.
    """

    source: str
    section: str
    text: str
    ordinal: int = 0

    @property
    def doc_id(self) -> str:
        return f"{hashlib.sha1(self.source.encode()).hexdigest()[:10]}-{self.ordinal}"

    @property
    def word_count(self) -> int:
        return len(self.text.split())

    @property
    def char_count(self) -> int:
        return len(self.text)


@dataclass(frozen=True)
class Chunk:
    """A span of a Document: `document.text[start:end] == text` always holds."""

    source: str
    section: str
    text: str
    start: int
    end: int
    doc_id: str

    @cached_property
    def chunk_id(self) -> str:
        """Computed once per chunk (retrieval joins hits by it many times per query)."""
        return f"{self.doc_id}:{self.start}-{self.end}"


@dataclass(frozen=True)
class ChunkingConfig:
    """strategy: `chars` | `tokens` | `recursive`; size and overlap are in the strategy's unit
    (characters, or tokens of `encoding` for `tokens`)."""

    strategy: str = "recursive"
    size: int = 1000
    overlap: int = 100
    encoding: str = "cl100k_base"


@dataclass(frozen=True)
class Score:
    """One score a hit got: what it means (`cosine`, `l2`, `bm25`, `rrf`, `rerank relevance`),
    its value, and the hit's rank (from 1) under it."""

    kind: str
    value: float
    rank: int


@dataclass(frozen=True)
class Hit:
    """A retrieved chunk. `score_kind` says what `score` (the primary score, the one it is ranked
    by) means; `retrieval_rank`/`retrieval_score` keep the first-stage values when a reranker
    reorders hits. `scores` keeps every score it got, in the order they were given (the
    Retriever fills it; a store's raw hit may leave it empty). Ranks start at 1."""

    chunk: Chunk
    score: float
    score_kind: str
    rank: int
    retrieval_rank: int | None = None
    retrieval_score: float | None = None
    retrieval_score_kind: str | None = None
    scores: tuple[Score, ...] = ()
    #: set on a chunk added by neighbour expansion: the chunk id of the hit it was added for
    #: (context for the answerer, never a retrieved hit in the metrics)
    neighbour_of: str | None = None

    @property
    def is_neighbour(self) -> bool:
        return self.neighbour_of is not None

    @property
    def all_scores(self) -> tuple[Score, ...]:
        """Every score, or the primary one alone when nothing recorded more."""
        return self.scores or (Score(self.score_kind, self.score, self.rank),)

    def with_score(self, score: Score) -> "Hit":
        """This hit with one more score recorded (the primary score is unchanged)."""
        return replace(self, scores=self.scores + (score,))

    def reranked(self, score: float, score_kind: str, rank: int) -> "Hit":
        return replace(
            self,
            score=score,
            score_kind=score_kind,
            rank=rank,
            retrieval_rank=self.rank if self.retrieval_rank is None else self.retrieval_rank,
            retrieval_score=self.score if self.retrieval_score is None else self.retrieval_score,
            retrieval_score_kind=self.score_kind if self.retrieval_score_kind is None else self.retrieval_score_kind,
            scores=self.all_scores + (Score(score_kind, score, rank),),
        )


@dataclass(frozen=True)
class TokenUsage:
    """Tokens a provider reported (or we counted) for one call; yielded last by LLM.stream."""

    prompt_tokens: int = 0
    completion_tokens: int = 0


@dataclass(frozen=True)
class Usage:
    """Tokens, dollars and per-stage latency of one turn (or, summed, of a session).

    `cost_usd` is what the turn costs, or would cost, on `cost_model` with the dated price
    table in rag_core/costs; a turn's Usage is derived from its cost record (costs.TurnCosts),
    and a session's from the records added up.
    """

    embedding_tokens: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    cost_model: str = ""
    latency_ms: Mapping[str, float] = field(default_factory=dict)

    @property
    def total_tokens(self) -> int:
        return self.embedding_tokens + self.prompt_tokens + self.completion_tokens


#: The one checked range of each numeric retrieval setting (inclusive). Config files, links,
#: CLI flags and every widget take their bounds from here, so a value one of them accepts never
#: breaks another (a link with neighbours=4 once broke a slider that stopped at 3).
RETRIEVAL_BOUNDS: Mapping[str, tuple[float, float]] = {
    "top_k": (1, 50),
    "score_threshold": (-1.0, 1.0),
    "alpha": (0.0, 1.0),
    "rrf_k": (0.0, 10_000.0),
    "depth": (1, 10_000),
    "mmr_lambda": (0.0, 1.0),
    "neighbours": (0, 5),
    "rewrites": (1, 5),
}


#: the retrieval defaults every part uses (fusion functions, the pool-rrf reranker, rewrites, the app):
#: RRF with a small k beat k=60 on both measured sets, and z-score beat min-max (retrieval/RESULTS.md)
DEFAULT_RRF_K = 10.0
DEFAULT_NORMALISE = "zscore"


@dataclass(frozen=True)
class RetrievalSettings:
    """How to retrieve for one question (recorded on the Answer). The single source of the
    defaults the CLI, Chat and Evaluate use.

    `mode`: "dense" (the vector store), "bm25" (whole-index BM25) or "hybrid" (both, fused).
    `fusion` (hybrid): "weighted" = alpha * normalised cosine + (1 - alpha) * normalised BM25,
    normalised by `normalise` ("zscore" or "minmax"); or "rrf" (reciprocal rank fusion, `rrf_k`).
    `depth`: candidates taken from each list before fusing. Then the score threshold (on the
    cosine where a hit has one), an optional reranker, MMR (`mmr_lambda`, None = off) and the
    top k; `neighbours` adds n chunks either side of each hit to the answerer's context.
    `rewrite` ("multi_query" or "hyde"; None = off) asks the generative answerer to rewrite the
    question first (`rewrites` paraphrases for multi-query), one ranked list per text, fused.
    Defaults: the best offline setting measured (see rag_core/retrieval/RESULTS.md)."""

    top_k: int = 5
    score_threshold: float | None = None
    sources: tuple[str, ...] | None = None
    reranker: str | None = None
    mode: str = "hybrid"
    fusion: str = "weighted"
    normalise: str = DEFAULT_NORMALISE
    alpha: float = 0.5
    rrf_k: float = DEFAULT_RRF_K
    depth: int = 100
    mmr_lambda: float | None = None
    neighbours: int = 0
    rewrite: str | None = None
    rewrites: int = 3


@dataclass(frozen=True)
class Answer:
    question: str
    text: str
    hits: tuple[Hit, ...]
    prompt: str
    usage: Usage
    settings: RetrievalSettings
    #: hits that were retrieved but fell under the threshold (shown to explain "No context.")
    below_threshold: tuple[Hit, ...] = ()


@dataclass(frozen=True)
class IndexManifest:
    """Everything needed to know whether an index on disk may be queried with an embedder."""

    embedder: str
    dim: int
    metric: str
    store: str
    chunking: ChunkingConfig
    fingerprint: str
    n_chunks: int
    version: str
    created_at: str
    updated_at: str
    #: source -> sha256 of its text, so an unchanged file is skipped and a changed one replaced
    sources: Mapping[str, str] = field(default_factory=dict)
    #: contextual chunk headers: title and section path prepended to the embedded/BM25 text
    headers: bool = False
    #: the BM25 settings of the index's BM25 (k1, b, method, tokenizer); empty in old indexes
    bm25: Mapping[str, object] = field(default_factory=dict)


# ---- provider protocols -------------------------------------------------------------


@runtime_checkable
class Embedder(Protocol):
    """Returns L2-normalised float32 vectors, shape (n, dim)."""

    name: str
    dim: int

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray: ...

    def embed_query(self, text: str) -> np.ndarray: ...

    def count_tokens(self, texts: Sequence[str]) -> int: ...


@runtime_checkable
class VectorStore(Protocol):
    """Holds chunks and their vectors. `search` returns hits best-first, ranks from 1."""

    name: str
    metric: str

    def add(self, chunks: Sequence[Chunk], vectors: np.ndarray) -> None: ...

    def search(self, vector: np.ndarray, k: int, sources: Sequence[str] | None = None) -> list[Hit]: ...

    def delete(self, sources: str | Iterable[str]) -> int:
        """Remove every chunk of these sources (one or many, in one pass); returns how many."""
        ...

    def count(self) -> int: ...

    def chunks(self) -> list[Chunk]: ...

    def vectors(self) -> np.ndarray: ...

    def vectors_at(self, rows: np.ndarray) -> np.ndarray:
        """The vectors of these rows (positions in `chunks()` order), for MMR over candidates."""
        ...

    def save(self, directory: str) -> None: ...

    def load(self, directory: str) -> None: ...

    def attach_manifest(self, manifest_json: str) -> None:
        """The Index's manifest before a save: a database store commits it with its rows (its copy
        is the truth for every app instance); a file store keeps none (the generation has it)."""
        ...

    def stored_manifest(self) -> str | None:
        """The manifest committed with the rows (a database store), or None (a file store)."""
        ...


@dataclass(frozen=True)
class GenerationRequest:
    """What an answerer gets: the exact prompt, plus the question and numbered hits for
    answerers (like the extractive one) that work from the context directly."""

    prompt: str
    question: str
    hits: tuple[Hit, ...]


@runtime_checkable
class LLM(Protocol):
    """Streams text deltas, then (optionally) one TokenUsage as the last item."""

    name: str
    context_window: int
    max_answer_tokens: int

    def stream(self, request: GenerationRequest) -> Iterator[str | TokenUsage]: ...


@runtime_checkable
class Reranker(Protocol):
    name: str
    score_kind: str

    def rerank(self, query: str, hits: Sequence[Hit], top_n: int) -> list[Hit]: ...
