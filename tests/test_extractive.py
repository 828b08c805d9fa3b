from rag_core.costs import count_tokens
from rag_core.llm import LLMS, ExtractiveAnswerer
from rag_core.prompts import build_prompt
from rag_core.types import LLM, Chunk, GenerationRequest, Hit, TokenUsage


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
    from rag_core.llm.extractive import _SENTENCE

    text = "The lake (20.4 km2) contained fish. Version 1.2 shipped! Was it? Yes."
    assert [m.group(0).strip() for m in _SENTENCE.finditer(text)] == [
        "The lake (20.4 km2) contained fish.", "Version 1.2 shipped!", "Was it?", "Yes.",
    ]


def test_word_forms_and_headings_count_as_relevant():
    from rag_core.llm.extractive import ExtractiveAnswerer
    from rag_core.types import Chunk, Hit

    chunk = Chunk("guide.md", "Guide > Installation", "Run pip install -e . in a fresh virtualenv. Then start it.",
                  0, 58, "d-0")
    answer = ExtractiveAnswerer().answer("How do I install it?", (Hit(chunk, 0.42, "cosine", 1),))
    assert not answer.startswith("Context not relevant") and "[1]" in answer
    other = Chunk("guide.md", "Guide > Setup", "Configuration lives in settings.toml.", 0, 37, "d-1")
    answer = ExtractiveAnswerer().answer("Which licence applies?", (Hit(other, 0.3, "cosine", 1),))
    assert answer.startswith("Context not relevant")
