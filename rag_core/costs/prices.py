"""A dated price table (USD per 1M tokens, or per 1,000 searches) and the arithmetic on it.

All prices are linear in tokens/searches, so the cost of a sum of turns is the sum of costs.
The person can override any row in the app (`PriceTable.with_override`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Iterable, Mapping, Sequence

from rag_core.core.catalog import is_local
from rag_core.core.errors import ConfigError
from rag_core.core.tokens import count_tokens, encoding_for_model

# ---- prices -------------------------------------------------------------------------------

# List prices in USD, as of this date, to be checked against the providers' pricing pages
# (openai.com/api/pricing, cohere.com/pricing). The person can override any entry in the app.
PRICES_AS_OF = "2026-11-01"
#: the Pinecone rows (units, not tokens: `input_per_mtok` is USD per 1M units), dated on their own
PINECONE_PRICES_AS_OF = "2025-06-01"
PINECONE_READ_UNITS, PINECONE_WRITE_UNITS = "pinecone:read-units", "pinecone:write-units"


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
        # Pinecone serverless, Standard plan, USD per 1M read / write units (PINECONE_PRICES_AS_OF;
        # check pinecone.io/pricing): a query reports its `usage.readUnits`, an upsert is priced per record
        Price(PINECONE_READ_UNITS, 16.00),
        Price(PINECONE_WRITE_UNITS, 4.00),
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


MTOK = 1_000_000  # tokens per priced unit (prices are per 1M tokens)


def embedding_cost(model: str, tokens: int, table: PriceTable = DEFAULT_PRICES) -> float:
    return tokens * table.get(model).input_per_mtok / MTOK


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


@dataclass(frozen=True)
class SpendEstimate:
    """What embedding some texts on `model` would send and cost, before anything is sent.
    `cost_usd` is None when the table has no price for the model: unknown, not free."""

    model: str
    n_texts: int
    tokens: int
    cost_usd: float | None
    prices_as_of: str

    @property
    def priced(self) -> bool:
        return self.cost_usd is not None


def estimate_spend(texts: Sequence[str], model: str, table: PriceTable = DEFAULT_PRICES) -> SpendEstimate:
    """The one spend estimate the CLI's `--yes` prompt and the app's "I accept spending" box show."""
    texts = list(texts)
    if model in table:
        e = estimate_ingest_cost(texts, model, table)
        return SpendEstimate(model, e.n_texts, e.tokens, e.cost_usd, e.prices_as_of)
    return SpendEstimate(model, len(texts), count_tokens(texts, encoding_for_model(model)), None, table.as_of)


def format_usd(dollars: float) -> str:
    """Dollars with two significant digits at least, so a 6-token embedding shows $0.00000012,
    not $0.000000."""
    if dollars == 0:
        return "$0"
    decimals = max(2, 1 - math.floor(math.log10(abs(dollars))))
    return f"${dollars:,.{decimals}f}"
