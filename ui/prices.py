"""The dated price table, editable for this session (st.data_editor), and its reset.

The editor's base data is a snapshot taken when editing began; its edits become the
session's PriceTable. Reset puts the defaults back and starts a fresh editor.
"""

from __future__ import annotations

import math

import pandas as pd
import streamlit as st

from rag_core import costs

from ui import state

COLUMNS = {"model": "model", "input_per_mtok": "input $/1M tokens", "output_per_mtok": "output $/1M tokens",
           "per_1k_searches": "$ per 1k searches"}


def to_frame(table: costs.PriceTable) -> pd.DataFrame:
    return pd.DataFrame([{label: getattr(p, attr) for attr, label in COLUMNS.items()} for p in table.prices],
                        columns=list(COLUMNS.values()))


def _number(value) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return 0.0
    return 0.0 if math.isnan(number) or number < 0 else number


def from_frame(frame: pd.DataFrame, as_of: str) -> tuple[costs.PriceTable, list[str]]:
    """The edited rows as a PriceTable, and the rows skipped (with why)."""
    prices, skipped, seen = [], [], set()
    for row in frame.to_dict("records"):
        model = str(row.get(COLUMNS["model"]) or "").strip()
        if not model or model == "None" or model == "nan":
            continue
        if ":" not in model:
            skipped.append(f"{model} (write it as provider:name, e.g. openai:gpt-4o-mini)")
            continue
        if model in seen:
            skipped.append(f"{model} (listed twice)")
            continue
        seen.add(model)
        prices.append(costs.Price(model, _number(row.get(COLUMNS["input_per_mtok"])),
                                  _number(row.get(COLUMNS["output_per_mtok"])),
                                  _number(row.get(COLUMNS["per_1k_searches"]))))
    return costs.PriceTable.of(prices, as_of), skipped


def keep_default_rows(table: costs.PriceTable, base: costs.PriceTable) -> tuple[costs.PriceTable, list[str]]:
    """`table` with the would-cost rows (what the offline default is priced on) put back if they
    were deleted — from `base`, else the defaults — and the models restored."""
    restored = []
    for model in costs.DEFAULT_COST_ROWS:
        if model not in table._by_model:
            price = base._by_model.get(model) or costs.DEFAULT_PRICES.get(model)
            table = table.with_override(model, price)
            restored.append(model)
    return table, restored


def reset() -> None:
    state.set_price_table(costs.DEFAULT_PRICES)
    st.session_state["price_editor_base"] = costs.DEFAULT_PRICES
    st.session_state["price_editor_gen"] = st.session_state.get("price_editor_gen", 0) + 1


def editor() -> costs.PriceTable:
    table = state.price_table()
    base = st.session_state.setdefault("price_editor_base", table)
    generation = st.session_state.setdefault("price_editor_gen", 0)
    edited = st.data_editor(to_frame(base), key=f"price_editor:{generation}", num_rows="dynamic", hide_index=True,
                            width="stretch",
                            column_config={label: st.column_config.NumberColumn(label, min_value=0.0, format="%.4f")
                                           for label in list(COLUMNS.values())[1:]})
    new, skipped = from_frame(edited, base.as_of)
    if skipped:
        st.warning("Not used: " + "; ".join(skipped), icon=":material/warning:")
    new, restored = keep_default_rows(new, base)
    if restored:
        st.info(f"Kept {', '.join(restored)} in the table: free local models are priced on these rows "
                "(what a turn would cost), so they cannot be deleted. Edit the price instead, or Reset.",
                icon=":material/info:")
    if new != table:
        state.set_price_table(new)
    changed = sorted(p.model for p in new.prices if costs.DEFAULT_PRICES._by_model.get(p.model) != p)
    if changed:
        st.caption("Edited for this session: " + ", ".join(changed))
    return new
