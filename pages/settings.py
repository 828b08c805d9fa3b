"""Settings: API keys and base URLs for this session only, Test connection, and the dated,
editable price table."""

import streamlit as st

from ui import answer_limits, keys, prices, providers, state
from ui.guard import guard
from ui.layout import page_setup

page_setup()

st.title(":material/settings: Settings")
st.info("Keys typed here are kept in this browser session's memory only: never written to disk, logs "
        "or an index, never shown again, and not visible to other sessions. Otherwise keys come from the "
        "environment (OPENAI_API_KEY, COHERE_API_KEY, COMPATIBLE_API_KEY) or .streamlit/secrets.toml, and go "
        "only to the base URLs configured with them: a base URL typed here is used only with a key typed here.",
        icon=":material/lock:")

st.subheader("API keys, base URLs and Test connection")
for provider in providers.PROVIDERS:
    with st.container(border=True), guard(f"setting up {keys.TITLES[provider]}"):
        keys.provider_row(provider)

st.subheader("Database for the pgvector store")
with guard("setting the database"):
    keys.database_row()

st.subheader("Answers")
with guard("setting the answer limits"):
    answer_limits.row()

st.subheader("Prices")
table = state.price_table()
st.caption(f"USD list prices as of **{table.as_of}**; check them against the providers' pricing pages. "
           "Edit a cell or add a row to change them for this session only.")
with guard("editing the prices"):
    prices.editor()
st.button("Reset to the default prices", key="reset_prices", on_click=prices.reset)
