"""Cut Documents into Chunks whose offsets point exactly back into the source text.

Each strategy maps (text, config) to (start, end) spans; `chunk_document` trims whitespace by
moving the offsets (never by editing text), drops empty spans, and builds the Chunks. So
`doc.text[c.start:c.end] == c.text` holds for every strategy by construction.

- `chars`: fixed windows of `size` characters, stepping `size - overlap`.
- `tokens`: windows of `size` tokens of `config.encoding`, cut only where a token ends on a
  character boundary, so offsets are exact even when a token splits a multi-byte character.
- `recursive` (default): paragraphs, then sentences, then whitespace, then a hard cut, packed
  greedily up to `size` characters; a new chunk repeats the previous chunk's trailing pieces
  (sentences, words...) that fit in `overlap` characters, so overlap is "about", never more.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_right
from itertools import accumulate
from typing import Callable, Iterable, Iterator

from rag_core.core.errors import ConfigError
from rag_core.core.types import Chunk, ChunkingConfig, Document
from rag_core.core.tokens import get_encoding

Span = tuple[int, int]
Strategy = Callable[[str, ChunkingConfig], Iterable[Span]]


# ---- chars -------------------------------------------------------------------------------


def _chars(text: str, config: ChunkingConfig) -> Iterator[Span]:
    size, step, n = config.size, config.size - config.overlap, len(text)
    for start in range(0, n, step):
        end = min(start + size, n)
        yield start, end
        if end == n:
            return


# ---- tokens ------------------------------------------------------------------------------


def _utf8_len(ch: str) -> int:
    o = ord(ch)
    return 1 if o < 0x80 else 2 if o < 0x800 else 3 if o < 0x10000 else 4


def _token_boundaries(text: str, encoding: str) -> tuple[list[int], list[int]]:
    """Token indices where a token ends on a character boundary, and the char offset there.

    Both lists start at (0, 0) and end at (n_tokens, len(text)).
    """

    enc = get_encoding(encoding)
    tokens = enc.encode_ordinary(text)
    byte_ends = list(accumulate(len(enc.decode_single_token_bytes(t)) for t in tokens))
    if len(text.encode("utf-8", "surrogatepass")) == len(text):  # ASCII: bytes are chars
        return list(range(len(tokens) + 1)), [0, *byte_ends]
    char_of_byte = {0: 0}
    pos = 0
    for i, ch in enumerate(text, 1):
        pos += _utf8_len(ch)
        char_of_byte[pos] = i
    tok_idx, char_off = [0], [0]
    for i, b in enumerate(byte_ends, 1):
        c = char_of_byte.get(b)
        if c is not None:
            tok_idx.append(i)
            char_off.append(c)
    return tok_idx, char_off


def _tokens(text: str, config: ChunkingConfig) -> Iterator[Span]:
    enc = get_encoding(config.encoding)
    tok_idx, char_off = _token_boundaries(text, config.encoding)
    last = len(tok_idx) - 1
    a = 0
    while a < last:
        # furthest safe boundary within `size` tokens; at least one step even if oversized
        b = max(a + 1, bisect_right(tok_idx, tok_idx[a] + config.size) - 1)
        # on its own (and trimmed) a span can re-encode to more tokens than the window: shrink
        while b > a + 1 and len(enc.encode_ordinary(text[char_off[a] : char_off[b]].strip())) > config.size:
            b -= 1
        yield char_off[a], char_off[b]
        if b == last:
            return
        a = max(a + 1, bisect_right(tok_idx, tok_idx[b] - config.overlap) - 1)


# ---- recursive ---------------------------------------------------------------------------

#: coarse to fine; each regex matches a separator, which stays with the piece before it.
#: Each is linear on any text: a match may only start where its run starts (the lookbehinds),
#: so `finditer` never rescans a long run of dots or blank lines from every position in it.
_SEPARATORS = (
    re.compile(r"(?<!\n)\n[ \t\r\f\v]*\n\s*"),  # paragraph break
    re.compile(r"(?<![.!?…])[.!?…]+[\"'”’)\]]*\s+|(?<![。！？])[。！？]+\s*"),  # sentence end
    re.compile(r"\s+"),  # whitespace
)


def _is_glue(ch: str) -> bool:
    """Characters that belong to the one before (combining marks, ZWJ, variation selectors)."""
    return unicodedata.category(ch) in ("Mn", "Mc", "Me") or ch in "\u200d\ufe0e\ufe0f"


def _hard_cut(text: str, start: int, end: int, size: int, overlap: int) -> Iterator[Span]:
    """Windows like `chars`, but never separating a base character from its marks."""
    while end - start > size:
        cut = start + size
        while cut > start + 1 and _is_glue(text[cut]):
            cut -= 1
        if cut == start + 1 and _is_glue(text[cut]):  # a window of nothing but marks: cut through
            cut = start + size  # them, else each window would advance one character (quadratic)
        yield start, cut
        nxt = max(cut - overlap, start + 1)
        while nxt < cut and _is_glue(text[nxt]):
            nxt += 1
        start = nxt
    yield start, end


def _parts(text: str, start: int, end: int, level: int) -> Iterator[Span]:
    pos = start
    for m in _SEPARATORS[level].finditer(text, start, end):
        if pos < m.end() < end:
            yield pos, m.end()
            pos = m.end()
    yield pos, end


def _packed(text: str, start: int, end: int, size: int, overlap: int, level: int = 0) -> list[Span]:
    """Tile text[start:end] with spans of at most `size`: split at the coarsest separator and
    pack neighbouring parts greedily, each new span repeating the previous one's trailing parts
    that fit in `overlap`. An oversized part is split at the next level on its own, so a span
    never mixes the tail of one long paragraph with the next paragraph."""
    if end - start <= size:
        return [(start, end)]
    if level == len(_SEPARATORS):
        return list(_hard_cut(text, start, end, size, overlap))
    out: list[Span] = []
    cur: list[Span] = []
    for s, e in _parts(text, start, end, level):
        if e - s > size:
            if cur:
                out.append((cur[0][0], cur[-1][1]))
                cur = []
            out.extend(_packed(text, s, e, size, overlap, level + 1))
            continue
        if cur and e - cur[0][0] > size:
            out.append((cur[0][0], cur[-1][1]))
            tail_end = cur[-1][1]
            cur = [p for p in cur if tail_end - p[0] <= overlap]
            while cur and e - cur[0][0] > size:  # the overlap must leave room for this part
                cur.pop(0)
        cur.append((s, e))
    if cur:
        out.append((cur[0][0], cur[-1][1]))
    return out


def _recursive(text: str, config: ChunkingConfig) -> list[Span]:
    return _packed(text, 0, len(text), config.size, config.overlap)


# ---- public API --------------------------------------------------------------------------

STRATEGIES: dict[str, Strategy] = {"chars": _chars, "tokens": _tokens, "recursive": _recursive}


def validate(config: ChunkingConfig) -> None:
    if config.strategy not in STRATEGIES:
        raise ConfigError(f"unknown chunking strategy {config.strategy!r}; known: {', '.join(STRATEGIES)}")
    if config.size <= 0:
        raise ConfigError(f"chunk size must be positive, got {config.size}")
    if config.overlap < 0 or config.overlap >= config.size:
        raise ConfigError(f"chunk overlap must be >= 0 and < size ({config.size}), got {config.overlap}")


def _trim(text: str, start: int, end: int) -> Span:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def chunk_document(doc: Document, config: ChunkingConfig = ChunkingConfig()) -> list[Chunk]:
    """Chunks of `doc` in reading order (start and end strictly increasing). Spans are trimmed
    of surrounding whitespace by moving offsets; a span left empty, or inside its neighbour
    once trimmed, is dropped."""
    validate(config)
    text, doc_id = doc.text, doc.doc_id
    chunks = []
    for s, e in STRATEGIES[config.strategy](text, config):
        s, e = _trim(text, s, e)
        if s >= e or (chunks and e <= chunks[-1].end):  # empty, or inside the previous chunk
            continue
        if chunks and s <= chunks[-1].start:  # trimming made the previous chunk a prefix of this
            chunks.pop()
        chunks.append(Chunk(doc.source, doc.section, text[s:e], s, e, doc_id))
    return chunks


def chunk_documents(docs: Iterable[Document], config: ChunkingConfig = ChunkingConfig()) -> list[Chunk]:
    validate(config)
    return [chunk for doc in docs for chunk in chunk_document(doc, config)]
