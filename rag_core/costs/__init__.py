"""Tokens, prices and the per-turn cost record, so every turn can say what it cost.

Read in three parts: `tokens` (tiktoken made to work offline, counting), `prices` (the dated
price table and its arithmetic), `record` (each stage of a turn priced from the table, one
record per turn, and the `Usage` derived from it). Everything is re-exported here.
"""

from rag_core.costs.prices import (DEFAULT_COST_MODEL, DEFAULT_COST_ROWS, DEFAULT_EMBED_COST_MODEL, DEFAULT_PRICES,
                     PRICES_AS_OF, UNPRICED_NOTE, IngestEstimate, Price, PriceTable,
                     SpendEstimate, embedding_cost, estimate_ingest_cost, estimate_spend, format_usd,
                     is_unpriced, unpriced)
from rag_core.costs.record import CostModels, StageCost, TurnCosts, cost_models_for
from rag_core.core.tokens import OFFLINE_ENCODINGS, count_tokens, encoding_for_model, get_encoding

__all__ = [
    "DEFAULT_COST_MODEL", "DEFAULT_COST_ROWS", "DEFAULT_EMBED_COST_MODEL", "DEFAULT_PRICES",
    "OFFLINE_ENCODINGS", "PRICES_AS_OF", "UNPRICED_NOTE", "CostModels", "IngestEstimate", "Price", "PriceTable",
    "SpendEstimate", "StageCost", "TurnCosts", "count_tokens", "cost_models_for", "embedding_cost",
    "encoding_for_model", "estimate_ingest_cost", "estimate_spend", "format_usd", "get_encoding", "is_unpriced",
    "unpriced",
]
