"""Settings: API keys and base URLs for this session only, and the dated price table."""

import pandas as pd
import streamlit as st

from rag_core import costs
from rag_core.errors import ConfigError
from ui import keys, state
from ui.guard import guard
from ui.layout import page_setup

page_setup()

st.title(":material/settings: Settings")
st.info("Keys typed here are kept in this browser session's memory only: never written to disk, logs "
        "or an index, and not visible to other sessions. Hosted providers use them once they are enabled.",
        icon=":material/lock:")

st.subheader("API keys and base URLs")
for provider in state.PROVIDERS:
    c1, c2, c3 = st.columns([2, 2, 1])
    c1.text_input(f"{provider.title()} API key", type="password", key=state.default(f"key_{provider}", ""),
                  placeholder=f"from {keys.ENV_KEYS[provider]} if empty")
    c2.text_input(f"{provider.title()} base URL", key=state.default(f"url_{provider}", ""),
                  placeholder="default" if provider != "openai" else "e.g. http://127.0.0.1:11434/v1 for Ollama")
    c3.markdown(f"**Key in use:** {keys.key_origin(provider)}  \n`{keys.mask(keys.api_key(provider))}`")

st.subheader("Prices")
table = state.price_table()
st.caption(f"USD list prices as of **{table.as_of}**; check them against the providers' pricing pages. "
           "Overrides apply to this session only.")
frame = pd.DataFrame(
    [{"model": p.model, "input $/1M tokens": p.input_per_mtok, "output $/1M tokens": p.output_per_mtok,
      "$ per 1k searches": p.per_1k_searches,
      "overridden": p != (costs.DEFAULT_PRICES.get(p.model) if p.model in costs.DEFAULT_PRICES else None)}
     for p in sorted(table.prices, key=lambda p: p.model)]
)
st.dataframe(frame, hide_index=True, width="stretch")

with st.form("price_override"):
    st.markdown("**Override a price**")
    c1, c2, c3 = st.columns(3)
    model = c1.text_input("Model (provider:name)", value=costs.DEFAULT_COST_MODEL)
    price_in = c2.number_input("Input $ per 1M tokens", min_value=0.0, value=0.15, step=0.01, format="%.4f")
    price_out = c3.number_input("Output $ per 1M tokens", min_value=0.0, value=0.60, step=0.01, format="%.4f")
    if st.form_submit_button("Apply for this session"):
        with guard("overriding the price"):
            if ":" not in model.strip():
                raise ConfigError("write the model as provider:name, e.g. openai:gpt-4o-mini")
            state.set_price_table(table.with_override(model.strip(), costs.Price(model.strip(), price_in, price_out)))
            st.rerun()
if st.button("Reset to the default prices", key="reset_prices"):
    state.set_price_table(costs.DEFAULT_PRICES)
    st.rerun()
