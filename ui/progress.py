"""A build's progress bar that says how long it will take: chunks embedded, the speed measured
so far (chunks/s) and the time left at that speed. The first demo build embeds ~460 chunks on
the CPU (tens of seconds on a busy 2-core machine), so a bar without a time looks stuck.

`BuildProgress(st.progress(0.0))` is the core's progress callback (done, total, label).
"""

from __future__ import annotations

import time
from typing import Callable, Protocol


#: what the Home page says before the first demo build (measured: `time python -m rag_core demo`)
DEMO_BUILD_TIME = ("The first load embeds the demo corpus (about 460 chunks) with the local model on this "
                   "machine's CPU: about 40 s on 2 cores shared with other work, less on an idle machine. "
                   "The bar shows the speed and the time left; later loads reuse the index.")


class Bar(Protocol):
    def progress(self, value: float, text: str | None = None) -> object: ...


def duration_text(seconds: float) -> str:
    """`7 s`, `1 min 05 s`: whole seconds, at least 1 (an estimate of "0 s" reads as stuck)."""
    whole = max(1, round(seconds))
    return f"{whole} s" if whole < 60 else f"{whole // 60} min {whole % 60:02d} s"


def progress_text(done: int, total: int, elapsed: float, what: str = "chunks") -> str:
    """What the bar says after `done` of `total` in `elapsed` seconds, the rate taken from all
    of them (steadier than the last batch alone)."""
    if total <= 0:
        return "Nothing new to embed: every source is already in the index."
    if done <= 0 or elapsed <= 0:
        return f"Embedding {total:,} {what}… measuring the speed"
    rate = done / elapsed
    if done >= total:
        return f"Embedded all {total:,} {what} in {duration_text(elapsed)} ({rate:,.1f} {what}/s); saving…"
    return (f"Embedded {done:,} of {total:,} {what} · {rate:,.1f} {what}/s · "
            f"about {duration_text((total - done) / rate)} left")


class BuildProgress:
    """The core's progress callback drawing on `bar`; the clock starts at the first call (the
    core reports 0 done before its first batch)."""

    def __init__(self, bar: Bar, clock: Callable[[], float] = time.monotonic) -> None:
        self.bar, self.clock = bar, clock
        self.started: float | None = None

    def __call__(self, done: int, total: int, label: str = "") -> None:
        now = self.clock()
        if self.started is None:
            self.started = now
        fraction = min(done / total, 1.0) if total > 0 else 1.0
        self.bar.progress(fraction, text=progress_text(done, total, now - self.started))
