"""The extractive answerer's sentence splitter knows abbreviations, initials, acronyms and decimals
(issue 19, part 4: "invented by Dr. [1]" lost the name)."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from rag_core.llm.extractive import sentences


def test_the_issue_case_keeps_the_name():
    text = "The Zorblax widget was invented by Dr. Ada Quill in 1931. It spins at 3.5 turns a second."
    assert sentences(text) == ["The Zorblax widget was invented by Dr. Ada Quill in 1931.",
                               "It spins at 3.5 turns a second."]


def test_initials_acronyms_and_months():
    assert sentences("J. R. R. Tolkien moved to the U.S. in Jan. 1937. He wrote.") == [
        "J. R. R. Tolkien moved to the U.S. in Jan. 1937.", "He wrote."]
    assert sentences("See e.g. the Fig. 3 caption. Then stop!") == ["See e.g. the Fig. 3 caption.", "Then stop!"]


PIECES = st.sampled_from(["Dr. Quill", "Mrs. Ada Lovelace", "J. R. Smith", "the U.S. army", "3.14 metres",
                          "version 2.0.1", "e.g. rivers", "St. Louis", "Kenya", "the capital", "42 people"])
SENTENCE = st.lists(PIECES, min_size=1, max_size=4).map(lambda p: "This is " + " and ".join(p))
ENDS = st.sampled_from([".", "!", "?", '."', ".)"])


@given(st.lists(st.tuples(SENTENCE, ENDS), min_size=1, max_size=6))
def test_joined_sentences_come_back_apart(parts):
    written = [body + end for body, end in parts]
    assert sentences(" ".join(written)) == written


@given(st.text(max_size=300))
def test_splitting_never_loses_a_character(text):
    assert re.sub(r"\s", "", "".join(sentences(text))) == re.sub(r"\s", "", text)
