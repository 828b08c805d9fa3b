"""The Explore map's core (rag_core/evaluation/explore.py): the variance it keeps, hits drawn with their true
scores and their place on the map, colour groups that mean something (never more than LEGEND_MAX
+ "other"), and a bounded, stratified sample that always holds the query's hits."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import hashing_index
from hypothesis import given, settings
from hypothesis import strategies as st

from rag_core.ingest.demo import demo_documents, demo_topics
from rag_core.evaluation.explore import (LEGEND_MAX, OTHER, TOP_LEVEL, build_map, colour_groups, pca_view, query_view,
                              stratified_sample)
from rag_core.evaluation.projection import top_two
from rag_core.retrieval import Retriever
from rag_core.core.types import Document, RetrievalSettings


def test_top_two_explained_is_the_variance_ratio_and_the_gram_path_agrees():
    rng = np.random.default_rng(3)
    tall = rng.normal(size=(300, 20)) * np.linspace(3, 0.1, 20)
    wide = rng.normal(size=(12, 40)) * np.linspace(3, 0.1, 40)
    for matrix in (tall, wide):
        _, components, explained = top_two(matrix)
        singular = np.linalg.svd(matrix - matrix.mean(axis=0), compute_uv=False)
        ratio = singular**2 / (singular**2).sum()
        assert np.allclose(explained, ratio[:2], atol=1e-6)
        assert np.allclose(np.linalg.norm(components, axis=1), 1.0, atol=1e-6)
        assert abs(float(components[0] @ components[1])) < 1e-6


def test_demo_topics_cover_every_demo_article():
    topics = demo_topics()
    assert {d.source for d in demo_documents()} <= set(topics)
    assert {"Geography", "People"} <= set(topics.values())


def test_demo_corpus_is_coloured_by_topic_with_a_capped_legend():
    sources = [d.source for d in demo_documents()]
    col = colour_groups(sources, demo_topics())
    assert col.kind == "topic" and col.categories == 12
    assert len(col.labels) == LEGEND_MAX + 1 and col.labels[-1] == OTHER and col.labels[0] == "Geography"
    assert len(col.codes) == len(sources) and col.codes.max() == len(col.labels) - 1


def test_few_sources_are_coloured_by_name():
    col = colour_groups(["a/x.md", "a/x.md", "b/y.pdf", "https://site.org/docs/page"])
    assert col.kind == "source" and set(col.labels) == {"x.md", "y.pdf", "page"}
    assert list(col.codes[:2]) == [col.labels.index("x.md")] * 2


def test_many_files_are_coloured_by_the_first_folder_below_their_common_one():
    sources = [f"/home/me/docs/{folder}/f{i}.md" for folder in ("alpha", "beta") for i in range(8)]
    sources += ["/home/me/docs/readme.md", "/home/me/docs/zip.zip!/inner/a.md"]
    col = colour_groups(sources)
    assert col.kind == "folder"
    assert set(col.labels) == {"…/alpha", "…/beta", TOP_LEVEL, "…/zip.zip"}


def test_a_crawl_of_one_site_is_coloured_by_site_section():
    sources = [f"https://docs.example.org/{part}/p{i}" for part in ("guide", "api", "blog") for i in range(6)]
    col = colour_groups(sources)
    assert col.kind == "site" and set(col.labels) == {"…/guide", "…/api", "…/blog"}
    sites = colour_groups([f"https://site{i}.org/p{j}" for i in range(14) for j in range(2)])
    assert sites.kind == "site" and sites.categories == 14 and sites.labels[-1] == OTHER


def test_hundreds_of_sources_in_one_folder_never_repeat_a_colour():
    col = colour_groups([f"notes/n{i}.txt" for i in range(450)])
    assert col.categories == 450 and len(col.labels) == LEGEND_MAX + 1 and col.labels[-1] == OTHER
    assert len(set(col.labels)) == len(col.labels)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(["a/b/c.md", "a/d.md", "x/y/z.txt", "https://h.org/p/q", "https://k.org/",
                                 "z.zip!/m/n.md", "top.md", "/abs/one.md", "/abs/two/three.md"]), min_size=0,
                max_size=60),
       st.integers(0, 30))
def test_colour_groups_invariants(sources, extra):
    sources = sources + [f"f{i % 17}/g{i}.md" for i in range(extra)]
    col = colour_groups(sources)
    assert len(col.codes) == len(sources)
    assert len(col.labels) <= LEGEND_MAX + 1 and len(set(col.labels)) == len(col.labels)
    if sources:
        assert col.codes.min() >= 0 and col.codes.max() < len(col.labels)
        assert set(np.unique(col.codes)) == set(range(len(col.labels)))  # no empty legend entry
    assert (OTHER in col.labels) == (col.categories > LEGEND_MAX + 1)


@settings(max_examples=80, deadline=None)
@given(st.lists(st.integers(0, 12), min_size=1, max_size=400), st.integers(1, 120))
def test_stratified_sample_invariants(codes, max_points):
    codes = np.array(codes)
    rows = stratified_sample(codes, max_points)
    assert len(rows) == min(len(codes), max_points)
    assert np.all(np.diff(rows) > 0) and (len(rows) == 0 or (rows[0] >= 0 and rows[-1] < len(codes)))
    groups, counts = np.unique(codes, return_counts=True)
    drawn = np.bincount(codes[rows], minlength=codes.max() + 1)[groups]
    if len(codes) > max_points:
        assert np.all(drawn >= np.minimum(counts, max_points // (2 * len(groups))))  # small groups stay visible
    assert np.array_equal(rows, stratified_sample(codes, max_points))  # seeded: the map does not jump


def _spread_documents(n: int = 60) -> list[Document]:
    words = ["river", "mountain", "city", "ocean", "desert", "forest", "island", "valley", "lake", "plain"]
    return [Document(f"folder{i % 12}/doc{i}.md", f"doc {i}",
                     " ".join(words[(i * k) % len(words)] for k in range(1, 9)) + f" item{i}") for i in range(n)]


def test_pca_view_draws_every_hit_even_outside_the_sample(tmp_path):
    index = hashing_index(tmp_path / "idx", documents=_spread_documents())
    emap = build_map(index, max_points=10)
    assert len(emap.sample) == 10 and emap.n_chunks == index.store.count()
    found = Retriever(index).retrieve("river ocean lake", RetrievalSettings(top_k=8, mode="dense"))
    view = pca_view(emap, found.query_vector, found.hits)
    hit_rows = {emap.rows[h.chunk.chunk_id] for h in found.hits}
    assert hit_rows <= set(view.rows.tolist()) and len(view.hits) == 8
    assert view.explained == emap.projection.explained and 0 < sum(view.explained) <= 1
    assert view.candidates == emap.n_chunks
    for placed in view.hits:  # drawn where the projection puts it, ranked among every chunk
        assert np.allclose(placed.xy, emap.projection.coords[placed.row])
        assert 1 <= placed.map_rank <= emap.n_chunks


def test_query_view_draws_true_similarity_and_the_top_hit_nearest(tmp_path):
    index = hashing_index(tmp_path / "idx", documents=_spread_documents())
    emap = build_map(index)
    found = Retriever(index).retrieve("desert forest island", RetrievalSettings(top_k=5, mode="dense"))
    view = query_view(emap, index.store, found.query_vector, found.hits, neighbours=30)
    assert view.kind == "query" and view.candidates == len(view.rows) == 30 and view.query_xy == (0.0, 0.0)
    distances = np.hypot(view.coords[:, 0], view.coords[:, 1])
    for placed in view.hits:  # distance from the query = 1 - the hit's true cosine score, exactly
        assert np.hypot(*placed.xy) == pytest.approx(1.0 - placed.hit.score, abs=1e-6)
        # The map never draws a clearly worse chunk nearer. Under ties it may: scores within 1e-5
        # of each other (float32's last bits, which differ across numpy/faiss versions and CPU
        # kernels) are the same distance, and either may be drawn first.
        clearly_nearer = int(np.sum(distances < np.hypot(*placed.xy) - 1e-5))
        assert clearly_nearer < placed.hit.rank, (clearly_nearer, placed.hit.rank)
    scores = np.array([h.score for h in index.store.search(found.query_vector, 30)])
    assert np.allclose(np.sort(np.hypot(view.coords[:, 0], view.coords[:, 1])), np.sort(1.0 - scores), atol=1e-6)
    assert 0 < sum(view.explained) <= 1 + 1e-6


def test_on_the_demo_corpus_the_query_view_puts_the_top_hit_among_the_ten_nearest(tmp_path):
    """The issue: on the PCA map the top hit is drawn far from the query. Around the query it is
    among the 10 nearest points for every demo question (hashing embedder here, for speed)."""
    import json

    from rag_core.ingest.demo import DEMO_FILE

    index = hashing_index(tmp_path / "demo", documents=demo_documents())
    emap = build_map(index, demo_topics())
    questions = [json.loads(line)["question"] for line in open(DEMO_FILE.parent / "questions.jsonl")][:20]
    near_pca = near_query = 0
    for question in questions:
        found = Retriever(index).retrieve(question, RetrievalSettings(top_k=5, mode="dense"))
        near_pca += pca_view(emap, found.query_vector, found.hits).hits[0].map_rank <= 10
        near_query += query_view(emap, index.store, found.query_vector, found.hits).hits[0].map_rank <= 10
    assert near_query == len(questions)
    assert near_pca < near_query
