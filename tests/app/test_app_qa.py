"""Findings of a new-user QA walk through the app in a real browser, one test per fix."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from helpers import app_errors, fact_documents, hashing_index
from streamlit.testing.v1 import AppTest

from rag_core.costs import TurnCosts
from rag_core.ingest.demo import SAMPLE_QUESTIONS
from rag_core.embeddings import create_embedder
from rag_core.index.index import Index
from rag_core.core.types import Answer, Chunk, ChunkingConfig, Hit, RetrievalSettings, Usage
from ui import compare, state


def _hit(n: int, rank: int) -> Hit:
    return Hit(Chunk(f"doc{n}.md", "s", f"text number {n}", n * 20, n * 20 + 14, f"d{n}"), 0.5, "cosine", rank)


def _entry(ids: list[int]) -> state.ChatEntry:
    hits = tuple(_hit(i, r) for r, i in enumerate(ids, start=1))
    answer = Answer(question="q", text="a", hits=hits, prompt="p", usage=Usage(), settings=RetrievalSettings())
    return state.ChatEntry(answer, "demo", False, TurnCosts())


def test_blind_swapped_diff_reads_left_before_right():
    """A blind turn that drew B on the left showed the diff as 'rank Right | rank Left' and
    'only by Right' first: the table read in the opposite order to the columns above it."""
    a, b = _entry([1, 2]), _entry([2, 3])
    entry = compare.CompareEntry("q", a, b, "A cfg", "B cfg", blind=True, swapped=True)
    html = compare.diff_html(entry)
    heads = re.findall(r"<th[^>]*>([^<]*)</th>", html)
    assert heads == ["chunk", "rank Left", "rank Right", "Right vs Left"]
    assert html.index("only by Left") < html.index("only by Right")
    rows = compare.diff_rows(entry)
    # B (drawn Left) found doc3 alone; A (drawn Right) found doc1 alone
    only = {row[3]: row[0] for row in rows if row[3].startswith("only")}
    assert "doc3.md" in only["only Left"] and "doc1.md" in only["only Right"]
    both = [row for row in rows if not row[3].startswith("only")]
    assert both[0][1:] == ("[1]", "[2]", "down 1")  # doc2: Left rank 1 (B), Right rank 2 (A)


def test_unswapped_diff_keeps_a_then_b():
    entry = compare.CompareEntry("q", _entry([1, 2]), _entry([2, 3]), "A cfg", "B cfg")
    heads = re.findall(r"<th[^>]*>([^<]*)</th>", compare.diff_html(entry))
    assert heads == ["chunk", "rank A", "rank B", "B vs A"]


ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def demo_root(app_root):
    """A tiny stand-in for the demo index (hashing embedder), so Home lists its sample questions."""
    index = Index.create(app_root / "demo", create_embedder("hashing"), "numpy", ChunkingConfig(size=300, overlap=30))
    index.ingest(fact_documents())
    index.save()
    return app_root


def test_home_sample_questions_are_not_squeezed_into_five_columns(demo_root):
    """Five equal columns cut every sample question off after ~15 characters ("What is the capi…");
    they are one wrapping row of buttons as wide as their text."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    assert not app_errors(at), app_errors(at)
    keys = {f"sample_question_{n}" for n in range(len(SAMPLE_QUESTIONS))}
    assert {b.key for b in at.button} >= keys
    in_columns = {b.key for col in at.columns for b in col.button}
    assert not (in_columns & keys), in_columns & keys
    assert [at.button(key=k).label for k in sorted(keys)] == list(SAMPLE_QUESTIONS)


def test_replace_warning_is_gone_once_the_index_was_replaced(app_root):
    """After "Replace facts" + Build, the page said "Replaced facts" under a warning that the index
    still "exists with other settings": stale, and it contradicted the success just below it."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.session_state["staged_documents"] = fact_documents()
    at.switch_page("pages/index.py").run()
    at.selectbox(key="w:embedder").set_value("hashing")
    at.selectbox(key="w:store").set_value("numpy").run()
    hashing_index(app_root / "facts")  # size 300 / overlap 30
    at.text_input(key="w:index_name").set_value("facts")
    at.number_input(key="w:size").set_value(120).run()
    assert any("exists with other settings" in w.value for w in at.warning)
    next(c for c in at.checkbox if c.label == "Replace facts").check().run()
    at.button(key="build").click().run()
    assert not app_errors(at), app_errors(at)
    assert any(s.value.startswith("Replaced facts") for s in at.success)
    assert not any("exists with other settings" in w.value for w in at.warning), [w.value for w in at.warning]


def test_index_page_has_no_empty_column(app_root):
    """With one retrieval mode the experiment form kept an empty column left of Rerankers: a blank
    gap half the form wide."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.session_state["staged_documents"] = fact_documents()
    at.switch_page("pages/index.py").run()
    assert not app_errors(at), app_errors(at)
    assert at.multiselect(key="w:exp_rerankers")  # the experiment form is drawn
    empty = [n for n, col in enumerate(at.columns) if not col.children]
    assert not empty, f"empty columns at {empty}"


def test_explore_hits_table_names_the_chunk_before_the_details():
    """Beside the map the hits table is narrow: it showed rank, score, "score is" (always cosine) and an
    empty-looking "nearest on m…" column, with which chunk each hit is scrolled out of view."""
    import numpy as np

    from rag_core.evaluation.explore import MapHit, MapView
    from ui.explore import hits_frame

    hit = Hit(Chunk("rivers/amazon.md", "Amazon River", "text", 0, 4, "d"), 0.69, "cosine", 1)
    view = MapView("pca", np.array([0]), np.zeros((1, 2)), (0.0, 0.0), (MapHit(hit, 0, (0.0, 0.0), 2),),
                   (0.1, 0.05), 1)
    columns = list(hits_frame(view).columns)
    assert columns[:4] == ["rank", "score", "section", "source"], columns


def test_explore_sample_caption_does_not_claim_every_source_is_shown():
    """Around the query the caption read "Showing 200 of 464 chunks (from 450 sources)": the 200 points
    come from at most 200 sources."""
    from types import SimpleNamespace

    from ui.explore import sample_caption

    emap = SimpleNamespace(n_chunks=464, n_sources=450)
    around = sample_caption(emap, SimpleNamespace(kind="query", rows=range(200)))
    assert "from 450 sources" not in around and "200 nearest of 464" in around
    whole = sample_caption(emap, SimpleNamespace(kind="pca", rows=range(464)))
    assert whole.startswith("Showing all 464 chunks")


def test_evaluate_drill_down_shows_relevant_sources_without_stray_backslashes():
    """The drill-down read "relevant: https://en.wikipedia.org/wiki/Mount\\_Everest": an escaped
    underscore inside a `code span`, where markdown prints the backslash."""
    from types import SimpleNamespace

    from ui.evaluate import verdict_markdown

    q = SimpleNamespace(hit=False, first_relevant_rank=None,
                        relevant_sources=("https://en.wikipedia.org/wiki/Mount_Everest", "a`b*c.md"))
    line = verdict_markdown(q)
    for span in re.findall(r"`([^`]*)`", line):
        assert "\\" not in span, line
    assert "Mount" in line and "Everest" in line


def test_settings_refuses_a_metadata_base_url_as_soon_as_it_is_typed(app_root, monkeypatch):
    """http://169.254.169.254 typed as a base URL was shown as "typed here; it must be a public server
    (the operator can allow ... RAG_ALLOW_LOCAL_MODEL_SERVERS=1)": accepted-looking, with advice that
    cannot help (link-local stays refused). It is refused on the spot; a public URL is not."""
    for var in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "RAG_ALLOW_LOCAL_MODEL_SERVERS"):
        monkeypatch.delenv(var, raising=False)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.switch_page("pages/settings.py").run()
    at.text_input(key="url_input:openai").set_value("http://169.254.169.254").run()
    refused = [e.value for e in at.error if "refused" in e.value]
    assert refused and "169.254.169.254" in refused[0] and "metadata" in refused[0], [e.value for e in at.error]
    assert "RAG\\_ALLOW\\_LOCAL\\_MODEL\\_SERVERS" not in refused[0]
    at.text_input(key="url_input:openai").set_value("http://10.0.0.5:11434/v1").run()
    assert any("refused" in e.value and "RAG\\_ALLOW\\_LOCAL\\_MODEL\\_SERVERS" in e.value for e in at.error)
    at.text_input(key="url_input:openai").set_value("https://api.example.com/v1").run()
    assert not any("refused" in e.value for e in at.error), [e.value for e in at.error]


def test_config_import_states_its_real_size_limit(demo_root):
    """The config uploader showed only Streamlit's "1MB per file", but a configuration file is at
    most 256 KB (rag_core.answer.config.MAX_BYTES): the label says so."""
    from rag_core.answer.config import MAX_BYTES

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.switch_page("pages/chat.py").run()
    assert not app_errors(at), app_errors(at)
    labels = [u.label for u in at.get("file_uploader")]
    assert any("Import a configuration" in lab and f"{MAX_BYTES // 1024} KB" in lab for lab in labels), labels
