"""AppTest for the Explore page: the variance the map keeps is said, the query's hits are listed
with their true scores, a large index is sampled (and says so), and the legend never lists more
than LEGEND_MAX + "other" colours."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import numpy as np
import pytest
from helpers import app_errors as errors
from streamlit.testing.v1 import AppTest

from rag_core.ingest.demo import demo_documents
from rag_core.embeddings import create_embedder
from rag_core.evaluation.explore import LEGEND_MAX, MAX_POINTS
from rag_core.index.index import Index
from rag_core.retrieval import Retriever
from rag_core.core.types import Chunk, ChunkingConfig, RetrievalSettings

ROOT = Path(__file__).resolve().parents[2]
BIG = MAX_POINTS + 1_000


@pytest.fixture
def demo_slice(app_root):
    """60 demo articles (several topics) with the hashing embedder: quick to build."""
    docs = demo_documents()
    picked = docs[:30] + docs[-30:]
    index = Index.create(app_root / "small", create_embedder("hashing"), "numpy", ChunkingConfig(size=400, overlap=40))
    index.ingest(picked)
    index.save()
    return app_root / "small"


@pytest.fixture
def big_index(app_root):
    """BIG chunks over 30 folders, vectors generated with structure (no embedding: fast)."""
    rng = np.random.default_rng(0)
    embedder = create_embedder("hashing")
    folder = rng.integers(0, 30, BIG)
    centres = rng.normal(size=(30, embedder.dim)).astype(np.float32)
    vectors = centres[folder] + rng.normal(scale=2.0, size=(BIG, embedder.dim)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    chunks = [Chunk(f"docs/f{f:02d}/file{i % 7}.md", f"part {i}", f"chunk number {i} about topic {f}", 0, 10, f"d{i}")
              for i, f in enumerate(folder)]
    index = Index.create(app_root / "big", embedder, "numpy")
    index.store.add(chunks, vectors)
    index.save()
    return app_root / "big"


def explore(index_name: str, query: str = "", view: str | None = None) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=90)
    at.switch_page("pages/explore.py").run()
    at.selectbox(key="explore_index").set_value(index_name).run()
    if query:
        at.text_input(key="w:explore_query").set_value(query).run()
    if view:
        at.radio(key="w:explore_view").set_value(view).run()
    assert not errors(at), errors(at)
    return at


def captions(at: AppTest) -> str:
    return "\n".join(c.value for c in at.caption)


def figure(at: AppTest) -> dict:
    return json.loads(at.get("plotly_chart")[0].proto.spec)


def points(trace: dict) -> int:
    """How many points a trace draws (plotly sends numeric arrays as base64 typed arrays)."""
    xs = trace["x"]
    if isinstance(xs, dict):
        return len(base64.b64decode(xs["bdata"])) // np.dtype(xs["dtype"]).itemsize
    return len(xs)


def colour_traces(at: AppTest) -> list[dict]:
    return [t for t in figure(at)["data"] if t.get("meta") == "colour"]


def test_explore_says_how_much_variance_the_map_keeps_and_colours_by_topic(demo_slice):
    at = explore("small")
    text = captions(at)
    assert "This 2-D PCA map keeps" in text and "% of the variance" in text
    assert "Colour = topic" in text and "Showing all 116 chunks (the index holds 60 sources)" in text
    axis = figure(at)["layout"]["xaxis"]["title"]["text"]
    assert axis.startswith("PC1 (") and "of variance" in axis
    names = {t["name"] for t in colour_traces(at)}
    assert "Geography" in names and len(names) <= LEGEND_MAX + 1


def test_hits_table_shows_the_true_scores_and_where_the_map_draws_them(demo_slice):
    at = explore("small", "What is the capital of Kenya?")
    assert any(m.value == "**Top 5 hits**" for m in at.markdown)
    table = at.dataframe[0].value
    index = Index.open(demo_slice, embedder=create_embedder("hashing"))
    truth = Retriever(index).retrieve("What is the capital of Kenya?", RetrievalSettings(top_k=5, mode="dense")).hits
    assert list(table["rank"]) == [1, 2, 3, 4, 5]
    assert np.allclose(table["score"], [round(h.score, 4) for h in truth])
    assert set(table["score is"]) == {"cosine"} and table["nearest on map"].min() >= 1
    assert "Distances on a 2-D projection are approximate" in captions(at)
    traces = figure(at)["data"]
    labels = next(t for t in traces if t.get("mode") == "text")["text"]
    assert labels == [f"{h.score:.2f}" for h in truth]  # lines query -> hit carry the true score


def test_the_view_around_the_query_puts_the_top_hit_nearest(demo_slice):
    at = explore("small", "What is the capital of Kenya?", view="query")
    text = captions(at)
    assert "Distance from the star is exactly 1 − cosine similarity" in text
    assert "hit #1 is drawn as the 1st nearest" in text
    table = at.dataframe[0].value
    assert table.loc[table["rank"] == 1, "nearest on map"].item() == 1


def test_a_large_index_is_sampled_says_so_and_keeps_a_short_legend(big_index):
    at = explore("big", "chunk number 42 about topic 3")
    text = captions(at)
    assert f"Showing {MAX_POINTS:,}" in text and f"of {BIG:,} chunks" in text and "stratified by colour" in text
    assert "Colour = folder: the 10 largest of 30 named" in text
    traces = colour_traces(at)
    assert len(traces) <= LEGEND_MAX + 1 and traces[-1]["name"] == "other"
    drawn = sum(points(t) for t in traces)
    assert MAX_POINTS <= drawn <= MAX_POINTS + 5  # the sample, plus any hit outside it
    assert len(at.dataframe[0].value) == 5


def test_group_names_from_file_names_are_escaped_in_the_legend(tmp_path):
    from helpers import hashing_index

    from rag_core.evaluation.explore import build_map, pca_view
    from rag_core.core.types import Document
    from ui import explore as explore_ui

    docs = [Document("<b>bold.md", "", "some words about rivers"), Document("plain.md", "", "other words")]
    emap = build_map(hashing_index(tmp_path / "idx", documents=docs))
    names = {t.name for t in explore_ui.figure(emap, pca_view(emap)).data if t.meta == "colour"}
    assert names == {"&lt;b&gt;bold.md", "plain.md"}


def test_hits_frame_lists_every_score_only_when_a_hit_has_more_than_one():
    from rag_core.evaluation.explore import MapHit, MapView
    from rag_core.core.types import Hit
    from ui.explore import hits_frame

    chunk = Chunk("a.md", "A", "text", 0, 4, "d")
    dense = Hit(chunk, 0.61, "cosine", 1)
    reranked = Hit(chunk, 0.61, "cosine", 2).reranked(0.93, "rerank relevance", 1)

    def view(hit):
        return MapView("pca", np.array([0]), np.zeros((1, 2)), (0.0, 0.0), (MapHit(hit, 0, (0.0, 0.0), 3),),
                       (0.1, 0.05), 1)

    plain = hits_frame(view(dense))
    assert "all scores" not in plain and plain.loc[0, "score"] == 0.61 and plain.loc[0, "nearest on map"] == 3
    both = hits_frame(view(reranked))
    assert both.loc[0, "score is"] == "rerank relevance"
    assert both.loc[0, "all scores"] == "cosine 0.610 (#2), rerank relevance 0.930 (#1)"
