"""Word matching, one definition for every lexical part (BM25, the pool rerankers, the extractive
answerer, question generation, the cards' highlighting): a word is two or more word characters,
lower-cased; one stopword list; English Snowball stems. So "the same word" means the same
thing everywhere."""

from __future__ import annotations

import re
import threading
from typing import Iterator, Sequence

import Stemmer  # PyStemmer: the C Snowball stemmer (a required dependency)

_WORD = re.compile(r"\w\w+", re.UNICODE)
_LOCAL = threading.local()

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


def _stemmer():
    """English Snowball (PyStemmer), one per thread: a Stemmer object keeps a cache and is not
    safe to share between threads (the app serves sessions on threads)."""
    found = getattr(_LOCAL, "stemmer", None)
    if found is None:
        found = _LOCAL.stemmer = Stemmer.Stemmer("english")
    return found


def stem(word: str) -> str:
    """A lower-case word's English stem: `installation`, `installing` and `installed` meet `install`."""
    return _stemmer().stemWord(word)


def stems(lower_words: Sequence[str]) -> list[str]:
    return _stemmer().stemWords(list(lower_words))


def spans(text: str) -> Iterator[re.Match]:
    """The words of `text` as matches (for highlighting them in place)."""
    return _WORD.finditer(text)


def words(text: str, limit: int | None = None) -> list[str]:
    """Stems of the words of `text` (its first `limit` characters) in order, stopwords left out,
    repeats kept: what BM25 indexes and scores, the pool rerankers match and the cards highlight."""
    head = text if limit is None else text[:limit]
    return stems([w for w in _WORD.findall(head.lower()) if w not in STOPWORDS])


def terms(text: str) -> set[str]:
    """The distinct stems of `words(text)`: a predictable notion of 'the same word'."""
    return set(words(text))
