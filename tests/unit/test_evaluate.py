"""rag_core.evaluation.evaluate: metrics on hand-built hits, question-set files, evaluate/sweep/compare on a
small hashing index, and the `eval` CLI."""

from __future__ import annotations

import json
import math

import pytest
from helpers import hashing_index
from hypothesis import given
from hypothesis import strategies as st

from rag_core.cli import main as eval_main
from rag_core.core.errors import ConfigError
from rag_core.evaluation.evaluate import (
    DEMO_QUESTIONS,
    EvalQuestion,
    QuestionSet,
    best,
    compare_indexes,
    demo_question_set,
    evaluate,
    hit_at_k,
    load_question_set,
    ndcg_at_k,
    parse_question_set,
    recall_at_k,
    reciprocal_rank,
    relevance_gains,
    settings_grid,
    sweep,
)
from rag_core.core.types import Chunk, Hit, RetrievalSettings


def hits(*sources: str) -> list[Hit]:
    return [Hit(Chunk(s, "", f"text {i}", 0, 6, f"d{i}"), 1.0 - i / 10, "cosine", i + 1) for i, s in enumerate(sources)]


def sources_of(hit_list: list[Hit]) -> list[str]:
    return [h.chunk.source for h in hit_list]


# ---- metrics ----------------------------------------------------------------------------------


def test_relevant_at_rank_one_scores_one_everywhere():
    s = sources_of(hits("a", "x", "y"))
    assert hit_at_k(s, {"a"}, 3) == recall_at_k(s, {"a"}, 3) == reciprocal_rank(s, {"a"}) == ndcg_at_k(s, {"a"}, 3) == 1.0


def test_no_relevant_hit_scores_zero():
    s = sources_of(hits("x", "y", "z"))
    assert (hit_at_k(s, {"a"}, 3), recall_at_k(s, {"a"}, 3), reciprocal_rank(s, {"a"}), ndcg_at_k(s, {"a"}, 3)) == (0, 0, 0, 0)
    assert ndcg_at_k([], {"a"}, 5) == 0.0 and recall_at_k(s, set(), 3) == 0.0


def test_relevant_at_rank_three():
    s = ["x", "y", "a"]
    assert reciprocal_rank(s, {"a"}) == pytest.approx(1 / 3)
    assert ndcg_at_k(s, {"a"}, 3) == pytest.approx(1 / math.log2(4))
    assert hit_at_k(s, {"a"}, 2) == 0.0 and hit_at_k(s, {"a"}, 3) == 1.0


def test_duplicates_from_one_source_count_once():
    s = ["a", "a", "a", "b"]
    assert relevance_gains(s, {"a", "b"}) == [1, 0, 0, 1]
    assert recall_at_k(s, {"a", "b"}, 3) == 0.5  # three chunks of one source: still one of two sources
    assert recall_at_k(s, {"a", "b"}, 4) == 1.0
    ideal = 1 + 1 / math.log2(3)
    assert ndcg_at_k(s, {"a", "b"}, 4) == pytest.approx((1 + 1 / math.log2(5)) / ideal)
    assert ndcg_at_k(["a", "a"], {"a"}, 2) == 1.0  # a duplicate never pushes nDCG above 1


def test_two_relevant_sources_both_first_is_perfect():
    assert ndcg_at_k(["b", "a", "x"], {"a", "b"}, 3) == pytest.approx(1.0)
    assert recall_at_k(["b", "a", "x"], {"a", "b"}, 1) == 0.5


names = st.sampled_from(list("abcdefgh"))


@given(st.lists(names, max_size=12), st.sets(names, min_size=1, max_size=4), st.integers(1, 12))
def test_metrics_are_in_unit_interval(ranked, relevant, k):
    for value in (hit_at_k(ranked, relevant, k), recall_at_k(ranked, relevant, k),
                  reciprocal_rank(ranked, relevant, k), ndcg_at_k(ranked, relevant, k)):
        assert 0.0 <= value <= 1.0 + 1e-12


@given(st.lists(names, max_size=12), st.sets(names, min_size=1, max_size=4), st.integers(1, 11))
def test_hit_recall_and_mrr_are_monotone_in_k(ranked, relevant, k):
    assert hit_at_k(ranked, relevant, k) <= hit_at_k(ranked, relevant, k + 1)
    assert recall_at_k(ranked, relevant, k) <= recall_at_k(ranked, relevant, k + 1)
    assert reciprocal_rank(ranked, relevant, k) <= reciprocal_rank(ranked, relevant, k + 1)


@given(st.lists(names, max_size=12), st.sets(names, min_size=1, max_size=4), st.integers(1, 12))
def test_hit_is_one_exactly_when_mrr_is_positive(ranked, relevant, k):
    assert (hit_at_k(ranked, relevant, k) == 1.0) == (reciprocal_rank(ranked, relevant, k) > 0)


# ---- question sets ----------------------------------------------------------------------------


def test_demo_question_set_names_sources_in_the_demo_corpus():
    from rag_core.ingest.demo import demo_documents

    qs = demo_question_set()
    assert 40 <= len(qs) <= 60
    assert qs.sources <= {d.source for d in demo_documents()}
    assert len({q.question for q in qs.questions}) == len(qs)
    assert DEMO_QUESTIONS.exists()


@pytest.mark.parametrize("name,body", [
    ("q.jsonl", '{"question": "Capital of Kenya?", "relevant_sources": ["kenya.md", "nairobi.md"]}\n\n'),
    ("q.json", '[{"question": "Capital of Kenya?", "relevant_sources": "kenya.md|nairobi.md"}]'),
    ("q.json", '{"questions": [{"question": "Capital of Kenya?", "relevant_sources": ["kenya.md", "nairobi.md"]}]}'),
    ("q.csv", "question,relevant_sources\nCapital of Kenya?,kenya.md | nairobi.md\n,\n"),
    ("q.csv", "\ufeffquestion , relevant_sources\n\"Capital of Kenya?\",kenya.md|nairobi.md\n"),
])
def test_formats_load_the_same_questions(tmp_path, name, body):
    path = tmp_path / name
    path.write_text(body, encoding="utf-8")
    qs = load_question_set(path)
    assert qs.questions == (EvalQuestion("Capital of Kenya?", ("kenya.md", "nairobi.md")),)
    assert qs.name == "q"


@pytest.mark.parametrize("name,body,needle", [
    ("q.jsonl", '{"question": "a", "relevant_sources": ["x"]}\nnot json\n', "line 2 is not valid JSON"),
    ("q.jsonl", '{"question": "a"}\n', "line 1: missing relevant_sources"),
    ("q.jsonl", '{"question": "  ", "relevant_sources": ["x"]}\n', "the question is empty"),
    ("q.jsonl", '{"question": "a", "relevant_sources": []}\n', "no relevant_sources"),
    ("q.jsonl", '{"question": "a", "relevant_sources": [1, 2]}\n', "must be a list of strings"),
    ("q.jsonl", '["a", "x"]\n', "expected an object"),
    ("q.json", '{"question": "a"', "is not valid JSON"),
    ("q.json", '{"a": 1}', "expected a list of question objects"),
    ("q.csv", "text,sources\na,b\n", "no question or relevant_sources column"),
    ("q.csv", "question,relevant_sources\na,\n", "row 2: no relevant_sources"),
    ("q.jsonl", "\n\n", "has no questions"),
    ("q.txt", "question", "unsupported question-set format '.txt'"),
])
def test_bad_files_say_what_is_wrong(tmp_path, name, body, needle):
    path = tmp_path / name
    path.write_text(body, encoding="utf-8")
    with pytest.raises(ConfigError, match=needle.replace("(", r"\(").replace("[", r"\[")):
        load_question_set(path)


def test_missing_and_non_utf8_files(tmp_path):
    with pytest.raises(ConfigError, match="no question set at"):
        load_question_set(tmp_path / "nope.jsonl")
    with pytest.raises(ConfigError, match="not UTF-8"):
        parse_question_set(b"question,relevant_sources\n\xff\xfe,x\n", "q.csv")


# ---- evaluate, sweep, compare -----------------------------------------------------------------

FACT_QUESTIONS = QuestionSet("facts", (
    EvalQuestion("What is the capital of Kenya?", ("kenya.md",)),
    EvalQuestion("Which is the capital of Japan, with Mount Fuji?", ("japan.md",)),
    EvalQuestion("How do green plants use sunlight and chlorophyll?", ("photosynthesis.md",)),
    EvalQuestion("Who developed the theory of relativity?", ("einstein.md",)),
))


def test_evaluate_on_a_hashing_index(tmp_path):
    index = hashing_index(tmp_path / "idx")
    seen = []
    result = evaluate(index, FACT_QUESTIONS, RetrievalSettings(top_k=2), progress=lambda d, t, _: seen.append((d, t)))
    assert result.hit_rate == 1.0 and result.mrr == 1.0 and result.ndcg == 1.0  # lexical facts: all at rank 1
    assert len(result.questions) == 4 and all(len(q.hits) <= 2 for q in result.questions)
    assert seen[0] == (0, 4) and seen[-1] == (4, 4)
    assert result.latency_ms >= 0 and result.embed_ms >= 0
    assert result.questions[0].first_relevant_rank == 1
    assert result.row()["hit@k"] == 1.0 and result.misses == ()


def test_threshold_that_drops_everything_misses_and_keeps_the_dropped_hits(tmp_path):
    index = hashing_index(tmp_path / "idx")
    result = evaluate(index, FACT_QUESTIONS, RetrievalSettings(top_k=3, score_threshold=1.01))
    assert result.hit_rate == 0.0 and len(result.misses) == 4
    assert all(q.hits == () and q.below_threshold for q in result.questions)


def test_sweep_returns_one_row_per_setting_and_never_answers(tmp_path):
    index = hashing_index(tmp_path / "idx")
    results = sweep(index, FACT_QUESTIONS, top_ks=(1, 3), rerankers=("none", "pool-bm25", "pool-rrf"), thresholds=(None, 0.0))
    assert len(results) == 12
    assert {(r.k, r.settings.reranker, r.settings.score_threshold) for r in results} == {
        (k, r, t) for k in (1, 3) for r in (None, "pool-bm25", "pool-rrf") for t in (None, 0.0)}
    assert all(h.score_kind == "pool bm25" for r in results if r.settings.reranker == "pool-bm25" for q in r.questions for h in q.hits)
    assert len({r.embed_ms for r in results}) == 1  # measured once per index
    assert best(results).mrr == max(r.mrr for r in results)


def test_unknown_reranker_fails_before_any_question(tmp_path):
    index = hashing_index(tmp_path / "idx")
    with pytest.raises(ConfigError, match="unknown reranker 'nope'"):
        sweep(index, FACT_QUESTIONS, top_ks=(1,), rerankers=("none", "nope"))


def test_compare_indexes_labels_rows_by_index(tmp_path):
    from rag_core.core.types import ChunkingConfig

    small = hashing_index(tmp_path / "small", chunking=ChunkingConfig(strategy="chars", size=60, overlap=0))
    big = hashing_index(tmp_path / "big")
    results = compare_indexes({"small": small, "big": big}, FACT_QUESTIONS, settings_grid((1, 3)))
    assert [(r.index, r.k) for r in results] == [("small", 1), ("small", 3), ("big", 1), ("big", 3)]


def test_question_set_for_another_corpus_is_an_error_and_partial_coverage_is_reported(tmp_path):
    index = hashing_index(tmp_path / "idx")
    with pytest.raises(ConfigError, match="another corpus"):
        evaluate(index, QuestionSet("x", (EvalQuestion("q?", ("elsewhere.md",)),)), RetrievalSettings())
    partial = QuestionSet("p", FACT_QUESTIONS.questions + (EvalQuestion("Moons of Mars?", ("mars.md",)),))
    result = evaluate(index, partial, RetrievalSettings(top_k=2))
    assert result.missing_sources == ("mars.md",) and len(result.misses) == 1


def test_settings_grid_rejects_empty_and_bad_values():
    with pytest.raises(ConfigError, match="grid is empty"):
        settings_grid((), ("none",))
    with pytest.raises(ConfigError, match="at least 1"):
        settings_grid((0, 5))
    assert [s.top_k for s in settings_grid((10, 1, 5, 5))] == [1, 5, 10]


# ---- CLI ------------------------------------------------------------------------------------------


def test_cli_eval_table_and_json(tmp_path, capsys):
    hashing_index(tmp_path / "idx")
    qfile = tmp_path / "q.jsonl"
    qfile.write_text("\n".join(json.dumps({"question": q.question, "relevant_sources": list(q.relevant_sources)})
                               for q in FACT_QUESTIONS.questions))
    argv = ["eval", "--index", str(tmp_path / "idx"), "--questions", str(qfile), "--quiet"]
    assert eval_main(argv + ["--top-k", "1,3", "--reranker", "none,pool-bm25,pool-rrf"]) == 0
    out = capsys.readouterr().out
    assert "hit@k" in out and "MRR" in out and "nDCG@k" in out and "latency ms" in out
    assert out.count("k=") >= 6 and "best (by MRR)" in out
    assert eval_main(argv + ["--top-k", "2", "--threshold", "none,0.2", "--json", "--per-question"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert len(data["results"]) == 2 and data["questions"] == 4
    assert {r["threshold"] for r in data["results"]} == {None, 0.2}
    assert data["results"][0]["per_question"][0]["hits"][0]["relevant"] is True


@pytest.mark.parametrize("extra,needle", [
    (["--top-k", "0"], "--top-k must be"),
    (["--top-k", "a,b"], "--top-k must be"),
    (["--threshold", "high"], "--threshold must be"),
    (["--reranker", "magic"], "unknown reranker 'magic'"),
    (["--questions", "missing.jsonl"], "no question set at"),
])
def test_cli_eval_bad_input_is_one_line_error(tmp_path, capsys, extra, needle):
    hashing_index(tmp_path / "idx")
    assert eval_main(["eval", "--index", str(tmp_path / "idx"), "--quiet", *extra]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and needle in err and "\n" not in err


def test_cli_eval_missing_index(tmp_path, capsys):
    assert eval_main(["eval", "--index", str(tmp_path / "none"), "--quiet"]) == 2
    assert capsys.readouterr().err.startswith("error: no index at")
