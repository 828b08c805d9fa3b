"""AppTest for the Data page's crawl tab and upload path: a tiny site on 127.0.0.1 (allowed
by the operator setting RAG_ALLOW_PRIVATE_URLS, since it is loopback; visitors get no such
control), a crawl run to the end by re-running the script until its thread is done, Stop
keeping what was fetched, the loopback seed refused without the setting, an offline crawl
shown as a warning naming the cause, hostile page text shown as text, and uploads with a
zip, a duplicate, a docx, a csv text-column choice and the total size limit."""

from __future__ import annotations

import contextlib
import io
import re
import threading
import time
import zipfile
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from helpers import app_errors as errors
from streamlit.testing.v1 import AppTest
from test_files import make_docx

from rag_core.core.errors import ConfigError
from rag_core.core.settings import OperatorSettings

ROOT = Path(__file__).resolve().parents[2]
XSS = "<script>alert(1)</script><img src=x onerror=alert(1)>"
PROSE = ("Crawled pages become documents that the playground chunks, embeds and retrieves, and this "
         "sentence is long enough that the content filter keeps the page it sits on. ")
SLOW_PAGES = 8
SLOW_SECONDS = 0.25


def _html(title: str, body: str) -> bytes:
    return f"<!doctype html><html><head><title>{title}</title></head><body><main>{body}</main></body></html>".encode()


def _escaped(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


PAGES = {
    "/": _html("Home", f"<h1>Home</h1><p>{PROSE}</p><a href='/guide'>Guide</a> <a href='/evil'>Evil</a> "
                       f"<a href='/notes.txt'>Notes</a> <a href='/missing'>Missing</a>"),
    "/guide": _html("Guide", f"<h1>Guide</h1><p>{PROSE}Read it twice.</p>"),
    # entities in the HTML are text once extracted; the real <script> tag must simply vanish
    "/evil": _html("Evil", f"<h1>Evil page</h1><script>alert('tag')</script>"
                           f"<p>{PROSE}Payload: {_escaped(XSS)} and more words after it.</p>"),
    "/notes.txt": (f"Plain notes with markup inside: {XSS} " + PROSE).encode(),
    "/slow/": _html("Slow", f"<h1>Slow index</h1><p>{PROSE}</p>"
                            + "".join(f"<a href='/slow/{i}'>page {i}</a> " for i in range(1, SLOW_PAGES + 1))),
    **{f"/slow/{i}": _html(f"Slow {i}", f"<h1>Slow page {i}</h1><p>{PROSE}Number {i}.</p>")
       for i in range(1, SLOW_PAGES + 1)},
}


@contextlib.contextmanager
def serve() -> Iterator[tuple[str, list[str]]]:
    seen: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

        def do_GET(self) -> None:
            seen.append(self.path)
            body = PAGES.get(self.path)
            if self.path.startswith("/slow/") and self.path != "/slow/":
                time.sleep(SLOW_SECONDS)
            status = 200 if body is not None else 404
            body = body if body is not None else b"<h1>Not found</h1>"
            kind = "text/plain; charset=utf-8" if self.path.endswith(".txt") else "text/html; charset=utf-8"
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            with contextlib.suppress(OSError):
                self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", seen
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def site():
    with serve() as (base, seen):
        yield base, seen


@pytest.fixture
def app(app_root, monkeypatch, tmp_path) -> Iterator[AppTest]:
    from ui import crawl

    # off, whatever the test runner's environment says; monkeypatch restores it after the test
    # (also when start_crawl switches it on)
    monkeypatch.setenv("RAG_ALLOW_PRIVATE_URLS", "0")
    monkeypatch.setattr(crawl, "SECRETS_PATH", tmp_path / "secrets.toml", raising=False)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=30)
    at.switch_page("pages/data.py").run()
    assert not errors(at), errors(at)
    yield at
    if "crawl_job" in at.session_state:  # never leave a crawl thread behind
        job = at.session_state["crawl_job"]
        job.stop.set()
        job.thread.join(10)




def start_crawl(at: AppTest, urls: str, *, allow_private: bool, depth: int = 1, concurrency: int = 2) -> None:
    """`allow_private` is the operator's setting (the environment), never a widget."""
    import os

    at.text_area(key="w:crawl_urls").set_value(urls)
    at.number_input(key="w:crawl_depth").set_value(depth)
    at.number_input(key="w:crawl_delay").set_value(0.0)
    at.number_input(key="w:crawl_concurrency").set_value(concurrency)
    if allow_private:
        os.environ["RAG_ALLOW_PRIVATE_URLS"] = "1"  # undone by the app fixture's monkeypatch
    at.run()
    assert any("server-side request forgery" in w.value for w in at.warning) == allow_private
    at.button(key="crawl_start").click().run()
    assert not errors(at), errors(at)


def job(at: AppTest):
    return at.session_state["crawl_job"]


def wait_until(at: AppTest, done, timeout: float = 10.0) -> None:
    """Re-run the script (as the polling fragment would) until `done(job)` or the timeout."""
    deadline = time.monotonic() + timeout
    while not done(job(at)):
        assert time.monotonic() < deadline, "the crawl did not get there in time"
        time.sleep(0.1)
        at.run()
    at.run()  # the run that sees the ended thread and shows the report
    assert not errors(at), errors(at)


def frames(at: AppTest) -> list:
    return [d.value for d in at.dataframe]


def frame_with(at: AppTest, column: str):
    return next(f for f in frames(at) if column in f.columns)


MARKDOWN_KINDS = ("markdown", "caption", "info", "warning", "success", "error", "title", "subheader", "header")


def assert_no_markup_injected(at: AppTest) -> None:
    for kind in MARKDOWN_KINDS:
        for element in at.get(kind):
            value = str(element.value)
            assert not re.search(r"(?<!\\)<(script|img)", value, re.IGNORECASE), (kind, value)
            if kind == "markdown" and element.proto.allow_html:
                assert "alert(1)" not in value, value


def test_crawl_shows_documents_and_per_url_report(app, site):
    base, _ = site
    start_crawl(app, base + "/", allow_private=True)
    assert job(app).running or job(app).final is not None
    wait_until(app, lambda j: not j.running)
    assert not job(app).error
    summary = next(s.value for s in app.success if s.value.startswith("Crawl finished"))
    assert "failed" in summary and "document(s)" in summary
    report = frame_with(app, "final url")
    assert list(report.columns) == ["status", "kind", "reason", "http status", "url", "final url"]
    by_url = {u.removeprefix(base): (s, k) for u, s, k in zip(report["url"], report["status"], report["kind"])}
    assert by_url["/"] == ("fetched", "ok") and by_url["/guide"] == ("fetched", "ok")
    assert by_url["/missing"] == ("failed", "http_error")
    assert report.loc[report["kind"] == "http_error", "http status"].tolist() == [404]
    counts = frame_with(app, "meaning")
    assert {"status", "kind", "URLs"} <= set(counts.columns) and counts["URLs"].sum() == len(report)
    table = frame_with(app, "word_count")
    assert list(table.columns) == ["url", "section", "text", "word_count", "char_count"]
    assert {base + p for p in ("/", "/guide", "/evil", "/notes.txt")} <= set(table["url"])
    assert app.session_state["data_source"] == "crawl"
    staged = app.session_state["staged_documents"]
    assert {d.source for d in staged} >= {base + "/guide"}

    # hostile text is data: literally in the table, never markup on the page
    texts = " ".join(table["text"])
    assert XSS in texts and "alert('tag')" not in texts
    assert_no_markup_injected(app)


def test_stop_keeps_what_was_fetched(app, site):
    base, seen = site
    start_crawl(app, base + "/slow/", allow_private=True, concurrency=1)
    wait_until_progress = time.monotonic() + 10
    while job(app).done < 2:
        assert time.monotonic() < wait_until_progress
        time.sleep(0.05)
        app.run()
    assert app.get("progress"), "no progress bar while crawling"
    assert " of " in app.get("progress")[0].proto.text
    app.button(key="crawl_stop").click().run()
    assert job(app).stop.is_set()
    wait_until(app, lambda j: not j.running)
    report = job(app).report()
    assert report.stopped and 2 <= len(report.documents) < SLOW_PAGES + 1
    assert any(s.startswith("/slow/") for s in seen) and len([s for s in seen if s.startswith("/slow/")]) < SLOW_PAGES + 1
    assert any(w.value.startswith("Crawl stopped") for w in app.warning)
    urls = frame_with(app, "final url")
    assert "stopped" in set(urls["kind"])
    assert set(urls.loc[urls["kind"] == "stopped", "reason"]) == {"stopped by user before it was fetched"}
    table = frame_with(app, "word_count")
    assert len(table) == len({d.source for d in report.documents})  # partial results kept as the documents


def test_loopback_seed_is_refused_without_allow_private(app, site):
    base, seen = site
    start_crawl(app, base + "/", allow_private=False)
    wait_until(app, lambda j: not j.running)
    assert seen == []  # refused before any connection
    report = frame_with(app, "final url")
    (row,) = report.to_dict("records")
    assert row["status"] == "skipped" and row["kind"] == "private_address"
    assert "loopback" in row["reason"] and "operator of this server can allow" in row["reason"]
    assert "RAG_ALLOW_PRIVATE_URLS=1" in row["reason"] and "--allow-private" not in row["reason"]
    assert any("refused because they resolve to a private address" in i.value for i in app.info)
    assert any("Showing the crawled pages: 0 document(s)" in i.value for i in app.info)
    assert not app.success  # nothing fetched is not a success
    assert any("Nothing was fetched" in w.value and "loopback" in w.value for w in app.warning)


def test_private_addresses_are_the_operators_setting_not_a_visitors(app, site, monkeypatch, tmp_path):
    """Hostile item 1: no control on the page turns the SSRF guard off; only configuration does."""
    from ui import crawl

    base, seen = site
    assert not [c for c in app.checkbox if "private" in (c.key or "") or "private" in c.label.lower()]
    app.session_state["crawl_allow_private"] = True  # what the old checkbox set: no longer read
    monkeypatch.setenv("RAG_ALLOW_PRIVATE_URLS", "0")
    start_crawl(app, base + "/", allow_private=False)
    wait_until(app, lambda j: not j.running)
    assert seen == [] and not job(app).crawler.config.allow_private
    # the operator's switch: the environment wins over .streamlit/secrets.toml
    secrets = tmp_path / "op-secrets.toml"
    secrets.write_text("RAG_ALLOW_PRIVATE_URLS = true\n")
    assert crawl.operator_allows_private(OperatorSettings.load({}, secrets)) is True
    assert crawl.operator_allows_private(OperatorSettings.load({"RAG_ALLOW_PRIVATE_URLS": "0"}, secrets)) is False
    assert crawl.operator_allows_private(OperatorSettings.load({"RAG_ALLOW_PRIVATE_URLS": "yes"},
                                                               tmp_path / "none.toml")) is True
    secrets.write_text('RAG_ALLOW_PRIVATE_URLS = "1"\nnot toml at all')
    with pytest.raises(ConfigError, match="not valid TOML"):  # one behaviour for a broken file, never quoted
        OperatorSettings.load({}, secrets)


@pytest.mark.parametrize("case", ["dns", "refused"])
def test_offline_crawl_is_a_warning_naming_the_cause(app, monkeypatch, case):
    """New-user item 3: offline, the crawl fetched nothing; that is not a green success, and the
    page says the host name could not be resolved (or the connection was refused), not robots.txt."""
    import socket

    def offline(host: str, port: int) -> list[str]:
        raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")

    if case == "dns":
        monkeypatch.setattr("rag_core.core.safety.system_resolver", offline)  # the offline machine's DNS
        seed, phrase = "https://docs.example.com/", "the host name docs.example.com could not be resolved"
    else:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        seed, phrase = f"http://127.0.0.1:{port}/", f"connection refused by 127.0.0.1:{port}"
    start_crawl(app, seed, allow_private=case == "refused")
    wait_until(app, lambda j: not j.running)
    assert not app.success
    (warning,) = [w.value for w in app.warning if "Nothing was fetched" in w.value]
    assert warning.startswith("Crawl finished in") and "0 document(s)" in warning
    assert phrase in warning.replace("\\", "")  # md_literal escapes punctuation
    assert "robots" not in warning
    kinds = set(frame_with(app, "final url")["kind"])
    assert kinds == {"network_error"} and "robots_unavailable" not in kinds


def test_bad_crawl_settings_are_an_error_not_a_traceback(app):
    app.text_area(key="w:crawl_urls").set_value("ftp://example.org/file")
    app.button(key="crawl_start").click().run()
    assert not app.exception
    assert any("http" in e.value for e in app.error)
    assert "crawl_job" not in app.session_state


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def test_uploads_zip_docx_duplicates_and_csv_column(app):
    notes = (PROSE * 2).encode()
    docx = make_docx([("Heading 1", "Report"), ("Normal", PROSE + "From a Word document.")])
    csv_bytes = (f'title,body,summary\nFirst,"{PROSE}One.",short\nSecond,"{PROSE}Two.",tiny\n').encode()
    app.file_uploader(key="uploads").set_value([
        ("notes.txt", notes, "text/plain"),
        ("bundle.zip", _zip({"folder/a.md": b"# A\n\n" + PROSE.encode(), "folder/copy.txt": notes}),
         "application/zip"),
        ("report.docx", docx, "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
        ("table.csv", csv_bytes, "text/csv"),
    ]).run()
    assert not errors(app), errors(app)
    status = frame_with(app, "file")
    rows = {f: (s, r) for f, s, r in zip(status["file"], status["status"], status["reason"])}
    assert rows["bundle.zip!/folder/copy.txt"] == ("skipped", "duplicate of notes.txt (identical text)")
    assert rows["bundle.zip!/folder/a.md"][0] == rows["report.docx"][0] == rows["table.csv"][0] == "ingested"
    table = frame_with(app, "word_count")
    assert table.columns[0] == "source"
    assert "From a Word document." in " ".join(table["text"])
    csv_rows = table[table["source"] == "table.csv"]
    assert len(csv_rows) == 2 and csv_rows["text"].str.startswith("Crawled pages").all()

    column = app.selectbox(key="w:csv_column:table.csv")
    assert column.options == ["(longest text column)", "title", "body", "summary"]
    column.set_value("summary").run()
    assert not errors(app), errors(app)
    docs = [d for d in app.session_state["load_report"].documents if d.source == "table.csv"]
    assert [d.text for d in docs] == ["short", "tiny"]


def test_uploads_with_one_name_get_distinct_sources_and_say_so():
    from ui import data

    uploads = [data.Upload("notes.txt", b"first notes " * 20), data.Upload("notes.txt", b"second notes " * 20),
               data.Upload("notes (2).txt", b"third notes " * 20), data.Upload("notes.txt", b"first notes " * 20),
               data.Upload("b.zip", _zip({"m.md": b"# M\nzip member"})),
               data.Upload("b.zip", _zip({"m.md": b"# M\nanother member"}))]
    report = data.read_uploads(uploads)
    status = {f.source: f for f in report.files}
    assert list(status) == ["notes.txt", "notes (3).txt", "notes (2).txt", "notes (4).txt", "b.zip!/m.md",
                            "b (2).zip!/m.md"]
    assert status["notes.txt"].reason == "" and status["notes (2).txt"].reason == ""
    assert status["notes (3).txt"].status == "ingested"
    assert status["notes (3).txt"].reason == "renamed from notes.txt: another uploaded file has that name"
    assert status["notes (4).txt"].status == "skipped"  # same bytes as the first: deduplicated, not merged
    assert status["notes (4).txt"].reason == "duplicate of notes.txt (identical text)"
    assert status["b (2).zip!/m.md"].reason.startswith("renamed from b.zip: another uploaded file has that name")
    ids = [d.doc_id for d in report.documents]
    assert len(ids) == len(set(ids)) == 5
    texts = {d.source: d.text for d in report.documents}
    assert texts["notes (3).txt"].startswith("second notes") and texts["b (2).zip!/m.md"] == "another member"


def test_uploads_with_one_name_in_the_app(app):
    csv_a = f'title,body\nA,"{PROSE}First."\n'.encode()
    csv_b = f'title,body\nB,"{PROSE}Second."\n'.encode()
    app.file_uploader(key="uploads").set_value([("t.csv", csv_a, "text/csv"), ("t.csv", csv_b, "text/csv")]).run()
    assert not errors(app), errors(app)
    status = frame_with(app, "file")
    rows = {f: (s, r) for f, s, r in zip(status["file"], status["status"], status["reason"])}
    assert rows == {"t.csv": ("ingested", ""),
                    "t (2).csv": ("ingested", "renamed from t.csv: another uploaded file has that name")}
    docs = app.session_state["load_report"].documents
    assert [(d.source, d.text.split()[-1]) for d in docs] == [("t.csv", "First."), ("t (2).csv", "Second.")]
    assert len(app.selectbox(key="w:csv_column:t.csv").options) == 3  # one box for the name, no duplicate key


def test_total_upload_limit_skips_the_rest_with_a_clear_reason(monkeypatch):
    from ui import data

    monkeypatch.setattr(data, "MAX_TOTAL_BYTES", 1000)
    uploads = [data.Upload("a.txt", b"alpha words " * 50), data.Upload("b.txt", b"beta words " * 50),
               data.Upload("big.txt", b"x " * 2000), data.Upload("c.txt", b"gamma " * 10)]
    report = data.read_uploads(uploads, max_bytes=3000)
    status = {f.source: f for f in report.files}
    assert status["a.txt"].status == "ingested" and status["c.txt"].status == "ingested"
    assert status["b.txt"].status == "skipped" and status["big.txt"].status == "skipped"
    assert status["b.txt"].reason.startswith("total upload limit reached: 0.0 MB already read")
    assert "upload fewer files at a time" in status["b.txt"].reason
    assert "over the 0.00286102 MB limit; split the file and upload the parts" in status["big.txt"].reason
    assert "--max-file-mb" not in status["big.txt"].reason


def test_csv_columns_and_app_wording():
    from ui import data

    assert data.csv_columns("t.tsv", b"a\tb c\n1\t2\n") == ["a", "b c"]
    assert data.csv_columns("t.csv", b"\n\nx;y;z\n1;2;3\n") == ["x", "y", "z"]
    assert data.csv_columns("t.csv", b"\x00\x01\x02" * 100) == []
    from ui import advice  # the app words a reason from its kind and values (no regex over the CLI's words)

    assert advice.reason_text("page_limit", "page limit: 5 pages reached", {"limit": 5}) == \
        "page limit: max pages (5) reached"
