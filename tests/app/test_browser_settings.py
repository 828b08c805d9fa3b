"""Real browser (Debian chromium + Playwright), issue 17: what you see is what runs.

Findings 1-4 as a new user met them (the retriever applied by "Use the best in Chat" and by a
config import, the URL and the config download current at once, settings kept across pages,
"Use in Chat" leaving Compare), finding 7 (the session export adds up to the sidebar with Compare
turns and a blind vote), and the screenshots of Compare (plain and blind) and of Evaluate with 24
settings, saved under tests/artifacts (git-ignored)."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

import pytest
from helpers import fact_documents
from test_browser import ARGS, ARTIFACTS, CHROMIUM, server, stay_local  # noqa: F401  (the streamlit server)

from rag_core.answer import config as rconfig
from rag_core.core.types import ChunkingConfig, RetrievalSettings
from rag_core.costs import format_usd
from rag_core.embeddings import create_embedder
from rag_core.evaluation.evaluate import demo_question_set
from rag_core.index.index import Index
from rag_core.ingest.demo import demo_documents

pytestmark = pytest.mark.browser
CHAT_BOX = "Ask a question about the documents in this index"
BOTH_BOX = "Ask both A and B a question"


def build(root: Path, name: str, size: int, documents) -> None:
    index = Index.create(root / name, create_embedder("hashing"), "numpy", ChunkingConfig(size=size, overlap=20))
    index.ingest(documents)
    index.save()


def demo_subset():
    """Demo documents the demo questions are about (so Evaluate scores something), and a few more."""
    wanted = {s for q in demo_question_set().questions for s in q.relevant_sources}
    return [d for d in demo_documents() if d.source in wanted] + demo_documents()[:30]


def ask(page, placeholder: str, question: str, answers: int) -> None:
    box = page.get_by_placeholder(placeholder)
    box.fill(question)
    box.press("Enter")
    page.wait_for_function(f"document.querySelectorAll('.rag-answer').length >= {answers}", timeout=60_000)
    page.wait_for_timeout(1500)


def choose(page, where: str, option: str) -> None:
    """Pick `option` in the selectbox or multiselect inside `where` (a widget's `.st-key-...` class)."""
    box = page.locator(f"{where} input")
    box.click()
    box.press_sequentially(option)
    box.press("Enter")
    page.wait_for_timeout(1000)


def shown(page, where: str) -> str:
    """A selectbox's chosen option as the page shows it."""
    return page.locator(f"{where} input").input_value()


def toggle(page, label: str) -> None:
    page.locator("label").filter(has_text=re.compile("^" + re.escape(label))).first.click()
    page.wait_for_timeout(1200)


def go(page, link: str) -> None:
    """Another page of the same session, through the app's own navigation."""
    page.get_by_role("link", name=link, exact=True).click()
    page.wait_for_timeout(1500)


def sidebar_download(page, label: str, last: bool = False) -> bytes:
    """A sidebar download: the configuration's (first) or the session export's (`last`)."""
    buttons = page.locator('[data-testid="stSidebar"]').get_by_role("button", name=label, exact=True)
    with page.expect_download() as download:
        (buttons.last if last else buttons.first).click()
    return Path(download.value.path()).read_bytes()


def sidebar_totals(page) -> tuple[int, int, str]:
    """(turns, tokens, dollars) as the sidebar's session totals line says them."""
    line = page.locator('[data-testid="stSidebar"] [data-testid="stMarkdownContainer"]') \
        .filter(has_text=re.compile(r"\d+ turns?: [\d,]+ embedding")).first.inner_text()
    turns = int(re.search(r"(\d+) turns?:", line).group(1))
    tokens = sum(int(n.replace(",", "")) for n in re.findall(r"([\d,]+) (?:embedding|prompt|completion)", line))
    dollars = re.search(r"· (\$[\d.]+)", line).group(1)
    return turns, tokens, dollars


def last_score_labels(page) -> str:
    """The score labels of the latest answer's cards (cosine, bm25, hybrid z-score, rrf ...)."""
    return " ".join(page.locator(".rag-hit .rag-score").all_inner_texts()[-3:])


def browser_page(p, outside: list[str], height: int = 1400, downloads: bool = True):
    browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
    context = stay_local(browser.new_context(viewport={"width": 1600, "height": height},
                                             accept_downloads=downloads), outside)
    return browser, context.new_page()


def test_findings_1_to_4_what_you_see_is_what_runs(server, tmp_path):
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is missing: apt-get install -y chromium")
    from playwright.sync_api import expect, sync_playwright

    build(tmp_path / "indexes", "demo-400", 400, demo_subset())
    ARTIFACTS.mkdir(exist_ok=True)
    outside: list[str] = []
    with sync_playwright() as p:
        browser, page = browser_page(p, outside)
        try:
            # Evaluate will sweep dense and bm25 only (its link), so its best is never Chat's rrf.
            page.goto(server + "/evaluate?retrievers=dense,bm25&rerankers=none&top_ks=3")
            expect(page.get_by_role("button", name=re.compile("Run"))).to_be_visible(timeout=60_000)
            go(page, "Chat")
            expect(page.get_by_placeholder(CHAT_BOX)).to_be_visible(timeout=30_000)

            # 2: the URL follows the change at once, and a fresh browser opening it gets it back
            choose(page, ".st-key-w-method", "bm25 (whole index)")
            expect(page).to_have_url(re.compile(r"mode=bm25"))
            fresh = stay_local(browser.new_context(viewport={"width": 1600, "height": 1400}), outside).new_page()
            fresh.goto(page.url)
            try:
                expect(fresh.get_by_placeholder(CHAT_BOX)).to_be_visible(timeout=30_000)
                assert shown(fresh, ".st-key-w-method") == "bm25 (whole index)"
            except Exception:
                fresh.screenshot(path=str(ARTIFACTS / "settings-fresh-failure.png"), full_page=True)
                raise
            fresh.context.close()
            # ... and so does the config download, before any question
            page.locator(".st-key-w-top_k input[type='range']").focus()
            for _ in range(3):
                page.keyboard.press("ArrowRight")  # 5 -> 8
            page.wait_for_timeout(1000)
            choose(page, ".st-key-w-method", "dense")
            retrieval = tomllib.loads(sidebar_download(page, "TOML").decode())["retrieval"]
            assert (retrieval["top_k"], retrieval["mode"]) == (8, "dense"), retrieval
            expect(page).to_have_url(re.compile(r"top_k=8"))

            # 3: index and retriever survive Settings and back
            choose(page, ".st-key-w-method", "hybrid (rrf)")
            go(page, "Settings")
            go(page, "Chat")
            expect(page.get_by_placeholder(CHAT_BOX)).to_be_visible(timeout=30_000)
            assert shown(page, ".st-key-w-method") == "hybrid (rrf)"
            assert shown(page, ".st-key-w-index") == "demo-400"

            # 4 and 1: Compare and Blind on, then Evaluate's "Use the best in Chat"
            toggle(page, "Compare")
            toggle(page, "Blind")
            expect(page.get_by_placeholder(BOTH_BOX)).to_be_visible()
            go(page, "Evaluate")
            page.get_by_role("button", name=re.compile("Run")).first.click()
            use = page.get_by_role("button", name=re.compile("Use the best in Chat"))
            expect(use).to_be_visible(timeout=120_000)
            use.click()
            expect(page.get_by_placeholder(CHAT_BOX)).to_be_visible(timeout=30_000)  # Compare is off
            expect(page.get_by_placeholder(BOTH_BOX)).to_have_count(0)
            best = shown(page, ".st-key-w-method")
            assert best in ("dense", "bm25 (whole index)"), best
            ask(page, CHAT_BOX, "What is the capital of Kenya?", 1)
            labels = last_score_labels(page)
            assert ("cosine" if best == "dense" else "bm25") in labels and "rrf" not in labels, labels
            expect(page.get_by_text(re.compile(f"retriever {best.split()[0]}")).last).to_be_visible()

            # 1, second case: a config import applies its retriever
            setup = tmp_path / "setup.toml"
            setup.write_text(rconfig.dumps(rconfig.PlaygroundConfig(
                index=rconfig.IndexConfig(name="demo-400"),
                retrieval=RetrievalSettings(top_k=4, mode="hybrid", fusion="rrf")), "toml"))
            page.locator('[data-testid="stSidebar"] input[type="file"]').set_input_files(str(setup))
            expect(page.get_by_text("the settings above are the file's")).to_be_visible(timeout=30_000)
            assert shown(page, ".st-key-w-method") == "hybrid (rrf)"
            ask(page, CHAT_BOX, "Who developed the theory of relativity?", 2)
            assert "rrf" in last_score_labels(page), last_score_labels(page)
            expect(page).to_have_url(re.compile(r"fusion=rrf"))
            expect(page.get_by_text("Traceback")).to_have_count(0)
            assert outside == [], f"requests left localhost: {outside}"
        except Exception:
            page.screenshot(path=str(ARTIFACTS / "settings-failure.png"), full_page=True)
            raise
        finally:
            browser.close()


def test_compare_turns_reach_the_export_and_it_adds_up_to_the_sidebar(server, tmp_path):
    """Finding 7; also the Compare screenshots, plain and blind."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is missing: apt-get install -y chromium")
    from playwright.sync_api import expect, sync_playwright

    build(tmp_path / "indexes", "facts", 300, fact_documents())
    ARTIFACTS.mkdir(exist_ok=True)
    outside: list[str] = []
    with sync_playwright() as p:
        browser, page = browser_page(p, outside, height=4200)
        try:
            page.goto(server + "/chat")
            expect(page.get_by_text("in the box at the bottom")).to_be_visible(timeout=60_000)  # empty Chat
            ask(page, CHAT_BOX, "What is the capital of Kenya?", 1)
            toggle(page, "Compare")
            page.get_by_text("Settings A").click()
            choose(page, ".st-key-w-cmp_A_method", "dense")
            ask(page, BOTH_BOX, "Who developed relativity?", 2)
            page.screenshot(path=str(ARTIFACTS / "compare-side-by-side.png"), full_page=True)
            toggle(page, "Blind")
            ask(page, BOTH_BOX, "What is the capital of Kenya?", 2)
            expect(page.locator(".rag-hit").last).to_be_visible()
            page.screenshot(path=str(ARTIFACTS / "compare-blind.png"), full_page=True)
            page.get_by_role("button", name="Left is better").last.click()
            expect(page.get_by_text("Your pick: Left")).to_be_visible(timeout=30_000)
            turns, tokens, dollars = sidebar_totals(page)
            assert turns == 3 and tokens > 0
            data = json.loads(sidebar_download(page, "JSON", last=True))
            assert data["turn_count"] == turns
            assert len(data["turns"]) == 1 and len(data["comparisons"]) == 2
            assert data["comparisons"][1]["vote"] in ("A", "B") and data["comparisons"][1]["blind"]  # Left, unswapped
            assert data["totals"]["total_tokens"] == tokens
            assert format_usd(data["totals"]["cost_usd"]) == dollars
            assert outside == [], f"requests left localhost: {outside}"
        except Exception:
            page.screenshot(path=str(ARTIFACTS / "compare-failure.png"), full_page=True)
            raise
        finally:
            browser.close()


def test_evaluate_with_24_settings_in_a_real_browser(server, tmp_path):
    """2 indexes x 4 top-k x 3 rerankers (the page's defaults) x 1 retriever = 24 settings."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is missing: apt-get install -y chromium")
    from playwright.sync_api import expect, sync_playwright

    for name, size in (("demo-400", 400), ("demo-200", 200)):
        build(tmp_path / "indexes", name, size, demo_subset())
    ARTIFACTS.mkdir(exist_ok=True)
    outside: list[str] = []
    with sync_playwright() as p:
        browser, page = browser_page(p, outside, height=5200, downloads=False)
        try:
            page.goto(server + "/evaluate?indexes=demo-200,demo-400")
            expect(page.get_by_text("12 setting(s) × 2 index(es)")).to_be_visible(timeout=60_000)
            page.get_by_role("button", name=re.compile("Run")).first.click()
            expect(page.locator('[data-testid="stPlotlyChart"]').first).to_be_visible(timeout=120_000)
            page.wait_for_timeout(2000)
            expect(page.get_by_text("Traceback")).to_have_count(0)
            page.screenshot(path=str(ARTIFACTS / "evaluate-24.png"), full_page=True)
            # item 11: every chosen tag of every multiselect is drawn whole, inside its box
            hidden = page.evaluate("""[...document.querySelectorAll('.stMultiSelect [data-tag]')].filter(tag => {
                const box = tag.closest('[data-testid="stMultiSelectTagsContainer"]').getBoundingClientRect();
                const r = tag.getBoundingClientRect(), text = tag.firstElementChild;
                return r.right > box.right + 1 || r.bottom > box.bottom + 1 || text.scrollWidth > text.clientWidth + 1;
            }).map(tag => tag.innerText)""")
            assert hidden == [], f"cut-off tags: {hidden}"
            assert outside == [], f"requests left localhost: {outside}"
        finally:
            browser.close()
