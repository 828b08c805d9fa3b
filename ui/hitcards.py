"""Hit cards that say why each chunk was retrieved: every score it got (cosine, bm25, fused,
rerank), labelled, with its rank under each; the question's words highlighted in the chunk
text; neighbour chunks marked as such; and an id per card that the answer's [n] citations link
to (`widgets.answer_html(..., cite_scope=...)`).

All document text goes through `widgets.esc` exactly as before; the only markup added here is
the app's own (<mark>, <span>, ids). Matching is word by word (lower-case, stopwords dropped,
English stems, as BM25 tokenises), bounded in characters, and linear in the text: no pattern is
ever built from the question. A card is a pure function of frozen values, so it is memoised:
redrawing twenty turns of history costs a dictionary look-up per card.
"""

from __future__ import annotations

import functools
from typing import Sequence

import streamlit as st

from rag_core.core.text import spans, stems, words
from rag_core.core.types import Hit, Score

from ui.widgets import clamp_cut, esc, score_text, source_html

#: the question is read up to here, and at most this many distinct words are matched
MAX_QUESTION_CHARS = 2000
MAX_TERMS = 64
#: chunk text beyond this is shown unhighlighted (chunks are ~1,000 characters)
MAX_HIGHLIGHT_CHARS = 20_000
MARK = '<mark class="rag-match" style="background:#fde68a;padding:0 1px">'

#: what each score kind means, for the label's tooltip
SCORE_HELP = {
    "cosine": "cosine similarity of the question's and the chunk's embeddings (dense retrieval)",
    "l2": "L2 distance between the embeddings (smaller is closer)",
    "bm25": "BM25: the question's words found in the chunk, weighted by rarity (lexical retrieval)",
    "rrf": "reciprocal rank fusion of the dense and BM25 ranks (hybrid retrieval)",
    "fused": "weighted sum of normalised dense and BM25 scores (hybrid retrieval)",
    "mmr": "maximal marginal relevance: relevance minus similarity to chunks already chosen",
    "rerank relevance": "relevance from the reranker, which read the question and the chunk together",
}


def card_id(scope: str, n: int) -> str:
    """The HTML id of hit `n` (from 1) of one answer; `scope` names the turn (and column)."""
    return f"hit-{scope}-{n}"


@functools.lru_cache(maxsize=256)
def query_terms(question: str) -> frozenset[str]:
    """The question's content words as stems (at most MAX_TERMS of them)."""
    return frozenset(list(dict.fromkeys(words(question, MAX_QUESTION_CHARS)))[:MAX_TERMS])


def highlight(text: str, terms: frozenset[str]) -> str:
    """`text` escaped, with every word whose stem is a question term wrapped in <mark>."""
    if not terms:
        return esc(text)
    head, tail = text[:MAX_HIGHLIGHT_CHARS], text[MAX_HIGHLIGHT_CHARS:]
    matches = list(spans(head))
    found = stems([m.group().lower() for m in matches])
    parts: list[str] = []
    at = 0
    for match, stem in zip(matches, found):
        if stem in terms:
            parts.append(esc(head[at:match.start()]) + MARK + esc(match.group()) + "</mark>")
            at = match.end()
    parts.append(esc(head[at:]) + esc(tail))
    return "".join(parts)


def matched_words(text: str, question: str) -> list[str]:
    """The words of `text` a card highlights for `question` (for tests and captions)."""
    terms = query_terms(question)
    seen = [m.group() for m in spans(text[:MAX_HIGHLIGHT_CHARS])]
    return [w for w, s in zip(seen, stems([w.lower() for w in seen])) if s in terms]


def score_html(score: Score) -> str:
    title = SCORE_HELP.get(score.kind.lower(), "")
    return (f'<span class="rag-score-item"><span title="{esc(title)}" style="font-weight:600">'
            f"{esc(score.kind)}</span> {score.value:.3f} "
            f"<span style='color:#6b7280'>(rank {score.rank})</span></span>")


def is_neighbour(hit: Hit) -> bool:
    """A chunk added beside a retrieved one for context (the flag may be absent on older hits)."""
    return bool(getattr(hit, "neighbour", False)) or any(s.kind == "neighbour" for s in hit.scores)


def body_html(text: str, terms: frozenset[str], head: int = 260) -> str:
    """Highlighted text; past ~`head` characters the rest is one click away (<details>)."""
    cut = clamp_cut(text, head)
    if cut is None:
        return highlight(text, terms)
    return (f"<details><summary style='cursor:pointer'>{highlight(text[:cut], terms)} … <i>(show all "
            f"{len(text):,} characters)</i></summary>{highlight(text[cut:], terms)}</details>")


def card_html(hit: Hit, n: int | None = None, scope: str | None = None, question: str = "",
              dimmed: bool = False, scores: bool = True) -> str:
    """One hit card: one line of HTML (an inert block: nothing in it is parsed as markdown).
    Memoised; a hit carrying an unhashable extra field is simply drawn afresh."""
    try:
        return _cached_card(hit, n, scope, question, dimmed, scores)
    except TypeError:
        return _card(hit, n, scope, question, dimmed, scores)


def _card(hit: Hit, n: int | None, scope: str | None, question: str, dimmed: bool, scores: bool = True) -> str:
    """`scores=False` (a blind comparison before the vote): no score and no score label, which
    would tell a cosine retriever from a fused one."""
    ident = f' id="{card_id(scope, n)}"' if scope and n else ""
    neighbour = is_neighbour(hit)
    colour = "#9ca3af" if neighbour else "#2563eb"
    style = ("opacity:0.6;" if dimmed else "") + ("border-left-style:dashed;" if neighbour else "")
    label = f"[{n}]" if n else f"#{hit.rank}"
    badge = (' · <span class="rag-neighbour" style="color:#6b7280"><i>neighbour chunk: added for context '
             "beside a retrieved one</i></span>") if neighbour else ""
    head = f" · <span class=\"rag-score\"><b>{esc(score_text(hit))}</b></span>" if scores else ""
    every = " · ".join(score_html(s) for s in hit.all_scores) if scores else ""
    return (
        f'<div class="rag-hit"{ident} style="border-left:4px solid {colour};padding:0.4rem 0.8rem;'
        f'margin:0.4rem 0;background:rgba(37,99,235,0.05);scroll-margin-top:4rem;{style}">'
        f"<div><b>{label}</b>{head} · {source_html(hit.chunk)}{badge}</div>"
        + (f'<div class="rag-scores" style="font-size:0.85rem;margin-top:0.2rem">{every}</div>' if scores else "")
        + f'<div style="font-size:0.95rem;margin-top:0.3rem">{body_html(hit.chunk.text, query_terms(question))}'
        "</div></div>"
    )


_cached_card = functools.lru_cache(maxsize=4096)(_card)


def hits(hit_list: Sequence[Hit], scope: str | None = None, question: str = "", dimmed: bool = False,
         where=None, scores: bool = True) -> None:
    """The cards of one answer, numbered as the prompt numbered them ([1] is the first)."""
    if hit_list:
        where = st if where is None else where
        where.markdown("".join(card_html(h, n, scope, question, dimmed, scores) for n, h in enumerate(hit_list, 1)),
                       unsafe_allow_html=True)
