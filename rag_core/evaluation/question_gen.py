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

from rag_core.costs import count_tokens
from rag_core.core.errors import ConfigError
from rag_core.evaluation.evaluate import EvalQuestion, QuestionSet
from rag_core.providers.metering import believable_count
from rag_core.core.text import STOPWORDS
from rag_core.core.types import Chunk, GenerationRequest, TokenUsage

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


# ---- with a chat model ----------------------------------------------------------------------

LLM_METHOD = "llm"
#: a model's question may repeat at most this many consecutive words of its passage
LLM_COPY_BOUND = 5
#: completion tokens a question is estimated at before spending (one short line)
EST_QUESTION_TOKENS = 40
MAX_PASSAGE_CHARS = 2_000
LLM_PROMPT = ("Write one question that a person could ask and that the passage below answers. Use your own "
              "words: do not copy phrases from the passage and do not name its title. Reply with the question "
              "only, on one line.\n\nTitle: {title}\nPassage:\n{text}")


@dataclass(frozen=True)
class LlmPlan:
    """What asking a chat model for `n` questions would send and cost, before spending."""

    chunks: tuple[Chunk, ...]
    prompts: tuple[str, ...]
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float | None  # None: the model has no price in the table


def llm_plan(chunks: Sequence[Chunk], n: int, seed: int, model_price=None) -> LlmPlan:
    """The sampled chunks, their prompts, and the estimate: tiktoken counts of the prompts plus
    EST_QUESTION_TOKENS per reply, priced with `model_price` (a costs Price, or None)."""
    if not 1 <= n <= MAX_QUESTIONS:
        raise ConfigError(f"ask for 1 to {MAX_QUESTIONS:,} questions, not {n}")
    picked = tuple(sample_chunks(chunks, n, seed))
    prompts = tuple(LLM_PROMPT.format(title=c.section[:200], text=c.text[:MAX_PASSAGE_CHARS]) for c in picked)
    tokens, completion = count_tokens(prompts), EST_QUESTION_TOKENS * len(prompts)
    cost = None
    if model_price is not None:
        cost = (tokens * model_price.input_per_mtok + completion * model_price.output_per_mtok) / 1_000_000
    return LlmPlan(picked, prompts, tokens, completion, cost)


def _normalised(text: str) -> str:
    return " ".join(words(text))


def keep_llm_question(reply: str, chunk: Chunk) -> str | None:
    """The model's question, or None when it is not one, copies a long span of its passage, or
    names the passage's title (both would hand lexical search the answer)."""
    line = next((part.strip(" \t\"'-*0123456789.)") for part in reply.splitlines() if part.strip()), "")
    if not (8 <= len(line) <= 300) or not line.endswith("?"):
        return None
    if longest_copied_run(line, chunk.text) > LLM_COPY_BOUND:
        return None
    title = _normalised(chunk.section)
    if len(title) > 3 and title in _normalised(line):
        return None
    return line


def llm_questions(plan: LlmPlan, llm, progress: Callable[[int, int], None] | None = None
                  ) -> tuple[list[GeneratedQuestion], int, int]:
    """Ask `llm` (an OpenAI-compatible chat model) once per planned chunk; keep the questions that
    pass `keep_llm_question`, deduplicated. Returns them and the prompt and completion tokens
    spent (the server's counts where it reported them, else tiktoken's)."""
    out, seen, spent_in, spent_out = [], set(), 0, 0
    for i, (chunk, prompt) in enumerate(zip(plan.chunks, plan.prompts)):
        parts = list(llm.stream(GenerationRequest(prompt=prompt, question="", hits=())))
        reply = "".join(p for p in parts if isinstance(p, str))
        usage = next((p for p in parts if isinstance(p, TokenUsage)), None)
        reported = usage is not None and believable_count(usage.prompt_tokens) and believable_count(
            usage.completion_tokens)
        spent_in += usage.prompt_tokens if reported else count_tokens(prompt)
        spent_out += usage.completion_tokens if reported else count_tokens(reply)
        question = keep_llm_question(reply, chunk)
        if question and _normalised(question) not in seen:
            seen.add(_normalised(question))
            out.append(GeneratedQuestion(question, (chunk.source,), chunk.chunk_id, LLM_METHOD))
        if progress:
            progress(i + 1, len(plan.chunks))
    return out, spent_in, spent_out


def as_question_set(questions: Sequence[GeneratedQuestion], name: str) -> QuestionSet:
    return QuestionSet(name, tuple(EvalQuestion(q.question, q.relevant_sources) for q in questions))


def to_jsonl(questions: Sequence[GeneratedQuestion]) -> str:
    return "".join(json.dumps(q.to_json(), ensure_ascii=False) + "\n" for q in questions)


__all__ = ["COPY_BOUND", "LLM_COPY_BOUND", "GeneratedQuestion", "LlmPlan", "as_question_set", "keep_llm_question",
           "llm_plan", "llm_questions", "longest_copied_run", "offline_questions", "sample_chunks", "to_jsonl"]
