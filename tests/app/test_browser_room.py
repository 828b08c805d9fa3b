"""Real browser (Debian chromium): a session survives a reload, another browser never sees it,
a link carries no session, and a shared snapshot opens read-only in a fresh browser."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_browser import ARGS, ARTIFACTS, CHROMIUM, server, stay_local  # noqa: F401 - server is a fixture

from rag_core.embeddings import create_embedder
from rag_core.index.index import Index
from rag_core.core.types import ChunkingConfig, Document

pytestmark = pytest.mark.browser
ASK = "Ask a question about the documents in this index"


def test_ask_reload_see_the_same_turns_and_share_a_snapshot(server, tmp_path):  # noqa: F811
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is missing: apt-get install -y chromium")
    from playwright.sync_api import expect, sync_playwright

    index = Index.create(tmp_path / "indexes" / "small", create_embedder("hashing"), "numpy", ChunkingConfig(size=400))
    index.ingest([Document(f"d{i}.md", "", f"Nairobi is the capital of Kenya. Note {i}.") for i in range(4)])
    index.save()
    ARTIFACTS.mkdir(exist_ok=True)
    outside: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        context = stay_local(browser.new_context(viewport={"width": 1600, "height": 1000}), outside)
        page = context.new_page()
        try:
            page.goto(server + "/chat")
            box = page.get_by_placeholder(ASK)
            expect(box).to_be_visible(timeout=60_000)
            box.fill("What is the capital of Kenya?")
            box.press("Enter")
            expect(page.locator(".rag-hit").first).to_be_visible(timeout=60_000)
            cookie = next(c for c in context.cookies() if c["name"] == "rag_session")
            assert cookie["sameSite"] == "Strict" and len(cookie["value"]) == 43
            assert cookie["value"] not in page.url  # the token is never in the URL

            page.reload()
            expect(page.get_by_placeholder(ASK)).to_be_visible(timeout=60_000)
            expect(page.get_by_text("What is the capital of Kenya?", exact=True)).to_be_visible(timeout=30_000)
            expect(page.locator(".rag-hit").first).to_be_visible()
            assert page.locator('[data-testid="stChatMessage"]').count() == 2

            # another browser, even with this very URL, has its own empty session
            other = stay_local(browser.new_context(), outside).new_page()
            other.goto(page.url)
            expect(other.get_by_placeholder(ASK)).to_be_visible(timeout=60_000)
            other.wait_for_timeout(1000)
            expect(other.get_by_text("What is the capital of Kenya?", exact=True)).to_have_count(0)

            # share the turn; the link opens read-only in a fresh browser, without the session
            page.get_by_role("button", name="Share last turn").click()
            code = page.locator("code", has_text="?snapshot=").first
            expect(code).to_be_visible(timeout=30_000)
            link = code.inner_text().strip()
            viewer = stay_local(browser.new_context(), outside).new_page()
            viewer.goto(server + "/" + link)
            expect(viewer.get_by_text("Read-only chat snapshot taken")).to_be_visible(timeout=60_000)
            expect(viewer.get_by_text("Nairobi").first).to_be_visible()
            expect(viewer.get_by_placeholder(ASK)).to_have_count(0)
            viewer.screenshot(path=str(ARTIFACTS / "snapshot.png"))
            assert outside == [], f"requests left localhost: {outside}"
        except Exception:
            page.screenshot(path=str(ARTIFACTS / "room-failure.png"), full_page=True)
            raise
        finally:
            browser.close()
