import pytest
from helpers import hashing_index

from rag_core.core.errors import ConfigError
from rag_core.llm import LLMS
from rag_core.answer.pipeline import Pipeline
from rag_core.rerank import create_reranker
from rag_core.core.types import RetrievalSettings


@pytest.fixture(scope="module")
def index(tmp_path_factory):
    return hashing_index(tmp_path_factory.mktemp("idx") / "idx", store="faiss")


def make(index, reranker=None):
    return Pipeline(index, LLMS.create("extractive"), create_reranker(reranker))


def test_answer_explains_itself(index):
    answer = make(index).answer("What is the capital of Kenya?", RetrievalSettings(top_k=2, mode="dense"))
    assert answer.hits[0].chunk.source == "kenya.md"
    assert [h.rank for h in answer.hits] == [1, 2]
    assert all(h.score_kind == "cosine" for h in answer.hits)
    assert "Nairobi" in answer.text and "[1]" in answer.text
    assert "[1]" in answer.prompt and "What is the capital of Kenya?" in answer.prompt
    usage = answer.usage
    assert usage.embedding_tokens > 0 and usage.prompt_tokens > 0 and usage.completion_tokens > 0
    assert usage.cost_usd > 0 and "gpt-4o-mini" in usage.cost_model
    assert {"embed_query", "search", "build_prompt", "generate"} <= set(usage.latency_ms)


def test_stream_yields_the_same_text_as_the_answer(index):
    turn = make(index).ask("Who developed the theory of relativity?", RetrievalSettings(top_k=3))
    streamed = "".join(turn)
    assert turn.answer is not None and turn.answer.text == streamed


def test_threshold_with_nothing_above_says_no_context_and_keeps_why(index):
    answer = make(index).answer("What is the capital of Kenya?", RetrievalSettings(top_k=3, score_threshold=0.999, mode="dense"))
    assert answer.hits == ()
    assert answer.text.startswith("No context.")
    assert len(answer.below_threshold) == 3  # the closest chunks, shown to explain why
    assert all(h.score < 0.999 for h in answer.below_threshold)


def test_source_filter(index):
    answer = make(index).answer("capital", RetrievalSettings(top_k=5, sources=("japan.md",)))
    assert answer.hits and {h.chunk.source for h in answer.hits} == {"japan.md"}


@pytest.mark.parametrize("name,kind", [("pool-bm25", "pool bm25"), ("pool-rrf", "pool rrf")])
def test_rerankers_label_scores_and_keep_first_stage_ranks(index, name, kind):
    answer = make(index, name).answer("Nobel Prize photoelectric effect", RetrievalSettings(top_k=2, reranker=name, mode="dense"))
    assert [h.rank for h in answer.hits] == [1, 2]
    assert all(h.score_kind == kind and h.retrieval_score_kind == "cosine" for h in answer.hits)
    assert all(h.retrieval_rank is not None and h.retrieval_score is not None for h in answer.hits)
    assert answer.hits[0].chunk.source == "einstein.md"


def test_bad_settings_are_config_errors(index):
    with pytest.raises(ConfigError, match="empty"):
        make(index).answer("   ", RetrievalSettings())
    with pytest.raises(ConfigError, match="top_k"):
        make(index).answer("hi", RetrievalSettings(top_k=0))
    with pytest.raises(ConfigError, match="reranker"):
        create_reranker("cross-encoder")


def test_a_session_record_is_the_turn_records_added_up(index):
    turns = [make(index, r).ask(q, RetrievalSettings(top_k=2, reranker=r))
             for q, r in (("capital of Kenya?", None), ("relativity", "pool-bm25"), ("photoelectric", None))]
    for turn in turns:
        list(turn)
    session = turns[0].costs + turns[1].costs + turns[2].costs
    usage = session.usage()
    assert usage.total_tokens == sum(t.answer.usage.total_tokens for t in turns)
    assert usage.cost_usd == pytest.approx(sum(t.answer.usage.cost_usd for t in turns))
    for stage in ("embed_query", "search", "generate"):
        assert usage.latency_ms[stage] == pytest.approx(sum(t.answer.usage.latency_ms[stage] for t in turns))
    assert session.stage("rerank").model == "pool-bm25" and session.stage("rerank").cost_usd == 0


def _without(*models):
    from rag_core import costs

    return costs.PriceTable.of([p for p in costs.DEFAULT_PRICES.prices if p.model not in models])


def test_a_price_table_without_the_default_rows_still_answers_and_says_unpriced(index):
    from rag_core import costs
    from rag_core.answer.pipeline import CostModels, cost_models_for

    table = _without(costs.DEFAULT_COST_MODEL, costs.DEFAULT_EMBED_COST_MODEL)
    llm = LLMS.create("extractive")
    models = cost_models_for(llm, index.embedder, None, table)
    for cost_models in (models, CostModels(prices=table)):
        turn = Pipeline(index, llm, cost_models=cost_models).ask("What is the capital of Kenya?",
                                                                  RetrievalSettings(top_k=2))
        assert "Nairobi" in "".join(turn)
        answer = turn.answer
        assert answer is not None and "Nairobi" in answer.text
        assert answer.usage.cost_usd == 0 and turn.costs.total_usd == 0
        assert f"{costs.DEFAULT_COST_MODEL} (no price in the table)" in answer.usage.cost_model
        assert f"{costs.DEFAULT_EMBED_COST_MODEL} (no price in the table)" in answer.usage.cost_model
        assert all(costs.is_unpriced(s.model) and s.cost_usd == 0 for s in turn.costs.stages)
    # one row kept: that stage is priced, the other says unpriced
    models = cost_models_for(llm, index.embedder, None, _without(costs.DEFAULT_COST_MODEL))
    turn = Pipeline(index, llm, cost_models=models).ask("What is the capital of Kenya?", RetrievalSettings(top_k=2))
    list(turn)
    assert turn.costs.stage("query embedding").model == costs.DEFAULT_EMBED_COST_MODEL
    assert turn.costs.stage("query embedding").cost_usd > 0
    assert turn.costs.stage("prompt").model == costs.unpriced(costs.DEFAULT_COST_MODEL)
    assert turn.costs.stage("prompt").cost_usd == 0
