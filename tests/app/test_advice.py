"""Reasons as data, worded at the edge (issue 10, item 4): the core gives a kind and the values
involved; the CLI's advice names its flags, the app's names its controls and never a flag or a
server path."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from helpers import app_errors
from streamlit.testing.v1 import AppTest

from rag_core.cli import advice as cli_advice
from rag_core.cli import main
from rag_core.ingest.crawl import UrlStatus
from rag_core.core.errors import ConfigError, IndexMismatchError, RagError, StoreError, TemplateError
from rag_core.index.index import Index, open_for_ingest
from rag_core.ingest.loaders import FileStatus, load_bytes
from rag_core.answer.prompts import validate_template
from ui import advice as app_advice

ROOT = Path(__file__).resolve().parents[2]
FLAG = re.compile(r"(?<![\w-])--[a-z][a-z-]+")


def _build(directory: Path) -> None:
    """A small numpy index at `directory`, through the CLI."""
    doc = directory.parent / "kenya.md"
    doc.write_text("# Kenya\n\n" + "Nairobi is the capital of Kenya, a country in East Africa. " * 5)
    assert main(["ingest", str(doc), "--index", str(directory), "--embedder", "hashing", "--store", "numpy",
                 "--quiet"]) == 0


def _file(kind: str, text: str, **values) -> FileStatus:
    return FileStatus("a.txt", "skipped", text, 0, 10, kind, values)


REASONS = [
    (_file("file_too_large", "3.0 MB is over the 2 MB limit", size_mb=3.0, limit_mb=2.0), "--max-file-mb",
     "upload the parts"),
    (_file("total_limit", "total size limit reached: 0.5 MB left", left_mb=0.5), "--max-total-mb", "fewer files"),
    (UrlStatus("http://127.0.0.1/", "skipped", "private address: resolves to loopback address 127.0.0.1",
               kind="private_address"), "--allow-private", "RAG_ALLOW_PRIVATE_URLS=1"),
    (UrlStatus("http://x/a/b/c", "skipped", "depth limit: 3 links from a seed, over the limit of 2",
               kind="depth_limit", values={"depth": 3, "limit": 2}), "--depth 2", "depth setting (2)"),
    (UrlStatus("http://x/p", "skipped", "page limit: 5 pages reached", kind="page_limit", values={"limit": 5}),
     "--max-pages 5", "max pages (5)"),
]


@pytest.mark.parametrize("status, cli_words, app_words", REASONS, ids=lambda v: getattr(v, "kind", None))
def test_a_reason_is_worded_with_the_flag_in_the_cli_and_without_in_the_app(status, cli_words, app_words):
    cli, app = cli_advice.reason(status), app_advice.reason(status)
    assert cli_words in cli and not FLAG.search(app) and app_words in app
    assert cli != app and not FLAG.search(status.reason)  # the core's default wording names no flag


def test_the_loaders_report_a_too_big_file_as_data():
    (status,) = load_bytes("big.txt", b"x" * 3 * 1024 * 1024, max_bytes=2 * 1024 * 1024).files
    assert status.kind == "file_too_large" and status.values == {"size_mb": 3.0, "limit_mb": 2.0}
    assert app_advice.reason(status) == "3.0 MB is over the 2 MB limit; split the file and upload the parts"


def test_index_errors_carry_kind_path_and_name(tmp_path):
    missing = tmp_path / "nowhere" / "notes"
    with pytest.raises(StoreError) as caught:
        Index.open(missing)
    exc = caught.value
    assert exc.kind == "no_index" and exc.values == {"path": str(missing), "name": "notes"}
    cli, app = cli_advice.error_text(exc, str(exc)), app_advice.error_text(exc, str(exc))
    assert f"--index {missing}" in cli and str(missing) in cli
    assert "“notes”" in app and str(tmp_path) not in app and not FLAG.search(app)


def test_a_settings_clash_names_the_cli_flag_or_the_app_control(tmp_path):
    _build(tmp_path / "idx")
    with pytest.raises(IndexMismatchError) as caught:
        open_for_ingest(tmp_path / "idx", "hashing", "faiss")
    exc = caught.value
    assert exc.kind == "index_settings" and exc.values["built_with"] == "store numpy"
    cli, app = cli_advice.error_text(exc, str(exc)), app_advice.error_text(exc, str(exc))
    assert cli.endswith("or choose a new --index directory") and str(tmp_path) in cli
    assert "“idx”" in app and "new index name" in app and str(tmp_path) not in app and not FLAG.search(app)


def test_an_index_error_of_a_kind_without_a_template_still_hides_the_path(tmp_path):
    exc = StoreError(f"something odd at {tmp_path}/notes", kind="something_new", path=f"{tmp_path}/notes",
                     name="notes")
    assert app_advice.error_text(exc, str(exc)) == "something odd at “notes”"


def test_errors_without_a_kind_keep_their_words():
    exc = ConfigError("top-k must be at least 1")
    assert exc.kind == "" and exc.values == {}
    assert cli_advice.error_text(exc, str(exc)) == app_advice.error_text(exc, str(exc)) == str(exc)
    assert RagError("x", kind="k", a=1).values == {"a": 1}


def test_a_template_error_has_its_own_class():
    with pytest.raises(TemplateError) as caught:
        validate_template("no placeholders here")
    assert isinstance(caught.value, ConfigError) and caught.value.kind == "template"
    assert "Reset to default" in app_advice.error_text(caught.value, str(caught.value))


def test_the_app_shows_an_index_error_with_the_name_not_the_server_path(app_root):
    """Index page: building into an existing index with another store asks to replace it (issue 12),
    naming the index, never its server path; the build waits for the confirmation."""
    app_root.mkdir(parents=True, exist_ok=True)
    _build(app_root / "notes")
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.switch_page("pages/index.py").run()
    at.selectbox(key="w:embedder").set_value("hashing")
    at.selectbox(key="w:store").set_value("faiss")
    at.text_input(key="w:index_name").set_value("notes").run()
    assert not app_errors(at), app_errors(at)
    warning = next(w.value for w in at.warning if "exists with other settings" in w.value)
    assert "**notes**" in warning and "store numpy → faiss" in warning
    assert str(app_root) not in warning and not FLAG.search(warning)
    assert at.button(key="build").disabled


def test_the_app_lists_a_damaged_index_by_name_not_path(app_root):
    app_root.mkdir(parents=True, exist_ok=True)
    _build(app_root / "notes")
    (app_root / "notes" / "CURRENT").write_text("../../etc/passwd")
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.switch_page("pages/index.py").run()
    shown = " ".join(str(e.label) for e in at.expander) + " ".join(
        str(v) for d in at.dataframe for v in d.value.get("problem", []))
    assert "“notes” is damaged" in shown and str(app_root) not in shown


def test_a_full_disk_is_worded_without_the_server_path(tmp_path):
    import errno
    import os

    from rag_core.core.files import write_error

    exc = write_error(OSError(errno.ENOSPC, os.strerror(errno.ENOSPC)), tmp_path / "notes" / ".staging-1")
    assert exc.kind == "disk_full" and exc.values["path"] == str(tmp_path / "notes" / ".staging-1")
    assert str(tmp_path) in cli_advice.error_text(exc, str(exc))  # the CLI's user owns the path
    app = app_advice.error_text(exc, str(exc))
    assert "disk is full" in app and str(tmp_path) not in app


def test_a_store_file_error_in_the_app_names_the_index_not_the_path(app_root):
    app_root.mkdir(parents=True, exist_ok=True)
    _build(app_root / "notes")
    generation = app_root / "notes" / (app_root / "notes" / "CURRENT").read_text().strip()
    next(p for p in generation.iterdir() if p.suffix == ".npy").unlink()
    with pytest.raises(StoreError) as caught:
        Index.open(app_root / "notes")
    exc = caught.value
    assert exc.kind == "index_file" and exc.values["name"] == "notes" and str(app_root) in str(exc)
    app = app_advice.error_text(exc, str(exc))
    assert "“notes”" in app and str(app_root) not in app
    other = StoreError(f"the BM25 index in {app_root}/notes/gen-1 is unreadable")  # no kind: still no root
    assert str(app_root) not in app_advice.error_text(other, str(other))
