"""The prompt sent to the answerer: the classic RAG template, filled with numbered context
blocks that are trimmed (by tokens) so the prompt always leaves room for the answer.

Blocks look like `[1] (source — section)` then the chunk text; the numbers are what the model
cites. Lowest-ranked hits are dropped first; the last one that partly fits is cut at a token.
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from typing import Sequence

from rag_core.costs import count_tokens, get_encoding
from rag_core.core.errors import ConfigError, TemplateError
from rag_core.core.types import Hit

DEFAULT_TEMPLATE = """\
Answer the question using your existing knowledge and the context below.
Cite the context passages you use by their numbers, like [1] or [2].
If the context does not help answer the question, begin your answer with "Context not relevant."
If the context is empty, begin your answer with "No context."
If you don't know the answer and the context does not help, say "I don't know".

Context:
{context}

Question: {question}

Answer:"""

PLACEHOLDERS = ("context", "question")
BLOCK_SEPARATOR = "\n\n"
#: a hit cut to fewer tokens than this is dropped instead: a sliver of text only confuses.
MIN_CUT_TOKENS = 16


def validate_template(template: str) -> None:
    """Raise TemplateError (a ConfigError) unless `template` formats with exactly {context} and {question}."""
    try:
        parsed = [(f, spec, conversion) for _, f, spec, conversion in string.Formatter().parse(template)
                  if f is not None]
    except ValueError as exc:
        raise TemplateError(
            f"prompt template cannot be formatted ({exc}); write literal braces as {{{{ and }}}}"
        ) from None
    fields = [f for f, _, _ in parsed]
    unknown = sorted({f for f in fields if f not in PLACEHOLDERS})
    if unknown:
        shown = ", ".join("{" + f + "}" for f in unknown)
        raise TemplateError(
            f"prompt template has unknown placeholder(s) {shown}; only {{context}} and {{question}} "
            "are filled in — write literal braces as {{ and }}"
        )
    # A format spec or conversion ({question:>30000000}, {context!r}) can pad the prompt to any size
    # (tiktoken once panicked on one): placeholders are bare.
    dressed = sorted({"{" + f + ("!" + c if c else "") + (":" + spec if spec else "") + "}"
                      for f, spec, c in parsed if spec or c})
    if dressed:
        shown = ", ".join(d if len(d) <= 40 else d[:37] + "...}" for d in dressed[:3])
        raise TemplateError(f"prompt template has {shown}: placeholders take no format spec or conversion; "
                            "write {context} and {question} bare")
    missing = [f for f in PLACEHOLDERS if f not in fields]
    if missing:
        raise TemplateError(f"prompt template is missing {', '.join('{' + f + '}' for f in missing)}; "
                          f"add {'it' if len(missing) == 1 else 'them'}")


@dataclass(frozen=True)
class BuiltPrompt:
    text: str
    hits: tuple[Hit, ...]  # the hits actually included, in order; block [n] is hits[n-1]
    prompt_tokens: int
    truncated: int  # hits dropped or cut to fit


def block_header(n: int, hit: Hit) -> str:
    chunk = hit.chunk
    label = f"{chunk.source} — {chunk.section}" if chunk.section else chunk.source
    return f"[{n}] ({label})\n"


def build_prompt(
    question: str,
    hits: Sequence[Hit],
    *,
    template: str = DEFAULT_TEMPLATE,
    context_window: int = 16385,
    max_answer_tokens: int = 512,
    encoding: str = "cl100k_base",
) -> BuiltPrompt:
    """Fill the template with as many hits (best first) as fit in
    `context_window - max_answer_tokens` tokens. Raises ConfigError if even the bare
    question does not fit."""
    validate_template(template)
    budget = context_window - max_answer_tokens
    # Fast path, the common case: everything fits, so one count of the whole prompt is enough.
    blocks = [block_header(n, hit) + hit.chunk.text for n, hit in enumerate(hits, start=1)]
    text = template.format(context=BLOCK_SEPARATOR.join(blocks), question=question)
    tokens = count_tokens(text, encoding)
    if tokens <= budget:
        return BuiltPrompt(text, tuple(hits), tokens, 0)
    enc = get_encoding(encoding)
    base = count_tokens(template.format(context="", question=question), encoding)
    if base > budget:
        raise ConfigError(
            f"the question and template alone take {base} tokens, over the budget of {budget} "
            f"(context window {context_window} - answer {max_answer_tokens}); shorten the question "
            "or choose a model with a larger context window"
        )
    sep = count_tokens(BLOCK_SEPARATOR, encoding)
    # a few tokens of slack: BPE counts of parts need not add up exactly to the count of the whole
    room = budget - base - 2
    blocks: list[str] = []
    kept: list[Hit] = []
    for hit in hits:
        header = block_header(len(kept) + 1, hit)
        cost_header = len(enc.encode_ordinary(header)) + (sep if blocks else 0)
        body = enc.encode_ordinary(hit.chunk.text)
        if cost_header + len(body) <= room:
            blocks.append(header + hit.chunk.text)
        elif room - cost_header >= MIN_CUT_TOKENS:
            cut = enc.decode_bytes(body[: room - cost_header]).decode("utf-8", "ignore")
            blocks.append(header + cut)
            kept.append(hit)
            break
        else:
            break
        kept.append(hit)
        room -= cost_header + len(body)
    text, blocks_used, tokens = _fit(template, question, blocks, budget, encoding)
    kept = kept[:blocks_used]
    return BuiltPrompt(text, tuple(kept), tokens, len(hits) - len(kept) + _n_cut(blocks, kept))


def _n_cut(blocks: list[str], kept: list[Hit]) -> int:
    """1 if the last kept block holds less than its hit's full text."""
    if not kept:
        return 0
    return int(not blocks[len(kept) - 1].endswith(kept[-1].chunk.text))


def _fit(template: str, question: str, blocks: list[str], budget: int, encoding: str) -> tuple[str, int, int]:
    """The formatted prompt and its token count, dropping trailing blocks in the rare case token counts of parts
    under-estimated the whole (one count per try; normally exactly one try)."""
    while True:
        text = template.format(context=BLOCK_SEPARATOR.join(blocks), question=question)
        tokens = count_tokens(text, encoding)
        if not blocks or tokens <= budget:
            return text, len(blocks), tokens
        blocks = blocks[:-1]
