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
from ..types import GenerationRequest, Hit, TokenUsage

#: A sentence runs to . ! ? (or a CJK stop) followed by space or the end; a stop inside a token
#: ("20.4 km2", "e.g.x", "v1.2") does not end it.
_SENTENCE = re.compile(r"(?:[^.!?。！？\n]|[.!?](?=[^\s.!?]))+(?:[.!?。！？]+[\"'”’)\]]*|\n|$)")
_WORD = re.compile(r"\w+")
STOPWORDS = frozenset(
    """a about above after again against all am an and any are as at be because been before being
    below between both but by can could did do does doing down during each few for from further had
    has have having he her here hers herself him himself his how i if in into is it its itself just
    me more most my myself no nor not now of off on once only or other our ours ourselves out over
    own same she should so some such than that the their theirs them themselves then there these
    they this those through to too under until up very was we were what when where which while who
    whom why will with would you your yours yourself yourselves tell explain describe please know
    many much""".split()
)


def terms(text: str) -> set[str]:
    """Lower-cased words minus stopwords, with a light plural strip so `cities` meets `city`."""
    out = set()
    for w in _WORD.findall(text.lower()):
        if w in STOPWORDS:
            continue
        if len(w) > 4 and w.endswith("ies"):
            w = w[:-3] + "y"
        elif len(w) > 3 and w.endswith("s") and not w.endswith("ss"):
            w = w[:-1]
        out.add(w)
    return out


def sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE.findall(text) if s.strip()]


@dataclass(frozen=True)
class Scored:
    score: int
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
        """The best sentences: most shared terms, then better-ranked hit, then earlier. Sentences
        sharing fewer than half the best one's terms are left out: they are usually noise."""
        wanted = terms(question)
        seen: set[str] = set()
        scored = []
        for n, hit in enumerate(hits, 1):
            for pos, sent in enumerate(sentences(hit.chunk.text)):
                score = len(wanted & terms(sent))
                if score and sent not in seen:
                    seen.add(sent)
                    scored.append(Scored(score, n, pos, sent))
        scored.sort(key=lambda s: (-s.score, s.hit_number, s.position))
        floor = scored[0].score / 2 if scored else 0
        return [s for s in scored if s.score >= floor][: self.max_sentences]
