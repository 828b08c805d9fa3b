"""Word-level text helpers shared by the lexical parts (extractive answerer, BM25 rerankers):
one stopword list and one crude stemmer, so "the same word" means the same thing everywhere."""

from __future__ import annotations

import re

_WORD = re.compile(r"\w+", re.UNICODE)

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


#: Suffixes stripped so that `installation`, `installing` and `installed` all meet `install`.
_SUFFIXES = ("ations", "ation", "ings", "ing", "ions", "ion", "ed", "es", "s")


def stem(word: str) -> str:
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    for suffix in _SUFFIXES:
        if len(word) >= len(suffix) + 4 and word.endswith(suffix) and not word.endswith("ss"):
            return word[: -len(suffix)]
    return word


def words(text: str) -> list[str]:
    """Stems of the words of `text` in order, stopwords left out (repeats kept, for BM25)."""
    return [stem(w) for w in _WORD.findall(text.lower()) if w not in STOPWORDS]


def terms(text: str) -> set[str]:
    """Lower-cased word stems minus stopwords: a crude but predictable notion of 'the same word'."""
    return {stem(w) for w in _WORD.findall(text.lower()) if w not in STOPWORDS}
