"""rag_core/evaluation/experiments.py: variant names, replacing an index, the grid of an experiment, and the
honest query-embedding column of evaluate."""

from __future__ import annotations

import dataclasses

import pytest
from helpers import FACTS, fact_documents, hashing_index
from hypothesis import given, settings
from hypothesis import strategies as st

from rag_core.index import index as rindex
from rag_core.index import saved
from rag_core.embeddings import create_embedder
from rag_core.core.errors import ConfigError, IndexMismatchError
from rag_core.evaluation.evaluate import EvalQuestion, QuestionSet, bundled_question_set, compare_indexes
from rag_core.evaluation.experiments import (
    MAX_CHUNKINGS,
    build_variant,
    chunking_slug,
    open_for_replace,
    open_to_build,
    parse_chunking,
    replaces,
    varying_label,
    run_experiment,
    variant_name,
    variants,
    varying_fields,
)
from rag_core.index.index import Index
from rag_core.core.types import ChunkingConfig, RetrievalSettings

QUESTIONS = QuestionSet("facts", (
    EvalQuestion("What is the capital of Kenya?", ("kenya.md",)),
    EvalQuestion("Which is the capital of Japan, with Mount Fuji?", ("japan.md",)),
    EvalQuestion("How do green plants use sunlight and chlorophyll?", ("photosynthesis.md",)),
    EvalQuestion("Who developed the theory of relativity?", ("einstein.md",)),
))


def test_variant_name_reads_like_the_chunking():
    assert variant_name("demo", ChunkingConfig("recursive", 500, 50)) == "demo--recursive-500-50"
    assert variant_name("demo", ChunkingConfig("tokens", 256, 32, encoding="o200k_base")) == \
        "demo--tokens-256-32-encoding_o200k_base"


@settings(max_examples=60, deadline=None)
@given(base=st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}", fullmatch=True),
       strategy=st.text(min_size=1, max_size=40), size=st.integers(1, 10**9), overlap=st.integers(0, 10**9),
       encoding=st.text(max_size=30))
def test_variant_names_are_safe_deterministic_and_distinct(base, strategy, size, overlap, encoding):
    chunking = ChunkingConfig(strategy, size, overlap, encoding or "cl100k_base")
    name = variant_name(base, chunking)
    assert saved.check_name(name) == name and len(name) <= 64  # never points outside the root
    assert name == variant_name(base, chunking)
    other = dataclasses.replace(chunking, size=size + 1)
    assert variant_name(base, other) != name


def test_parse_chunking_reads_the_slug_back_and_explains_mistakes():
    for config in (ChunkingConfig("recursive", 500, 50), ChunkingConfig("chars", 200, 0)):
        assert parse_chunking(chunking_slug(config)) == config
    assert parse_chunking("tokens:256:32") == ChunkingConfig("tokens", 256, 32)
    with pytest.raises(ConfigError, match="strategy-size-overlap"):
        parse_chunking("recursive")
    with pytest.raises(ConfigError, match="whole numbers"):
        parse_chunking("recursive-big-50")
    with pytest.raises(ConfigError, match="unknown option"):
        parse_chunking("recursive-500-50-sparkles")


def test_variants_check_count_and_chunker():
    base = [ChunkingConfig("recursive", 100 * (i + 1), 10) for i in range(MAX_CHUNKINGS + 1)]
    assert len(variants("b", base[:2] + base[:2])) == 2  # duplicates once
    with pytest.raises(ConfigError, match="at most 5"):
        variants("b", base)
    with pytest.raises(ConfigError, match="at least one"):
        variants("b", [])
    with pytest.raises(ConfigError):
        variants("b", [ChunkingConfig("recursive", 100, 200)])  # overlap >= size: the chunker says why
    with pytest.raises(ConfigError, match="not allowed"):
        variants("../up", base[:1])


def test_replace_keeps_the_old_generation_live_until_saved(tmp_path):
    directory = tmp_path / "idx"
    hashing_index(directory)
    old = rindex.live_generation(directory).name
    with pytest.raises(IndexMismatchError):  # adding with another chunking is still refused
        rindex.open_for_ingest(directory, "hashing", "numpy", ChunkingConfig(size=120, overlap=10))
    assert "chunking recursive-300-30 → recursive-120-10" in replaces(directory, "hashing", "numpy",
                                                                       ChunkingConfig(size=120, overlap=10))
    fresh = open_for_replace(directory, create_embedder("hashing"), "numpy", ChunkingConfig(size=120, overlap=10))
    fresh.ingest(fact_documents())
    assert rindex.live_generation(directory).name == old  # readers still see the old index
    assert Index.open(directory).manifest.chunking.size == 300
    fresh.save()
    reopened = Index.open(directory)
    assert reopened.manifest.chunking.size == 120 and reopened.store.count() == fresh.store.count()
    assert set(reopened.manifest.sources) == set(FACTS)


def test_replace_is_refused_when_another_writer_saved_in_between(tmp_path):
    directory = tmp_path / "idx"
    hashing_index(directory)
    fresh = open_for_replace(directory, create_embedder("hashing"), "numpy", ChunkingConfig(size=120, overlap=10))
    other = Index.open(directory)
    other.ingest(fact_documents({"extra.md": "Another writer added this file about volcanoes."}))
    other.save()
    fresh.ingest(fact_documents())
    with pytest.raises(Exception, match="another writer"):
        fresh.save()
    assert "extra.md" in Index.open(directory).manifest.sources


def test_build_variant_reuses_an_identical_index_and_the_cache_serves_repeated_texts(tmp_path):
    embedder = create_embedder("hashing")
    docs = fact_documents()  # every fact is shorter than both sizes: one identical chunk under each
    a, b = variants("facts", [ChunkingConfig(size=400, overlap=20), ChunkingConfig(size=600, overlap=40)])
    first = build_variant(a, docs, embedder, "numpy", root=tmp_path)
    assert not first.reused and embedder.stats.misses == len(docs)
    second = build_variant(b, docs, embedder, "numpy", root=tmp_path)
    assert not second.reused and embedder.stats.misses == len(docs)  # nothing embedded again
    assert embedder.stats.hits == len(docs)
    again = build_variant(a, docs, embedder, "numpy", root=tmp_path)
    assert again.reused and again.index.store.count() == first.index.store.count()


def test_run_experiment_fills_every_cell_of_the_grid(tmp_path):
    chunkings = [ChunkingConfig(size=80, overlap=10), ChunkingConfig(size=160, overlap=10)]
    grid = [RetrievalSettings(top_k=1), RetrievalSettings(top_k=3, reranker="bm25")]
    started = []
    result = run_experiment("facts", fact_documents(), chunkings, grid, QUESTIONS, create_embedder("hashing"),
                            "numpy", root=tmp_path, on_build=lambda i, n, v: started.append((i, n, v.name)))
    assert started == [(0, 2, "facts--recursive-80-10"), (1, 2, "facts--recursive-160-10")]
    assert len(result.results) == 4
    assert {(r.index, r.settings) for r in result.results} == {(v.name, s) for v in result.variants for s in grid}
    assert result.cell("facts--recursive-80-10", grid[1]).settings == grid[1]
    rows = result.rows()
    assert [r["size"] for r in rows] == [80, 80, 160, 160]
    assert {r["retriever"] for r in rows} == {"top-k 1 · reranker none", "top-k 3 · reranker bm25"}
    assert result.best().mrr == max(r.mrr for r in result.results)
    for metric in ("mrr", "hit_rate"):  # each cell against the best by the same metric
        marks = [r["vs_best"] for r in result.rows(metric)]
        assert [m["is_best"] for m in marks] == [r is result.best(metric) for r in result.results]
        assert all(m["metric"] == metric for m in marks)
    rerun = run_experiment("facts", fact_documents(), chunkings, grid, QUESTIONS, create_embedder("hashing"),
                           "numpy", root=tmp_path)
    assert set(rerun.reused) == {v.name for v in result.variants}


def test_retriever_label_names_only_what_varies():
    grid = [RetrievalSettings(top_k=5), RetrievalSettings(top_k=5, reranker="rrf")]
    assert varying_fields(grid) == ["reranker"]
    assert varying_label(grid[1], varying_fields(grid)) == "reranker rrf"
    assert "k=5" in varying_label(grid[0], [])  # nothing varies: the full setting


def test_query_embedding_column_says_cached_instead_of_zero(tmp_path):
    index = hashing_index(tmp_path / "idx")
    first = compare_indexes({"a": index}, QUESTIONS, RetrievalSettings(top_k=2))[0]
    assert first.embed_cached == 0 and first.embed_text != "cached"
    again = compare_indexes({"a": index}, QUESTIONS, RetrievalSettings(top_k=2))[0]
    assert again.embed_cached == len(QUESTIONS) and again.embed_text == "cached"
    assert again.row()["embed_cached"] == len(QUESTIONS)


def test_bundled_sets_by_name():
    assert len(bundled_question_set("demo")) >= 40 and len(bundled_question_set("demo-hard")) >= 100
    with pytest.raises(ConfigError, match="demo-hard"):
        bundled_question_set("nope")


def test_open_to_build_adds_when_settings_match_and_replaces_only_when_asked(tmp_path):
    directory = tmp_path / "idx"
    hashing_index(directory)  # hashing, numpy, recursive 300/30
    same, replacing = open_to_build(directory, "hashing", "numpy", None, replace=True)
    assert not replacing and same.base_generation == rindex.live_generation(directory).name and same.store.count() > 0  # adds
    with pytest.raises(IndexMismatchError, match="same settings"):
        open_to_build(directory, "hashing", "numpy", ChunkingConfig(size=120, overlap=10))
    fresh, replacing = open_to_build(directory, None, None, ChunkingConfig(size=120, overlap=10), replace=True)
    assert replacing and fresh.store.count() == 0 and fresh.manifest.embedder == "hashing" and fresh.manifest.store == "numpy"
    fresh.ingest(fact_documents())
    fresh.save()
    assert Index.open(directory).manifest.chunking.size == 120


def test_question_set_from_name_or_path(tmp_path):
    from rag_core.evaluation.evaluate import question_set_from

    assert question_set_from(None).name == "demo questions"
    assert question_set_from("demo-hard").name == "demo questions (hard)"
    path = tmp_path / "mine.jsonl"
    path.write_text('{"question": "q?", "relevant_sources": ["a.md"]}\n')
    assert len(question_set_from(str(path))) == 1


def test_headers_variant_is_named_parsed_and_built_where_indexes_take_it(tmp_path):
    from rag_core.evaluation.experiments import Chunking, headers_supported, parse_variant

    chunking = Chunking(ChunkingConfig(size=500, overlap=50), headers=True)
    assert variant_name("b", chunking) == "b--recursive-500-50-headers"
    assert variant_name("b", chunking) != variant_name("b", chunking.config)
    if not headers_supported():
        with pytest.raises(ConfigError, match="no contextual headers"):
            parse_variant("recursive-500-50-headers")
        return
    assert parse_variant("recursive-500-50-headers") == chunking
    (variant,) = variants("b", [chunking])
    built = build_variant(variant, fact_documents(), create_embedder("hashing"), "numpy", root=tmp_path)
    assert Index.open(tmp_path / variant.name).manifest.headers is True
    again = build_variant(variant, fact_documents(), create_embedder("hashing"), "numpy", root=tmp_path)
    assert again.reused and not built.reused


def _own_variant_then_changed(tmp_path, change):
    """An experiment builds facts--recursive-80-10; then `change(directory)` alters that index by hand."""
    from rag_core.core.errors import ConfigError
    from rag_core.evaluation.experiments import REPLACE_REFUSED

    chunkings = [ChunkingConfig(size=80, overlap=10), ChunkingConfig(size=160, overlap=10)]
    grid = [RetrievalSettings(top_k=1)]
    embedder = create_embedder("hashing")
    docs = fact_documents()
    run_experiment("facts", docs, chunkings, grid, QUESTIONS, embedder, "numpy", root=tmp_path)
    directory = tmp_path / "facts--recursive-80-10"
    change(directory)
    held = sorted(rindex.read_manifest(directory).sources)
    with pytest.raises(ConfigError, match="changed since an experiment built it") as refused:
        run_experiment("facts", docs, chunkings, grid, QUESTIONS, embedder, "numpy", root=tmp_path)
    assert refused.value.kind == REPLACE_REFUSED and "--replace" in str(refused.value)
    assert sorted(rindex.read_manifest(directory).sources) == held  # nothing was changed
    return directory


def test_an_experiment_variant_someone_added_documents_to_is_not_rebuilt_silently(tmp_path):
    """Issue 16 item 9: the provenance names the index the experiment saved (its fingerprint), so
    a variant that was ingested into by hand afterwards is no longer the experiment's to replace."""
    from rag_core.core.types import Document

    def add_notes(directory):
        index = rindex.open_for_ingest(directory, "hashing")
        index.ingest([Document(f"note{n}.md", "n", f"Harbour log {n}: ships and tides.") for n in range(30)])
        index.save()

    directory = _own_variant_then_changed(tmp_path, add_notes)
    assert len(rindex.read_manifest(directory).sources) == len(FACTS) + 30


def test_an_experiment_variant_rebuilt_by_hand_under_its_name_is_not_rebuilt_silently(tmp_path):
    from rag_core.core.types import Document

    def rebuild(directory):
        index = open_for_replace(directory, create_embedder("hashing"), "numpy", ChunkingConfig(size=80, overlap=10))
        index.ingest([Document(f"mine{n}.md", "n", f"My own note {n} about the harbour.") for n in range(5)])
        index.save()

    _own_variant_then_changed(tmp_path, rebuild)
