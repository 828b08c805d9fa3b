"""Query rewriting with a generative answerer, so a short or oddly worded question still finds
its passages: `multi_query` asks the model for N paraphrases (each is retrieved, the lists fused
with `fuse_rewrites`); `hyde` asks it for one hypothetical passage that answers the question
(HyDE), embedded instead of or beside the question.

Read it as: prompts (constants), `Rewrite` (what came back, shown to the person and priced as
its own "rewrite" stage), the two strategies, the parsing of the model's reply, the fusion.

The model's reply is untrusted: at most MAX_REPLY_CHARS of it are kept (the rest of the stream
is read for its usage and dropped; past MAX_READ_CHARS the stream is closed), at most
MAX_REWRITES queries of MAX_REWRITE_CHARS each, a passage of at most MAX_HYDE_CHARS. A reply
with nothing usable falls back to the question alone, with a warning that says so. Provider
failures (key, network, an empty answer) are raised as the ProviderError they are: the same
model answers next, so the turn would fail there anyway. The extractive answerer cannot
rewrite: asking it to is a ConfigError that says how to configure a model.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from typing import Protocol, Sequence

from rag_core.costs import count_tokens, encoding_for_model
from rag_core.core.errors import ConfigError
from rag_core.core.types import LLM, GenerationRequest, Hit, TokenUsage
from rag_core.core.types import DEFAULT_RRF_K
from rag_core.retrieval.fusion import rrf

MULTI_QUERY, HYDE = "multi_query", "hyde"
STRATEGIES = (MULTI_QUERY, HYDE)
DEFAULT_REWRITES = 3
MAX_REWRITES = 5
MAX_REWRITE_CHARS = 300
MAX_HYDE_CHARS = 1500
HYDE_WORDS = 120
#: the question as put in the rewrite prompt (one line)
MAX_QUESTION_CHARS = 1000
#: of the model's reply, this much is kept and parsed; past MAX_READ_CHARS the stream is closed
MAX_REPLY_CHARS = 8000
MAX_READ_CHARS = 64_000
#: lines of a multi-query reply looked at (a model that writes an essay is not read to the end)
MAX_REPLY_LINES = 40

MULTI_QUERY_PROMPT = (
    "Rewrite the question below as {n} different search queries that would find the passages "
    "answering it. Paraphrase it, use synonyms, and spell out the names or terms it implies. "
    "Do not answer it. Write exactly one query per line, with no numbering and no other text.\n\n"
    "Question: {question}"
)
HYDE_PROMPT = (
    "Write a short factual passage, like a paragraph of an encyclopedia, that answers the question "
    "below. If you are unsure of the facts, write a plausible passage anyway: it is only used to "
    "search for real documents. At most {words} words; no title, no list, no other text.\n\n"
    "Question: {question}"
)


@dataclass(frozen=True)
class Rewrite:
    """One rewrite of one question. `queries` are the model's rewrites (multi_query) or its one
    passage (hyde), cleaned and bounded; empty when the reply had nothing usable (`warning` then
    says so). `estimated` is the tiktoken count of the prompt sent and the reply kept;
    `reported` what the server said it billed (None when it says nothing). `model` is the
    answerer's name; `prompt` the exact text sent."""

    strategy: str
    question: str
    queries: tuple[str, ...]
    estimated: TokenUsage
    reported: TokenUsage | None
    model: str
    latency_ms: float
    warning: str = ""
    prompt: str = ""

    @property
    def usage(self) -> TokenUsage:
        """The tokens to price: the server's count when it gave one, else the estimate."""
        return self.reported if self.reported is not None else self.estimated

    @property
    def fell_back(self) -> bool:
        return not self.queries

    def search_texts(self, with_question: bool = True) -> tuple[str, ...]:
        """What to retrieve with, one ranked list each (index 0 is the question when included);
        the question alone when the rewrite fell back, whatever `with_question` says."""
        if with_question or not self.queries:
            return (self.question, *self.queries)
        return self.queries


class QueryRewriter(Protocol):
    """question -> Rewrite; one model call per question."""

    strategy: str

    def rewrite(self, question: str) -> Rewrite: ...


@dataclass(frozen=True)
class MultiQueryRewriter:
    """`encoding`: the tiktoken encoding the estimate counts with (the cost model's; None: the
    answerer's own model's)."""

    llm: LLM
    n: int = DEFAULT_REWRITES
    encoding: str | None = None
    strategy: str = field(default=MULTI_QUERY, init=False)

    def __post_init__(self) -> None:
        require_generative(self.llm, self.strategy)
        _check_n(self.n)

    def rewrite(self, question: str) -> Rewrite:
        return multi_query(self.llm, question, self.n, encoding=self.encoding)


@dataclass(frozen=True)
class HydeRewriter:
    llm: LLM
    encoding: str | None = None
    strategy: str = field(default=HYDE, init=False)

    def __post_init__(self) -> None:
        require_generative(self.llm, self.strategy)

    def rewrite(self, question: str) -> Rewrite:
        return hyde(self.llm, question, encoding=self.encoding)


def create_rewriter(strategy: str | None, llm: LLM | None, n: int = DEFAULT_REWRITES,
                    encoding: str | None = None) -> QueryRewriter | None:
    """The rewriter for a setting: None/"none"/"" is no rewriting; `multi_query` (or
    `multi-query`) and `hyde` need a generative answerer."""
    name = (strategy or "none").strip().lower().replace("-", "_")
    if name == "none":
        return None
    if name not in STRATEGIES:
        raise ConfigError(f"unknown query rewriting {strategy!r}; known: none, {', '.join(STRATEGIES)}")
    if name == MULTI_QUERY:
        return MultiQueryRewriter(llm, n, encoding)  # type: ignore[arg-type]  # None is refused there
    return HydeRewriter(llm, encoding)  # type: ignore[arg-type]


def is_generative(llm: object | None) -> bool:
    """Can this answerer write text of its own? The extractive one only quotes the context.
    An answerer may say so itself with a `generative` attribute."""
    if llm is None:
        return False
    declared = getattr(llm, "generative", None)
    if isinstance(declared, bool):
        return declared
    return str(getattr(llm, "name", "")).partition(":")[0] not in ("", "extractive")


def require_generative(llm: object | None, strategy: str) -> None:
    if not is_generative(llm):
        which = getattr(llm, "name", None) or "no answerer"
        raise ConfigError(
            f"query rewriting ({strategy}) needs a generative answerer, and {which} cannot write "
            "rewrites: choose a chat model (CLI: --llm openai:gpt-4o-mini, or --llm compatible:<model> "
            "--base-url <server>; app: the Answerer setting), or turn query rewriting off")


def _check_n(n: int) -> None:
    if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= MAX_REWRITES:
        raise ConfigError(f"the number of query rewrites must be 1 to {MAX_REWRITES}, not {n!r}")


# ---- the two strategies ------------------------------------------------------------------


def multi_query(llm: LLM, question: str, n: int = DEFAULT_REWRITES, *,
                encoding: str | None = None) -> Rewrite:
    """Ask for `n` (1..MAX_REWRITES) rewrites of `question`: at most n distinct queries, none
    equal to the question, each at most MAX_REWRITE_CHARS."""
    require_generative(llm, MULTI_QUERY)
    _check_n(n)
    asked = _one_line(question)
    prompt = MULTI_QUERY_PROMPT.format(n=n, question=asked)
    reply = _complete(llm, prompt, asked)
    queries = parse_queries(reply.text, n, question)
    warning = reply.warning
    if not queries:
        warning = _join(warning, f"the model's reply held no usable query ({_glimpse(reply.text)}); "
                                 "searched with the question alone")
    elif len(queries) < n:
        warning = _join(warning, f"asked for {n} rewrites, the model gave {len(queries)} usable")
    return _rewrite(MULTI_QUERY, llm, question, queries, prompt, reply, warning, encoding)


def hyde(llm: LLM, question: str, *, encoding: str | None = None) -> Rewrite:
    """Ask for one hypothetical passage answering `question` (at most MAX_HYDE_CHARS), to embed
    in place of, or beside, the question."""
    require_generative(llm, HYDE)
    asked = _one_line(question)
    prompt = HYDE_PROMPT.format(words=HYDE_WORDS, question=asked)
    reply = _complete(llm, prompt, asked)
    passage = parse_passage(reply.text)
    warning = reply.warning
    if not passage:
        warning = _join(warning, f"the model's reply is not a usable passage ({_glimpse(reply.text)}); "
                                 "searched with the question alone")
    return _rewrite(HYDE, llm, question, (passage,) if passage else (), prompt, reply, warning, encoding)


@dataclass(frozen=True)
class _Reply:
    text: str
    reported: TokenUsage | None
    latency_ms: float
    warning: str = ""


def _complete(llm: LLM, prompt: str, question: str) -> _Reply:
    """The model's whole reply to `prompt` (its first MAX_REPLY_CHARS) and the usage it reported."""
    t0 = time.perf_counter()
    kept: list[str] = []
    size = read = 0
    reported: TokenUsage | None = None
    warning = ""
    stream = llm.stream(GenerationRequest(prompt=prompt, question=question, hits=()))
    try:
        for item in stream:
            if isinstance(item, TokenUsage):
                reported = item
            elif isinstance(item, str):
                read += len(item)
                if size < MAX_REPLY_CHARS:
                    kept.append(item[: MAX_REPLY_CHARS - size])
                    size += len(kept[-1])
                if read > MAX_READ_CHARS:
                    warning = f"the model's reply ran past {MAX_READ_CHARS:,} characters and was cut off"
                    break
    finally:
        close = getattr(stream, "close", None)
        if callable(close):
            close()
    return _Reply("".join(kept), reported, (time.perf_counter() - t0) * 1000.0, warning)


def _rewrite(strategy: str, llm: LLM, question: str, queries: Sequence[str], prompt: str, reply: _Reply,
             warning: str, encoding: str | None) -> Rewrite:
    name = str(getattr(llm, "name", "") or "")
    enc = encoding or encoding_for_model(str(getattr(llm, "cost_model", "") or name))
    estimated = TokenUsage(prompt_tokens=count_tokens(prompt, enc),
                           completion_tokens=count_tokens(reply.text, enc))
    return Rewrite(strategy, question, tuple(queries), estimated, reply.reported, name, reply.latency_ms,
                   warning, prompt)


def _join(*warnings: str) -> str:
    return "; ".join(w for w in warnings if w)


# ---- parsing the reply -------------------------------------------------------------------

_THINK = re.compile(r"<think>.*?(?:</think>|\Z)", re.S | re.I)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")
#: leading list markers: "1.", "2)", "(3)", "- ", "* ", "• ", "Query 1:", "Q2 -" ...
_MARKER = re.compile(r"^(?:[-*•·>]+|\(?\d{1,3}[.):\]](?!\d)|\d{1,3}\s+[-–—]|(?:query|rewrite|q)\s*\d{1,3}\s*"
                     r"[:.)\-–—]|(?:search\s+)?(?:query|rewrite)\s*:)\s*", re.I)
_HEADING = re.compile(r"^#{1,6}\s")
_WRAP = "\"'`*_“”‘’«» "
_LABEL = re.compile(r"^(?:hypothetical\s+)?(?:passage|answer|paragraph)\s*:\s*", re.I)
_REFUSALS = ("i don't know", "i do not know", "i cannot", "i can't", "i'm sorry", "i am sorry", "sorry,",
             "as an ai")


def _clean(text: str) -> str:
    """Reasoning blocks and invisible/control characters removed; tabs become spaces."""
    return _CONTROL.sub("", _THINK.sub(" ", text[:MAX_REPLY_CHARS])).replace("\t", " ")


def _one_line(text: str, limit: int = MAX_QUESTION_CHARS) -> str:
    return _cut(" ".join(_CONTROL.sub("", text).split()), limit)


def _cut(text: str, limit: int) -> str:
    """At most `limit` characters, cut at the last space when there is one in the second half."""
    if len(text) <= limit:
        return text
    head = text[:limit]
    space = head.rfind(" ")
    return (head[:space] if space > limit // 2 else head).rstrip()


def _key(text: str) -> str:
    return " ".join(text.casefold().split()).rstrip("?.!。？！ ")


def _glimpse(text: str) -> str:
    """How long the reply was; never its words (a warning is shown, and the reply is untrusted)."""
    size = len(text.strip())
    return f"{size:,} characters" if size else "it was empty"


def _query_line(line: str) -> str:
    """One line of a multi-query reply as a query, or "" when it is not one (a preamble, prose)."""
    line = line.strip()
    if _HEADING.match(line):
        return ""  # a markdown heading ("## Queries")
    for _ in range(2):
        line = _MARKER.sub("", line).strip()
    line = line.strip(_WRAP)
    if not line or line.endswith(":") or len(line) > 2 * MAX_REWRITE_CHARS:
        return ""  # "Here are three queries:", or a paragraph: not a query
    if len(re.findall(r"\w", line)) < 2:
        return ""
    return _cut(" ".join(line.split()), MAX_REWRITE_CHARS)


def parse_queries(reply: str, n: int, question: str = "") -> tuple[str, ...]:
    """At most `n` (<= MAX_REWRITES) distinct queries from a reply with one per line (numbered,
    bulleted or quoted lines are fine), skipping preambles, blanks and the question itself.
    When some lines are list items, only those are read ("Sure!" above a list is not a query)."""
    n = max(0, min(n, MAX_REWRITES))
    seen = {_key(question)} if question.strip() else set()
    out: list[str] = []
    lines = [line.strip() for line in _clean(reply).splitlines()[:MAX_REPLY_LINES]]
    items = [line for line in lines if _MARKER.match(line)]
    for line in items or lines:
        query = _query_line(line)
        if query and _key(query) not in seen:
            seen.add(_key(query))
            out.append(query)
            if len(out) == n:
                break
    return tuple(out)


def parse_passage(reply: str) -> str:
    """The passage of a HyDE reply on one line, at most MAX_HYDE_CHARS (cut at a sentence end
    when one is in the second half), or "" for an empty reply, a refusal or one with too few words."""
    text = _LABEL.sub("", " ".join(_clean(reply).split())).strip(_WRAP)
    if len(re.findall(r"\w+", text[:MAX_HYDE_CHARS])) < 3:
        return ""
    if text.casefold().startswith(_REFUSALS) and len(text) < 300:
        return ""
    if len(text) <= MAX_HYDE_CHARS:
        return text
    head = text[:MAX_HYDE_CHARS]
    end = max(head.rfind(". "), head.rfind("! "), head.rfind("? "))
    return head[: end + 1] if end > MAX_HYDE_CHARS // 2 else _cut(text, MAX_HYDE_CHARS)


# ---- fusing the per-query results --------------------------------------------------------


@dataclass(frozen=True)
class FusedHit:
    """A fused result: `hit` is the chunk's hit from the list where it ranked best, re-scored
    (score = the RRF score, score_kind "rrf", rank = its fused rank; its per-query rank and
    score kept as the retrieval ones). `found_by` lists the indices (into the result lists, i.e.
    into `Rewrite.search_texts()`) of the queries that found it; `ranks` its rank in each list."""

    hit: Hit
    found_by: tuple[int, ...]
    ranks: tuple[int | None, ...]


def fuse_rewrites(result_lists: Sequence[Sequence[Hit]], k: int, rrf_k: float = DEFAULT_RRF_K,
                  weights: Sequence[float] | None = None) -> list[FusedHit]:
    """Reciprocal rank fusion of one ranked hit list per search text: at most `k` results, best
    first, each chunk once. `weights` (one per list) can favour the question's own list."""
    ranked = [[(h.chunk.chunk_id, h.score) for h in hits] for hits in result_lists]
    if not ranked:
        return []
    firsts: list[dict[str, Hit]] = []
    for hits in result_lists:
        first: dict[str, Hit] = {}
        for h in hits:
            first.setdefault(h.chunk.chunk_id, h)
        firsts.append(first)
    out = []
    for position, fused in enumerate(rrf(ranked, k, rrf_k, weights), start=1):
        found_by = tuple(i for i, r in enumerate(fused.ranks) if r is not None)
        best = min(found_by, key=lambda i: (fused.ranks[i], i))
        hit = firsts[best][fused.chunk_id].reranked(fused.score, "rrf", position)
        out.append(FusedHit(hit, found_by, fused.ranks))
    return out


__all__ = [
    "DEFAULT_REWRITES", "HYDE", "HYDE_PROMPT", "MAX_HYDE_CHARS", "MAX_QUESTION_CHARS", "MAX_REWRITES",
    "MAX_REWRITE_CHARS", "MULTI_QUERY", "MULTI_QUERY_PROMPT", "STRATEGIES", "FusedHit", "HydeRewriter",
    "MultiQueryRewriter", "QueryRewriter", "Rewrite", "create_rewriter", "fuse_rewrites", "hyde",
    "is_generative", "multi_query", "parse_passage", "parse_queries", "require_generative",
]
