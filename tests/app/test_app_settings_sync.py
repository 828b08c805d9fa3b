"""What you see is what runs (issue 17): the settings the next turn would run with are the ones the
widgets show, the URL carries and the config download holds, after every kind of change."""

from __future__ import annotations

import tomllib
from pathlib import Path

from helpers import app_errors as errors
from streamlit.testing.v1 import AppTest
from test_app_share import _bytes, downloads, indexes  # noqa: F401  (the same fixtures as the share tests)

ROOT = Path(__file__).resolve().parents[2]


def chat() -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.switch_page("pages/chat.py").run()
    assert not errors(at), errors(at)
    return at


def config_of(downloads) -> dict:
    return tomllib.loads(_bytes(downloads["config_toml"]).decode())


def test_the_url_and_the_config_download_follow_each_change_at_once(indexes, downloads):
    at = chat()
    at.sidebar.selectbox(key="w:method").set_value("bm25 (whole index)").run()
    assert at.query_params["mode"] == "bm25"
    assert config_of(downloads)["retrieval"]["mode"] == "bm25"
    at.sidebar.slider(key="w:top_k").set_value(8).run()
    at.sidebar.selectbox(key="w:method").set_value("dense").run()
    assert at.query_params["top_k"] == "8" and at.query_params["mode"] == "dense"
    retrieval = config_of(downloads)["retrieval"]
    assert retrieval["top_k"] == 8 and retrieval["mode"] == "dense"


def test_chat_settings_survive_leaving_the_page(indexes):
    at = chat()
    at.sidebar.selectbox(key="w:index").set_value("small").run()
    at.sidebar.selectbox(key="w:method").set_value("bm25 (whole index)").run()
    at.sidebar.checkbox(key="w:use_mmr").check().run()
    at.switch_page("pages/settings.py").run()
    at.switch_page("pages/chat.py").run()
    assert at.sidebar.selectbox(key="w:index").value == "small"
    assert at.sidebar.selectbox(key="w:method").value == "bm25 (whole index)"
    assert at.sidebar.checkbox(key="w:use_mmr").value is True

