"""A question set for any index, so settings can be measured on a person's own documents.

`offline_questions` needs no model. It samples chunks across sources (round-robin over the
sources in a seeded order, so a big file does not crowd out the small ones) and writes, for each,
a question made of the chunk's most distinctive words (highest tf x idf over the whole index, at
least 4 letters, no stopwords, not words of its section title) in a shuffled order inside a fixed
frame: "Which passage is about forest, rainfall and canopy?". The relevant source is the chunk's
source. It never copies the chunk's wording: no run of more than COPY_BOUND consecutive words of
the question appears in the chunk (checked, `longest_copied_run`), so BM25 does not get a copied
sentence to match. How well such questions order settings like hand-written ones is measured,
not assumed: `python -m rag_core bench --question-gen` prints Kendall's tau per generator.

Worked example: in a chunk "The Amazon rainforest covers most of the Amazon basin ..." from
source amazon.md, with section "Amazon rainforest", the words rainforest/amazon are the title's,
so the question names the next most distinctive ones, e.g. "Which passage is about basin, hectares
and biodiversity?", relevant source amazon.md.
"""

from __future__ import annotations

import json
import math
import random
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

from .errors import ConfigError
from .evaluate import EvalQuestion, QuestionSet
from .text import STOPWORDS
from .types import Chunk

#: at most this many consecutive words of a question may appear, in order, in its chunk
COPY_BOUND = 3
TERMS_PER_QUESTION = 3
MIN_TERMS = 2
MAX_QUESTIONS = 5_000
#: chunks shorter than this many words say too little to ask about
MIN_CHUNK_WORDS = 12
#: measured agreement with hand-written questions (bench --question-gen, demo corpus, 12 cells):
#: Kendall's tau of the settings' MRR@10 rankings. Below 0.6 it orders settings differently from
#: people's questions (it favours BM25: key terms are words of the chunk), and the app says so.
#: Requiring terms found in 3+ chunks made it worse (0.12), so rare terms stay allowed.
MEASURED_TAU = 0.33
_WORD = re.compile(r"[^\W\d_]{4,40}", re.UNICODE)
_ANY_WORD = re.compile(r"\w+", re.UNICODE)
FRAMES = ("Which passage is about {terms}?", "Where does the text discuss {terms}?",
          "What is said about {terms}?", "Find the part that covers {terms}.")
METHOD = "keyterms"


@dataclass(frozen=True)
class GeneratedQuestion:
    question: str
    relevant_sources: tuple[str, ...]
    chunk_id: str
    method: str = METHOD

    def to_json(self) -> dict:
        return {"question": self.question, "relevant_sources": list(self.relevant_sources),
                "chunk_id": self.chunk_id, "method": self.method}


def words(text: str) -> list[str]:
    return [w.lower() for w in _ANY_WORD.findall(text)]


def longest_copied_run(question: str, chunk_text: str) -> int:
    """The longest run of consecutive question words that appears in the same order in the chunk.
    Worked example: "the capital city of Kenya" against "Nairobi is the capital city" -> 3."""
    q, c = words(question), words(chunk_text)
    best, previous = 0, [0] * (len(c) + 1)
    for qw in q:
        current = [0] * (len(c) + 1)
        for j, cw in enumerate(c, start=1):
            if qw == cw:
                current[j] = previous[j - 1] + 1
                best = max(best, current[j])
        previous = current
    return best


def sample_chunks(chunks: Sequence[Chunk], n: int, seed: int = 0) -> list[Chunk]:
    """Up to `n` chunks with enough words, spread over sources: the sources in a seeded order,
    then one chunk of each in turn (each source's chunks also in a seeded order)."""
    rng = random.Random(seed)
    by_source: dict[str, list[Chunk]] = {}
    for chunk in chunks:
        if len(words(chunk.text)) >= MIN_CHUNK_WORDS:
            by_source.setdefault(chunk.source, []).append(chunk)
    sources = sorted(by_source)
    rng.shuffle(sources)
    for source in sources:
        rng.shuffle(by_source[source])
    picked: list[Chunk] = []
    while len(picked) < n and any(by_source.values()):
        for source in sources:
            if by_source[source] and len(picked) < n:
                picked.append(by_source[source].pop())
    return picked


def _document_frequency(chunks: Sequence[Chunk]) -> tuple[Counter, int]:
    df: Counter = Counter()
    for chunk in chunks:
        df.update({w.lower() for w in _WORD.findall(chunk.text)})
    return df, len(chunks)


def _key_terms(chunk: Chunk, df: Counter, total: int) -> list[str]:
    title = set(words(chunk.section)) | set(words(Path(chunk.source).stem.replace("_", " ")))
    counts = Counter(w.lower() for w in _WORD.findall(chunk.text))
    scored = [(tf * math.log((total + 1) / (df[w] + 0.5)), w) for w, tf in counts.items()
              if w not in STOPWORDS and w not in title and df[w] < total]
    return [w for _, w in sorted(scored, key=lambda x: (-x[0], x[1]))[:TERMS_PER_QUESTION]]


def _question(terms: list[str], chunk: Chunk, rng: random.Random) -> str | None:
    for _ in range(6):  # shuffle until no run of the chunk's wording survives
        order = terms[:]
        rng.shuffle(order)
        joined = ", ".join(order[:-1]) + f" and {order[-1]}" if len(order) > 1 else order[0]
        text = rng.choice(FRAMES).format(terms=joined)
        if longest_copied_run(text, chunk.text) <= COPY_BOUND:
            return text
    return None


def offline_questions(chunks: Sequence[Chunk], n: int = 200, seed: int = 0,
                      progress: Callable[[int, int], None] | None = None) -> list[GeneratedQuestion]:
    """`n` questions (fewer when the index has fewer usable chunks), deterministic for a seed."""
    if not 1 <= n <= MAX_QUESTIONS:
        raise ConfigError(f"ask for 1 to {MAX_QUESTIONS:,} questions, not {n}")
    df, total = _document_frequency(chunks)
    rng = random.Random(seed)
    out, seen = [], set()
    sample = sample_chunks(chunks, min(len(chunks), n * 2), seed)
    for i, chunk in enumerate(sample):
        if len(out) >= n:
            break
        terms = _key_terms(chunk, df, total)
        question = _question(terms, chunk, rng) if len(terms) >= MIN_TERMS else None
        if question and question.lower() not in seen:
            seen.add(question.lower())
            out.append(GeneratedQuestion(question, (chunk.source,), chunk.chunk_id))
        if progress:
            progress(min(len(out), n), n)
    return out


def as_question_set(questions: Sequence[GeneratedQuestion], name: str) -> QuestionSet:
    return QuestionSet(name, tuple(EvalQuestion(q.question, q.relevant_sources) for q in questions))


def to_jsonl(questions: Sequence[GeneratedQuestion]) -> str:
    return "".join(json.dumps(q.to_json(), ensure_ascii=False) + "\n" for q in questions)


__all__ = ["COPY_BOUND", "GeneratedQuestion", "as_question_set", "longest_copied_run", "offline_questions",
           "sample_chunks", "to_jsonl"]
