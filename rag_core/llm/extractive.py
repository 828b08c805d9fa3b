"""An answerer with no model: it quotes the sentences of the retrieved chunks that share the
most words with the question, each cited as [n] like the prompt numbers them.

It follows the default template's rules, so the offline path behaves like a well-behaved
model: no hits -> "No context."; nothing overlaps the question -> "Context not relevant."
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterator

from ..costs import count_tokens
from ..text import terms
from ..types import GenerationRequest, Hit, TokenUsage

#: A sentence runs to . ! ? (or a CJK stop) followed by space or the end; a stop inside a token
#: ("20.4 km2", "e.g.x", "v1.2") does not end it.
_SENTENCE = re.compile(r"(?:[^.!?。！？\n]|[.!?](?=[^\s.!?]))+(?:[.!?。！？]+[\"'”’)\]]*|\n|$)")
def sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE.findall(text) if s.strip()]


@dataclass(frozen=True)
class Scored:
    score: float
    hit_number: int  # 1-based, as numbered in the prompt
    position: int  # sentence index within its chunk
    text: str


@dataclass
class ExtractiveAnswerer:
    """Implements the LLM protocol; `max_sentences` bounds the answer."""

    name: str = "extractive"
    context_window: int = 16385
    max_answer_tokens: int = 512
    max_sentences: int = 3
    encoding: str = "cl100k_base"

    def stream(self, request: GenerationRequest) -> Iterator[str | TokenUsage]:
        answer = self.answer(request.question, request.hits)
        words = re.findall(r"\S+\s*", answer)
        yield from words
        yield TokenUsage(
            prompt_tokens=count_tokens(request.prompt, self.encoding),
            completion_tokens=count_tokens(answer, self.encoding),
        )

    def answer(self, question: str, hits: tuple[Hit, ...]) -> str:
        if not hits:
            return (
                "No context. No retrieved chunk passed the score threshold, so there is nothing "
                "to answer from. I don't know."
            )
        picked = self.pick(question, hits)
        if not picked:
            first = sentences(hits[0].chunk.text)
            closest = f' The closest passage says: "{first[0]}" [1]' if first else ""
            return f"Context not relevant. I don't know.{closest}"
        return self._fit(" ".join(f"{s.text} [{s.hit_number}]" for s in picked))

    def _fit(self, answer: str) -> str:
        """Keep the answer within max_answer_tokens (cut at a word) like a real model would."""
        if count_tokens(answer, self.encoding) <= self.max_answer_tokens:
            return answer
        words = answer.split(" ")
        lo, hi = 1, len(words)
        while lo < hi:  # the longest word prefix that fits
            mid = (lo + hi + 1) // 2
            if count_tokens(" ".join(words[:mid]) + " …", self.encoding) <= self.max_answer_tokens:
                lo = mid
            else:
                hi = mid - 1
        return " ".join(words[:lo]) + " …"

    def pick(self, question: str, hits: tuple[Hit, ...]) -> list[Scored]:
        """The best sentences: most shared terms (plus half a term per term shared with the chunk's
        heading), then better-ranked hit, then earlier. Sentences
        sharing fewer than half the best one's terms are left out: they are usually noise."""
        wanted = terms(question)
        seen: set[str] = set()
        scored = []
        for n, hit in enumerate(hits, 1):
            # a heading that matches the question ("Installation" for "how do I install it?")
            # makes its sentences relevant even when they don't repeat the word
            section_bonus = 0.5 * len(wanted & terms(hit.chunk.section))
            for pos, sent in enumerate(sentences(hit.chunk.text)):
                score = len(wanted & terms(sent)) + section_bonus
                if score and sent not in seen:
                    seen.add(sent)
                    scored.append(Scored(score, n, pos, sent))
        scored.sort(key=lambda s: (-s.score, s.hit_number, s.position))
        floor = scored[0].score / 2 if scored else 0
        return [s for s in scored if s.score >= floor][: self.max_sentences]
