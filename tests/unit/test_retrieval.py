"""The Retriever on its own: no answerer, every score kept with its kind and rank, latency and
embedding usage per question, and a clear error for a mode that does not exist (yet)."""

import pytest
from helpers import hashing_index

from rag_core.core.errors import ConfigError
from rag_core.evaluation.evaluate import EvalQuestion, QuestionSet, evaluate
from rag_core.rerank import create_reranker
from rag_core.retrieval import MODES, Retriever
from rag_core.core.types import RetrievalSettings, Score


@pytest.fixture(scope="module")
def index(tmp_path_factory):
    return hashing_index(tmp_path_factory.mktemp("idx") / "idx", store="numpy")


def test_dense_hits_carry_their_score_kind_and_rank(index):
    result = Retriever(index).retrieve("capital of Kenya", RetrievalSettings(top_k=3, mode="dense"))
    assert [h.rank for h in result.hits] == [1, 2, 3]
    assert all(h.scores == (Score("cosine", h.score, h.rank),) for h in result.hits)
    assert {"embed_query", "search"} <= set(result.latency_ms) and "rerank" not in result.latency_ms
    assert result.embedding.estimated_tokens > 0 and result.embedding.reported_tokens is None
    assert result.rerank_searches is None and result.query_vector is not None


def test_reranked_hits_keep_every_score(index):
    result = Retriever(index, create_reranker("pool-bm25")).retrieve("Nobel Prize photoelectric effect",
                                                               RetrievalSettings(top_k=2, reranker="pool-bm25", mode="dense"))
    for hit in result.hits:
        dense, rerank = hit.scores
        assert dense.kind == "cosine" and (dense.value, dense.rank) == (hit.retrieval_score, hit.retrieval_rank)
        assert rerank == Score("pool bm25", hit.score, hit.rank)
    assert result.rerank_searches == 1 and "rerank" in result.latency_ms


def test_unknown_mode_is_a_clear_error(index):
    with pytest.raises(ConfigError, match="unknown retrieval mode 'sparse'; known: dense, bm25, hybrid"):
        Retriever(index).retrieve("x", RetrievalSettings(mode="sparse"))
    assert tuple(MODES) == ("dense", "bm25", "hybrid")
    assert not hasattr(RetrievalSettings(), "llm")  # retrieval settings say nothing about answering


def test_evaluation_needs_no_answerer(index):
    questions = QuestionSet("q", (EvalQuestion("capital of Kenya", ("kenya.md",)),))
    result = evaluate(index, questions, RetrievalSettings(top_k=3))
    assert result.hit_rate == 1.0 and result.questions[0].hits[0].scores


def test_a_new_mode_and_a_step_slot_in_without_touching_the_retriever(index, monkeypatch):
    from rag_core.retrieval import modes
    from rag_core.retrieval import retriever as module

    monkeypatch.setitem(module._MODES, "reversed", lambda r, q: list(reversed(modes.dense(r, q))))

    def keep_odd_ranks(query, hits):
        return [h for h in hits if h.rank % 2]

    result = Retriever(index, steps=(keep_odd_ranks,)).retrieve("capital of Kenya",
                                                                RetrievalSettings(top_k=2, mode="reversed"))
    assert len(result.hits) == 2 and all(h.rank % 2 for h in result.hits)
    with pytest.raises(ConfigError, match="already registered"):
        module.register_mode("dense", modes.dense)
