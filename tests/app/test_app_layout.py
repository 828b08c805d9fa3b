"""Layout a new user tripped on (issue 9, new user item 7): the Data page's documents table had
blank filler rows and its count columns cut off; the embedder and store choices did not say
what each one is for."""

from __future__ import annotations

import json
from pathlib import Path

import streamlit
from helpers import app_errors as errors
from hypothesis import given
from hypothesis import strategies as st
from streamlit.testing.v1 import AppTest

from rag_core.embeddings import EMBEDDERS
from rag_core.stores import STORES
from ui import providers
from ui.widgets import ROW_PX, table_height

ROOT = Path(__file__).resolve().parents[2]
GOOD = ("Big cats and small cats share many traits, from whiskers to the way they hunt at night. " * 4).encode()


@given(st.integers(0, 10**6))
def test_table_height_fits_the_rows_up_to_a_cap(n):
    height = table_height(n)
    assert height == ROW_PX * (min(max(n, 1), 11) + 1) + 3  # header + rows + border, no filler
    assert height <= table_height(11)


def test_documents_table_has_no_filler_rows_and_shows_the_counts(app_root, monkeypatch):
    heights: list[object] = []
    real = streamlit.dataframe

    def recording(data=None, *args, **kwargs):
        if data is not None and "word_count" in getattr(data, "columns", ()):
            heights.append(kwargs.get("height"))
        return real(data, *args, **kwargs)

    monkeypatch.setattr(streamlit, "dataframe", recording)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.switch_page("pages/data.py").run()
    at.file_uploader(key="uploads").set_value([("cats.txt", GOOD, "text/plain")]).run()
    assert not errors(at), errors(at)
    assert heights == [table_height(1)] and table_height(1) == 2 * ROW_PX + 3  # one row: no blank rows under it
    table = next(d for d in at.dataframe if "word_count" in d.value.columns)
    columns = json.loads(table.proto.columns)
    for name in ("word_count", "char_count"):  # numbers in a fixed width the text column cannot take
        assert columns[name]["type_config"]["type"] == "number" and isinstance(columns[name]["width"], int)
    assert sum(c["width"] for c in columns.values() if "width" in c) <= 800  # fits a laptop's wide layout


def test_every_embedder_and_store_says_what_it_is_for():
    for name in providers.EMBEDDER_CHOICES:
        assert len(EMBEDDERS.describe(name)) > 30, name
    for name in STORES.names():
        assert len(STORES.describe(name)) > 30, name
    assert "lexical" in EMBEDDERS.describe("hashing") and "approximate" in STORES.describe("faiss-hnsw")
    assert EMBEDDERS.describe("no-such-thing") == ""


def test_index_page_shows_what_the_chosen_embedder_and_store_are_for(app_root):
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.switch_page("pages/index.py").run()
    at.selectbox(key="w:embedder").set_value("hashing")
    at.selectbox(key="w:store").set_value("faiss-hnsw").run()
    assert not errors(at), errors(at)
    captions = [c.value for c in at.caption]
    assert EMBEDDERS.describe("hashing") in captions and STORES.describe("faiss-hnsw") in captions
    store_help = at.selectbox(key="w:store").help
    assert all(f"**{n}**: {STORES.describe(n)}" in store_help for n in ("numpy", "faiss", "faiss-hnsw"))
