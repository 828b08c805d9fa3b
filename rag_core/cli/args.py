"""argparse types shared by every subcommand: numbers are finite and in range, or exit 2.

`float("nan")`, `float("inf")` and `-1` all parse; these types refuse what is meaningless for
the option (a NaN threshold filters everything, an infinite timeout hangs, `--top-k 0` returns
nothing) at the command line, with one `error:` line, before any work starts.
"""

from __future__ import annotations

import argparse
import math
import sys
from typing import Callable, NoReturn

from rag_core.core.types import RETRIEVAL_BOUNDS

MAX_MB = 1024 * 1024  # a terabyte: beyond it a size limit is a typo, not a choice


class Parser(argparse.ArgumentParser):
    """Bad arguments are one line, `error: ...`, exit 2 (argparse prints the usage block)."""

    def error(self, message: str) -> NoReturn:
        option, _, rest = message.partition(": ")
        if option.startswith("argument ") and rest.startswith("must be"):
            message = f"{option.removeprefix('argument ')} {rest}"  # "--top-k must be ..."
        print(f"error: {message} (see {self.prog} --help)", file=sys.stderr)
        raise SystemExit(2)


def _bounds(low: float | None, high: float | None, low_open: bool) -> str:
    if low is not None and high is not None:
        return f"from {low} to {high}" if not low_open else f"greater than {low} and at most {high}"
    if low is not None:
        return f"greater than {low}" if low_open else f"at least {low}"
    return f"at most {high}" if high is not None else "any"


def _check(value: float, text: str, low: float | None, high: float | None, low_open: bool, noun: str) -> None:
    too_low = low is not None and (value <= low if low_open else value < low)
    too_high = high is not None and value > high
    if not math.isfinite(value) or too_low or too_high:
        raise argparse.ArgumentTypeError(f"must be {noun} {_bounds(low, high, low_open)}, not {text!r}")


def integer(low: int | None = None, high: int | None = None) -> Callable[[str], int]:
    """A whole number in [low, high]."""

    def parse(text: str) -> int:
        try:
            value = int(text.strip())
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"must be a whole number {_bounds(low, high, False)}, not {text!r}") from None
        _check(value, text, low, high, False, "a whole number")
        return value

    parse.__name__ = "integer"
    return parse


def real(low: float | None = None, high: float | None = None,
         low_open: bool = False) -> Callable[[str], float]:
    """A finite number in [low, high] (or (low, high] with `low_open`)."""

    def parse(text: str) -> float:
        try:
            value = float(text.strip())
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"must be a number {_bounds(low, high, low_open)}, not {text!r}") from None
        _check(value, text, low, high, low_open, "a finite number")
        return value

    parse.__name__ = "number"
    return parse


def listing(item: Callable[[str], object], none_words: tuple[str, ...] = ()) -> Callable[[str], str]:
    """A comma-separated list whose every item passes `item` (or is one of `none_words`);
    returns the text unchanged, for the command to split."""

    def parse(text: str) -> str:
        for part in text.split(","):
            if part.strip().lower() not in none_words:
                item(part)
        return text

    parse.__name__ = "list"
    return parse


#: the shared types, by meaning
megabytes = real(0, MAX_MB, low_open=True)
seconds = real(0, 3600, low_open=True)
delay_seconds = real(0, 3600)
top_k = integer(*RETRIEVAL_BOUNDS["top_k"])
threshold = real(*RETRIEVAL_BOUNDS["score_threshold"])  # a cosine score
count = integer(0, 10**9)
chunk_size = integer(1, 10**7)
chunk_overlap = integer(0, 10**7)
vectors = integer(1, 10**8)  # a benchmark's vector count
rounds = integer(0, 1000)  # benchmark repetitions (0: skip)
hnsw_m = integer(2, 100)  # pgvector's own limits for HNSW m
ef_construction = integer(4, 1000)  # and for ef_construction

# retrieval flags (rag_core/cli/retrieval.py)
OFF_WORDS = ("off", "none")
alpha = real(*RETRIEVAL_BOUNDS["alpha"])  # the dense score's weight in weighted fusion
rrf_k = real(*RETRIEVAL_BOUNDS["rrf_k"])
candidates = integer(*RETRIEVAL_BOUNDS["depth"])
neighbours = integer(*RETRIEVAL_BOUNDS["neighbours"])


def choice(names: tuple[str, ...]) -> Callable[[str], str]:
    """One of `names` (case-insensitive), returned lower-case."""

    def parse(text: str) -> str:
        value = text.strip().lower()
        if value not in names:
            raise argparse.ArgumentTypeError(f"must be one of {', '.join(names)}, not {text!r}")
        return value

    parse.__name__ = "choice"
    return parse


def mmr(text: str) -> float | str:
    """MMR lambda in [0, 1], or "off" (given explicitly: overrides a --config file's lambda)."""
    if text.strip().lower() in OFF_WORDS:
        return "off"
    return real(*RETRIEVAL_BOUNDS["mmr_lambda"])(text)


rewrites = integer(*RETRIEVAL_BOUNDS["rewrites"])  # query rewrites per question
REWRITES = ("multi-query", "hyde")


def rewrite(text: str) -> str:
    """multi-query or hyde (stored as the strategy's name), or "off"."""
    value = text.strip().lower().replace("_", "-")
    if value in OFF_WORDS:
        return "off"
    if value not in REWRITES:
        raise argparse.ArgumentTypeError(f"must be one of {', '.join(REWRITES)} or off, not {text!r}")
    return value.replace("-", "_")
