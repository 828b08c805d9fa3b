"""A build says how long it will take: the app's bar and the CLI's bar show chunks/s and the
time left, from the rate measured so far (issue 9, new user item 6)."""

from __future__ import annotations

import re
from pathlib import Path

from helpers import app_errors as errors
from hypothesis import given
from hypothesis import strategies as st
from streamlit.testing.v1 import AppTest

from rag_core.cli.common import Progress as _Progress
from ui import progress
from ui.progress import BuildProgress, duration_text, progress_text

ROOT = Path(__file__).resolve().parents[2]


class FakeBar:
    """st.progress's element: records what it was told."""

    def __init__(self) -> None:
        self.calls: list[tuple[float, str]] = []

    def progress(self, value: float, text: str | None = None) -> None:
        self.calls.append((value, text or ""))


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_app_bar_says_rate_and_time_left_from_the_measured_speed():
    bar, clock = FakeBar(), FakeClock()
    report = BuildProgress(bar, clock)
    report(0, 464, "")
    assert bar.calls[-1] == (0.0, "Embedding 464 chunks… measuring the speed")
    clock.now += 8.0
    report(64, 464, "a.txt")  # 8 chunks/s: 400 left -> 50 s
    assert bar.calls[-1] == (64 / 464, "Embedded 64 of 464 chunks · 8.0 chunks/s · about 50 s left")
    clock.now += 40.0
    report(384, 464, "b.txt")  # 8 chunks/s still: 80 left -> 10 s
    assert bar.calls[-1][1].endswith("· about 10 s left")
    clock.now += 10.0
    report(464, 464, "c.txt")
    assert bar.calls[-1] == (1.0, "Embedded all 464 chunks in 58 s (8.0 chunks/s); saving…")


def test_nothing_to_embed_is_said_not_divided_by_zero():
    bar = FakeBar()
    BuildProgress(bar, FakeClock())(0, 0, "")
    assert bar.calls == [(1.0, "Nothing new to embed: every source is already in the index.")]


@given(total=st.integers(1, 10**6), data=st.data(), elapsed=st.floats(0.01, 10**5))
def test_time_left_is_the_remaining_chunks_at_the_measured_rate(total, data, elapsed):
    done = data.draw(st.integers(1, total - 1)) if total > 1 else 1
    text = progress_text(done, total, elapsed)
    if done >= total:
        assert text.startswith(f"Embedded all {total:,} chunks")
        return
    assert text.startswith(f"Embedded {done:,} of {total:,} chunks · ")
    assert f"{done / elapsed:,.1f} chunks/s" in text
    assert text.endswith(f"about {duration_text((total - done) * elapsed / done)} left")


def test_durations_read_as_seconds_then_minutes():
    assert [duration_text(s) for s in (0.2, 7.4, 59.4, 65, 3600)] == ["1 s", "7 s", "59 s", "1 min 05 s",
                                                                      "60 min 00 s"]


def test_cli_bar_counts_chunks_and_says_rate_and_time_left(capsys):
    bar = _Progress("embedding", "chunks")
    bar(0, 464, "")
    bar(64, 464, "a.txt")
    bar.close()
    err = capsys.readouterr().err
    assert re.search(r"64/464 chunks \[\d\d:\d\d elapsed, [\d.]+ chunks/s, \d\d:\d\d left\]", err), err


def test_home_demo_build_reports_rate_and_time_left(app_root, monkeypatch):
    import rag_core.embeddings

    monkeypatch.setattr(rag_core.embeddings, "DEFAULT_EMBEDDER", "hashing")  # fast stand-in for MiniLM
    said: list[str] = []
    real = progress.progress_text
    monkeypatch.setattr(progress, "progress_text", lambda *a, **k: said.append(real(*a, **k)) or said[-1])
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    assert any("about 40 s on 2 cores" in c.value for c in at.caption)  # said before the first build
    at.button(key="load_demo").click().run()
    assert not errors(at), errors(at)
    assert said[0].startswith("Embedding ") and "measuring the speed" in said[0]
    assert any(re.search(r"chunks/s · about \d+ s left", s) for s in said), said
    assert not any("about 40 s" in c.value for c in at.caption)  # built: nothing to wait for any more
