"""Neighbour expansion ("small to big"): send the answerer the chunks around each hit too.

A fact often straddles a chunk boundary (a price here, the discount in the next sentence). Given
the hits and every chunk in reading order, `expand` returns each hit followed by up to n chunks
before and after it from the same source, in reading order, each chunk once, neighbours marked
with the hit they were added for. Hits keep their rank order; a neighbour that is itself a hit
(or was already added) is not repeated. `reading_order` sorts chunks by source, section
ordinal and offset, the order `expand` expects.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from rag_core.core.errors import ConfigError
from rag_core.core.types import Chunk

#: more than this many neighbours each side would flood the prompt; the setting is capped here
MAX_NEIGHBOURS = 5


@dataclass(frozen=True)
class ContextChunk:
    """A chunk for the prompt: a hit (`neighbour_of` None) or a neighbour of the hit it names."""

    chunk: Chunk
    neighbour_of: str | None = None

    @property
    def is_neighbour(self) -> bool:
        return self.neighbour_of is not None


def _ordinal(chunk: Chunk) -> int:
    tail = chunk.doc_id.rpartition("-")[2]
    return int(tail) if tail.isdigit() else 0


def reading_order(chunks: Sequence[Chunk]) -> list[Chunk]:
    """Chunks sorted by (source, section ordinal, start offset); stable for equal keys."""
    return sorted(chunks, key=lambda c: (c.source, _ordinal(c), c.start))


def expand(hit_ids: Sequence[str], ordered: Sequence[Chunk], n: int) -> list[ContextChunk]:
    """Each hit (by chunk id, best first) with up to `n` same-source chunks either side.

    `ordered` must be in reading order (see `reading_order`). Unknown hit ids raise: the hits
    and the chunk list come from different index generations.
    """
    if not 0 <= n <= MAX_NEIGHBOURS:
        raise ConfigError(f"neighbours must be between 0 and {MAX_NEIGHBOURS}, not {n}")
    position = {c.chunk_id: i for i, c in enumerate(ordered)}
    unknown = [h for h in hit_ids if h not in position]
    if unknown:
        raise ConfigError(f"hit {unknown[0]!r} is not in the chunk list; reload the index and retry")
    hits = list(dict.fromkeys(hit_ids))
    used = set(hits)
    out: list[ContextChunk] = []
    for hit_id in hits:
        at = position[hit_id]
        source = ordered[at].source
        window = range(max(0, at - n), min(len(ordered), at + n + 1))
        for i in window:
            chunk = ordered[i]
            if i == at:
                out.append(ContextChunk(chunk))
            elif chunk.source == source and chunk.chunk_id not in used:
                used.add(chunk.chunk_id)
                out.append(ContextChunk(chunk, neighbour_of=hit_id))
    return out


__all__ = ["MAX_NEIGHBOURS", "ContextChunk", "expand", "reading_order"]
