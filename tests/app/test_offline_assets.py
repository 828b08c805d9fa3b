"""An offline app asks nothing of the internet (issue 9, new user item 8): the favicon is a file
shipped with the app (a `:material/...:` page icon makes the browser fetch an SVG from
fonts.gstatic.com), and the Streamlit config sends no usage statistics and names no outside
font or asset. tests/app/test_browser.py checks the same in a real browser, request by request."""

from __future__ import annotations

import tomllib
from pathlib import Path

import streamlit
from helpers import app_errors as errors
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[2]


def test_every_page_sets_a_shipped_favicon_file(app_root, monkeypatch):
    icons: list[object] = []
    real = streamlit.set_page_config

    def recording(*args, **kwargs):
        icons.append(kwargs.get("page_icon"))
        return real(*args, **kwargs)

    monkeypatch.setattr(streamlit, "set_page_config", recording)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    for name in ("data", "settings"):
        at.switch_page(f"pages/{name}.py").run()
        assert not errors(at), errors(at)
    assert icons, "set_page_config was never called"
    for icon in icons:
        path = Path(str(icon))
        assert path.is_absolute() and path.is_file(), f"page icon {icon!r} is not a shipped file"
        assert ROOT in path.resolve().parents
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_streamlit_config_keeps_the_browser_offline():
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["browser"]["gatherUsageStats"] is False
    theme = config.get("theme", {})
    assert not {"font", "fontFaces", "headingFont", "codeFont", "bodyFont"} & set(theme), theme
    text = (ROOT / ".streamlit" / "config.toml").read_text()
    assert "http://" not in text and "https://" not in text
