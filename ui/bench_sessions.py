"""Many browser sessions on one real `streamlit run app.py` server at once, measured (issue 21).

    python -m ui.bench_sessions [--sessions 1,4,8] [--questions 3] [--json]

It lives in ui/ (not `python -m rag_core bench`) because it drives a browser against the
Streamlit app: rag_core must not know about either. It starts the server on a free loopback
port with a fresh index and home directory, loads the demo corpus through the Home page, warms
the server with one question, then runs one phase per N: N Chromium browser contexts (real
websocket sessions) ask `--questions` questions each on the demo index while one more context
builds a new index of the demo corpus on the Index page (a chunk size no earlier build used, so
every chunk is really embedded). Per phase it reports p50/p95 of the time from Enter to the
first answer text drawn (the streamed `.rag-answer`) and to the whole answer (its hit cards),
errors (timeouts, tracebacks, error alerts), the server's peak RSS and its CPU use (CPU seconds
per wall second, so 2.0 is both cores), and how many answers overlapped the build.
Figures are compared within the run: p95(N)/p95(1), RSS growth per extra session.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]
QUESTIONS = ("What is the capital of Kenya?", "Who painted the Mona Lisa?", "What is photosynthesis?",
             "When did the Roman Empire fall?", "What is the speed of light?", "Who wrote Hamlet?")
CHAT_BOX = "Ask a question about the documents in this index"
TIMEOUT_MS = 300_000  # page loads and the build
ANSWER_MS = 120_000   # one answer: past this it is an error, and the session stops asking
SHOTS: list[Path] = []  # where a failed turn's screenshot goes (set by main)


class TurnFailed(Exception):
    """A turn got no answer in ANSWER_MS (already recorded): its session stops asking."""


@dataclass
class Phase:
    sessions: int
    first_token: list[float] = field(default_factory=list)  # s, Enter -> first answer text drawn
    answer: list[float] = field(default_factory=list)       # s, Enter -> hit cards drawn
    during_build: list[float] = field(default_factory=list)  # answer times of turns that overlapped the build
    turns: list[tuple[float, float]] = field(default_factory=list)  # (Enter, hit cards) monotonic times
    errors: list[str] = field(default_factory=list)
    build_seconds: float = 0.0
    rss_start_mb: float = 0.0
    rss_peak_mb: float = 0.0
    rss_after_mb: float = 0.0  # 10 s after every context of the phase closed
    cpu: float = 0.0            # server CPU seconds per wall second over the phase
    wall: float = 0.0


def pct(values: list[float], q: float) -> float:
    """Nearest-rank percentile: pct([1, 2, 3, 4], 0.5) == 2, pct([1, 2, 3, 4], 0.95) == 4."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, -(-int(q * 100) * len(ordered) // 100) - 1))]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_healthy(url: str, proc: subprocess.Popen, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"streamlit exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as resp:
                if resp.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.3)
    raise TimeoutError(f"streamlit did not become healthy at {url} in {timeout} s")


class Sampler:
    """Samples the server's RSS every 0.25 s on a thread; CPU comes from its cpu_times."""

    def __init__(self, pid: int) -> None:
        import psutil

        self.proc = psutil.Process(pid)
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def rss(self) -> int:
        return self.proc.memory_info().rss

    def cpu_seconds(self) -> float:
        t = self.proc.cpu_times()
        return t.user + t.system

    def _run(self) -> None:
        while not self._stop.wait(0.25):
            self.peak = max(self.peak, self.rss())

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


async def page_errors(page) -> list[str]:
    shown = await page.locator('[data-testid="stException"], [data-testid="stAlertContentError"]').all_inner_texts()
    return [text[:200] for text in shown]


async def ask(page, question: str, turn: int, phase: Phase, build_window: list[float]) -> None:
    """One question in one session: Enter, then the (turn)th answer's first text and its hit cards."""
    box = page.get_by_placeholder(CHAT_BOX)
    await box.fill(question)
    t0 = time.monotonic()
    await box.press("Enter")
    index = 2 * turn + 1  # user, assistant, user, assistant, ...
    sel = '[data-testid="stChatMessage"]'
    try:
        await page.wait_for_function(
            f"() => {{ const m = document.querySelectorAll('{sel}')[{index}];"
            " return m && m.querySelector('.rag-answer, [data-testid=\"stAlertContentError\"]') }",
            polling=20, timeout=ANSWER_MS)
        first = time.monotonic() - t0
        await page.wait_for_function(
            f"() => {{ const m = document.querySelectorAll('{sel}')[{index}];"
            " return m && m.querySelector('.rag-hit, [data-testid=\"stAlertContentError\"]') }",
            polling=20, timeout=ANSWER_MS)
        done = time.monotonic()
    except Exception as exc:  # a timeout is an error of this turn: the session stops asking
        shown = await page.locator(sel).count()
        shot = SHOTS[0] / f"fail-n{phase.sessions}-{len(phase.errors)}.png" if SHOTS else None
        if shot:
            await page.screenshot(path=str(shot), full_page=True)
        phase.errors.append(f"{question!r}: {type(exc).__name__} after {time.monotonic() - t0:.0f} s "
                            f"({shown} chat messages on the page; {shot})")
        raise TurnFailed from exc
    errors = await page_errors(page)
    if errors:
        phase.errors.extend(errors)
        return
    phase.first_token.append(first)
    phase.answer.append(done - t0)
    phase.turns.append((t0, done))


async def asker(browser, url: str, n: int, questions: int, phase: Phase, go: asyncio.Event,
                build_window: list[float]) -> None:
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        page = await context.new_page()
        await page.goto(f"{url}/chat?index=demo")
        await page.get_by_placeholder(CHAT_BOX).wait_for(timeout=TIMEOUT_MS)
        await go.wait()
        for turn in range(questions):
            await ask(page, QUESTIONS[(n + turn) % len(QUESTIONS)], turn, phase, build_window)
    except TurnFailed:
        pass  # recorded by ask()
    except Exception as exc:
        phase.errors.append(f"session {n}: {type(exc).__name__}: {str(exc)[:160]}")
    finally:
        await context.close()


async def builder(browser, url: str, name: str, size: int, phase: Phase, go: asyncio.Event,
                  build_window: list[float]) -> None:
    """The extra session: build `name` from the demo corpus with chunk size `size` on the Index page."""
    from playwright.async_api import expect

    context = await browser.new_context(viewport={"width": 1600, "height": 1000})
    try:
        page = await context.new_page()
        await page.goto(f"{url}/index")
        size_box = page.get_by_label("Size (characters)")
        await size_box.wait_for(timeout=TIMEOUT_MS)
        await size_box.fill(str(size))
        await size_box.press("Enter")
        name_box = page.get_by_label("Index name")
        await name_box.fill(name)
        await name_box.press("Enter")
        button = page.get_by_role("button", name="Build index")
        await expect(button).to_be_enabled(timeout=TIMEOUT_MS)
        await page.wait_for_timeout(1500)  # let the size/name reruns settle
        await button.click()
        build_window[0] = time.monotonic()
        go.set()
        await expect(page.get_by_text(f"Built {name}:")).to_be_visible(timeout=TIMEOUT_MS)
        build_window[1] = time.monotonic()
        phase.build_seconds = build_window[1] - build_window[0]
        phase.errors.extend(await page_errors(page))
    except Exception as exc:
        phase.errors.append(f"builder: {type(exc).__name__}: {str(exc)[:160]}")
    finally:
        go.set()
        await context.close()


async def setup(browser, url: str) -> None:
    """Load the demo corpus through Home, then ask one warm-up question (ONNX, index, BM25 loaded)."""
    from playwright.async_api import expect

    context = await browser.new_context()
    page = await context.new_page()
    await page.goto(url)
    await page.get_by_role("button", name="Load the demo corpus").click()
    await expect(page.get_by_text("The demo index is ready")).to_be_visible(timeout=TIMEOUT_MS)
    await page.goto(f"{url}/chat?index=demo")
    await page.get_by_placeholder(CHAT_BOX).wait_for(timeout=TIMEOUT_MS)
    warm = Phase(0)
    await ask(page, QUESTIONS[0], 0, warm, [0.0, 0.0])
    await context.close()
    if warm.errors:
        raise RuntimeError(f"the warm-up question failed: {warm.errors}")


async def run_phases(url: str, sampler: Sampler, sessions: list[int], questions: int) -> list[Phase]:
    from playwright.async_api import async_playwright

    out = []
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        await setup(browser, url)
        for i, n in enumerate(sessions):
            phase = Phase(n)
            go, window = asyncio.Event(), [0.0, 0.0]
            phase.rss_start_mb = sampler.rss() / 2**20
            sampler.peak = 0
            cpu0, t0 = sampler.cpu_seconds(), time.monotonic()
            await asyncio.gather(builder(browser, url, f"bench-{i}-{n}", 700 + 37 * i, phase, go, window),
                                 *(asker(browser, url, k, questions, phase, go, window) for k in range(n)))
            phase.wall = time.monotonic() - t0
            start, end = window
            # a turn that overlapped the build at all: asked before it ended, answered after it began
            phase.during_build = [b - a for a, b in phase.turns if start and a < (end or b) and b > start]
            phase.cpu = (sampler.cpu_seconds() - cpu0) / phase.wall
            phase.rss_peak_mb = sampler.peak / 2**20
            await asyncio.sleep(10)
            phase.rss_after_mb = sampler.rss() / 2**20
            out.append(phase)
            print(f"N={n}: {len(phase.answer)} answers, {len(phase.errors)} errors, "
                  f"{phase.wall:.0f} s", file=sys.stderr, flush=True)
        await browser.close()
    return out


def report(phases: list[Phase]) -> str:
    base = phases[0]
    lines = ["| sessions | answers | first text p50 / p95 (s) | answer p50 / p95 (s) | p95 / p95(N=1) | errors "
             "| answers overlapping the build (p95 s) | build (s) | server RSS peak (MB) | RSS after close (MB) | server CPU (cores) |",
             "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for ph in phases:
        ratio = pct(ph.first_token, 0.95) / pct(base.first_token, 0.95)
        lines.append(
            f"| {ph.sessions} | {len(ph.answer)} | {pct(ph.first_token, .5):.2f} / {pct(ph.first_token, .95):.2f} "
            f"| {pct(ph.answer, .5):.2f} / {pct(ph.answer, .95):.2f} | {ratio:.2f} | {len(ph.errors)} "
            f"| {len(ph.during_build)} ({pct(ph.during_build, .95):.2f}) | {ph.build_seconds:.1f} "
            f"| {ph.rss_peak_mb:.0f} | {ph.rss_after_mb:.0f} | {ph.cpu:.2f} |")
    last = phases[-1]
    extra = last.sessions - base.sessions
    if extra > 0:
        growth = (last.rss_peak_mb - base.rss_peak_mb) / extra
        lines.append(f"\nRSS growth per extra session (peak, N={last.sessions} vs N={base.sessions}): {growth:.1f} MB; "
                     f"p95 first text N={last.sessions} / N={base.sessions}: "
                     f"{pct(last.first_token, .95) / pct(base.first_token, .95):.2f}x")
    for ph in phases:
        for err in ph.errors[:5]:
            lines.append(f"  N={ph.sessions} error: {err}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ui.bench_sessions", description=__doc__.split("\n")[0])
    parser.add_argument("--sessions", default="1,4,8", help="comma-separated session counts, one phase each")
    parser.add_argument("--questions", type=int, default=3, help="questions each session asks per phase")
    parser.add_argument("--json", action="store_true", help="print the phases as JSON too")
    args = parser.parse_args(argv)
    sessions = [int(s) for s in args.sessions.split(",") if s.strip()]
    if not Path(CHROMIUM).exists():
        print(f"{CHROMIUM} is missing: apt-get install -y chromium", file=sys.stderr)
        return 2
    work = Path(tempfile.mkdtemp(prefix="rag-sessions-"))
    SHOTS[:] = [work]
    port = free_port()
    env = dict(os.environ, RAG_PLAYGROUND_INDEXES=str(work / "indexes"), RAG_PLAYGROUND_HOME=str(work / "home"))
    log = open(work / "streamlit.log", "w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true", "--server.port", str(port),
         "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, proc)
        sampler = Sampler(proc.pid)
        sampler.start()
        phases = asyncio.run(run_phases(url, sampler, sessions, args.questions))
        sampler.stop()
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
    print(report(phases))
    if args.json:
        print(json.dumps([asdict(p) for p in phases], indent=1))
    print(f"(server log: {work / 'streamlit.log'})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
