"""One checked range per retrieval setting (RETRIEVAL_BOUNDS): config files, links, CLI flags
and every widget use it, so a value one accepts never breaks another (issue 16, item 10)."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import app_errors as errors
from streamlit.testing.v1 import AppTest

from rag_core.answer import config as rconfig
from rag_core.ingest.demo import demo_documents
from rag_core.embeddings import create_embedder
from rag_core.core.errors import ConfigError
from rag_core.index.index import Index
from rag_core.core.types import RETRIEVAL_BOUNDS, ChunkingConfig, RetrievalSettings

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def demo(app_root):
    index = Index.create(app_root / "demo", create_embedder("hashing"), "numpy", ChunkingConfig(size=600, overlap=40))
    index.ingest(demo_documents()[:20])
    index.save()
    return app_root


def chat(query: dict[str, str] | None = None) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    for key, value in (query or {}).items():
        at.query_params[key] = value
    at.switch_page("pages/chat.py").run()
    return at


@pytest.mark.parametrize("name", sorted(RETRIEVAL_BOUNDS))
def test_a_config_file_takes_exactly_the_checked_range(name):
    low, high = RETRIEVAL_BOUNDS[name]
    for value in (low, high):
        assert getattr(rconfig.from_dict({"retrieval": {name: value}}).retrieval, name) == value
    step = 1 if isinstance(high, int) else 0.5
    with pytest.raises(ConfigError, match=name):
        rconfig.from_dict({"retrieval": {name: high + step}})


def test_a_link_with_the_largest_neighbours_a_config_allows_works(demo):
    high = RETRIEVAL_BOUNDS["neighbours"][1]
    at = chat({"neighbours": str(high)})
    assert not errors(at), errors(at)
    assert at.slider(key="w:neighbours").value == high
    assert at.slider(key="w:neighbours").max == high


def test_a_config_file_with_neighbours_4_keeps_chat_working(demo):
    at = chat()
    text = rconfig.dumps_toml(rconfig.PlaygroundConfig(retrieval=RetrievalSettings(neighbours=4, top_k=50)))
    at.file_uploader(key="config_upload").set_value(("x.toml", text.encode(), "application/toml")).run()
    assert not errors(at), errors(at)
    assert at.slider(key="w:neighbours").value == 4 and at.slider(key="w:top_k").value == 50


def test_mmr_lambda_zero_from_a_link_is_a_number(demo):
    at = chat({"mmr_lambda": "0"})
    assert not errors(at), errors(at)
    assert not any("mmr" in w.value for w in at.warning), [w.value for w in at.warning]
    assert at.checkbox(key="w:use_mmr").value is True and at.slider(key="w:mmr").value == 0.0


def test_every_chat_slider_draws_the_checked_range(demo):
    at = chat()
    at.checkbox(key="w:use_mmr").check().run()  # λ is shown only with MMR on (issue 17 item 9)
    for widget, field in (("top_k", "top_k"), ("threshold", "score_threshold"), ("alpha", "alpha"),
                          ("mmr", "mmr_lambda"), ("neighbours", "neighbours")):
        slider = at.slider(key=f"w:{widget}")
        assert (slider.min, slider.max) == RETRIEVAL_BOUNDS[field], widget


def test_a_page_recovers_once_a_bad_value_is_gone(demo):
    at = chat()
    at.session_state["w:neighbours"] = 99  # left by an older page, say
    at.session_state["p:neighbours"] = 99
    at.run()
    assert not errors(at), errors(at)
    assert at.slider(key="w:neighbours").value == RetrievalSettings().neighbours


@pytest.mark.parametrize("name, value", [("fusion", "<x>"), ("normalise", "zscore\u202e"), ("fusion", "RRF")])
def test_an_unknown_fusion_or_normalisation_is_refused_by_a_config_and_a_link(demo, name, value):
    """Hostile round: these were accepted from a link and failed only when a question was asked."""
    with pytest.raises(ConfigError, match=name):
        rconfig.from_dict({"retrieval": {name: value}})
    at = chat({name: value})
    assert not errors(at), errors(at)
    assert any(name in w.value for w in at.warning)


def test_a_config_import_applies_the_retriever_even_after_the_widget_was_used(demo):
    """Issue 17, finding 1 (a config import said "the settings above are the file's" while the
    retriever stayed as it was): the widgets' own keys are set, not only the field names."""
    at = chat()
    at.selectbox(key="w:method").set_value("hybrid (rrf)").run()
    at.checkbox(key="w:use_mmr").check().run()
    text = rconfig.dumps_toml(rconfig.PlaygroundConfig(retrieval=RetrievalSettings(mode="bm25", mmr_lambda=None,
                                                                                   neighbours=2)))
    at.file_uploader(key="config_upload").set_value(("x.toml", text.encode(), "application/toml")).run()
    assert not errors(at), errors(at)
    assert at.selectbox(key="w:method").value == "bm25 (whole index)"
    assert at.checkbox(key="w:use_mmr").value is False and at.slider(key="w:neighbours").value == 2
