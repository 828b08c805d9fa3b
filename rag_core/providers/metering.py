"""What the APIs report they billed, counted per component, so a caller can read the
tokens of one call as (after - before). Also the small batching helper every embedder uses.

`meter_of(component)` sees through the embedding cache; `cost_model_of(component)` is the
price-table name (e.g. `openai:text-embedding-3-large` for `openai:text-embedding-3-large@256`).
Meters are shared by everyone using the component (Streamlit shares cached resources between
sessions), so a delta read during a concurrent call by another session may include its tokens.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Iterator, Sequence


@dataclass
class UsageMeter:
    """Cumulative `tokens` (input tokens billed), `completion_tokens`, `search_units` and `requests`."""

    tokens: int = 0
    completion_tokens: int = 0
    search_units: int = 0
    requests: int = 0
    #: True once any response carried usage (a compatible server may report none)
    reported: bool = False
    #: responses whose usage figure was not a believable count (dropped: never summed or priced)
    refused: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def add(self, tokens: int | None = 0, completion_tokens: int | None = 0, search_units: int | None = 0,
            *, refused: bool = False) -> None:
        """A server's figure that is not a believable count is dropped (None): never summed or priced,
        and counted in `refused` (so is a call whose caller already dropped one: `refused`)."""
        given = (tokens, completion_tokens, search_units)
        tokens, completion_tokens, search_units = (v if v is None or believable_count(v) else None for v in given)
        refused = refused or any(v is not None and c is None
                                 for v, c in zip(given, (tokens, completion_tokens, search_units)))
        with self._lock:
            self.requests += 1
            self.refused += int(refused)
            if tokens is not None or completion_tokens is not None or search_units is not None:
                self.reported = self.reported or bool(tokens or completion_tokens or search_units)
            self.tokens += tokens or 0
            self.completion_tokens += completion_tokens or 0
            self.search_units += search_units or 0

    def snapshot(self) -> "MeterReading":
        with self._lock:
            return MeterReading(self.tokens, self.completion_tokens, self.search_units, self.requests, self.refused)


@dataclass(frozen=True)
class MeterReading:
    tokens: int = 0
    completion_tokens: int = 0
    search_units: int = 0
    requests: int = 0
    refused: int = 0

    def __sub__(self, other: "MeterReading") -> "MeterReading":
        return MeterReading(self.tokens - other.tokens, self.completion_tokens - other.completion_tokens,
                            self.search_units - other.search_units, self.requests - other.requests,
                            self.refused - other.refused)


def unwrap(component: object) -> object:
    """The provider inside a wrapper such as CachedEmbedder."""
    while hasattr(component, "inner"):
        component = getattr(component, "inner")
    return component


def meter_of(component: object) -> UsageMeter | None:
    return getattr(unwrap(component), "meter", None)


def reading(component: object) -> MeterReading:
    meter = meter_of(component)
    return meter.snapshot() if meter else MeterReading()


def cost_model_of(component: object) -> str:
    inner = unwrap(component)
    return getattr(inner, "cost_model", None) or getattr(inner, "name", "")


def batches(token_counts: Sequence[int], max_inputs: int, max_tokens: int) -> Iterator[range]:
    """Consecutive index ranges with at most `max_inputs` items and `max_tokens` tokens each
    (an item over `max_tokens` on its own still goes alone: the caller truncates first)."""
    start, total = 0, 0
    for i, n in enumerate(token_counts):
        if i > start and (i - start >= max_inputs or total + n > max_tokens):
            yield range(start, i)
            start, total = i, 0
        total += n
    if start < len(token_counts):
        yield range(start, len(token_counts))


#: the most tokens (or search units) one call can believably report: a million-token window,
#: with room to spare
MAX_REPORTED_TOKENS = 10_000_000


def count_from_float(value: object) -> int | None:
    """A count from an SDK that reads it as a float (Cohere's billed_units): 12.0 -> 12; anything
    that is not a believable whole number (inf, NaN, 2.5, 1e30, 10**400, -5, True, a list) -> None.
    Never raises (int(inf) is an OverflowError, and so is comparing 10**400 with a float)."""
    if isinstance(value, float):
        if not (value == value and 0 <= value <= MAX_REPORTED_TOKENS and value.is_integer()):
            return None
        value = int(value)
    return value if believable_count(value) else None  # type: ignore[return-value]


def believable_count(value: object) -> bool:
    """A server's count we use: a whole number (not a bool) from 0 to MAX_REPORTED_TOKENS.
    10**400, -5, NaN, "12" or True are not: the tiktoken estimate is priced instead."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_REPORTED_TOKENS

