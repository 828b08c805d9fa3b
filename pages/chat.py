"""Chat: ask the chosen index; every answer shows its chunks, scores, prompt and cost."""

import streamlit as st

from rag_core.prompts import validate_template
from rag_core import index_catalog as catalog
from ui import chat, providers, retrieval, share, state, url_state, widgets
from ui.guard import guard
from ui.layout import page_setup

page_setup()

st.title(":material/chat: Chat")
names = catalog.index_names()
if not names:
    st.info("There is no index yet. Load the demo corpus on Home, or build an index from your files on Index.")
    st.page_link("pages/home.py", label="Home: load the demo corpus", icon=":material/home:")
    st.page_link("pages/index.py", label="Index: build your own", icon=":material/view_in_ar:")
    st.stop()

url_params = url_state.chat_params(names)
url_state.restore("chat", url_params)  # a link's settings, on this session's first visit
state.chat_defaults(state.active_index() if state.active_index() in names else names[0])
if state.get("index") not in names:
    state.put("index", names[0])

with st.sidebar:
    st.header("Retrieval")
    st.selectbox("Index", names, key=state.w("index"))
    st.session_state["active_index"] = state.get("index")
    st.slider("Top-k (chunks retrieved)", 1, 20, key=state.w("top_k"))
    retrieval.chat_controls()
    st.checkbox("Apply a score threshold", key=state.w("use_threshold"),
                help="Chunks whose first-stage score (cosine for these stores) is below it are not sent.")
    st.slider("Score threshold", -1.0, 1.0, step=0.01, key=state.w("threshold"),
              disabled=not state.get("use_threshold"))
    st.selectbox("Reranker", providers.RERANKER_CHOICES, key=state.w("reranker"),
                 help=providers.help_text("reranker"))
    st.selectbox("Answerer", providers.LLM_CHOICES, key=state.w("llm"), format_func=providers.choice_label,
                 help=providers.help_text("llm"))
    if state.get("llm") == providers.COMPATIBLE:
        st.text_input("Model on the compatible server", key=state.w("compatible_model"),
                      placeholder="e.g. llama3.2", help="Its base URL is set on the Settings page.")
    st.header("Prompt template")
    st.text_area("Template ({context} and {question} are filled in)", key=state.w("template"), height=260)
    st.button("Reset to default", on_click=state.reset_template, key="reset_template")
    with guard("checking the template"):
        validate_template(state.get("template"))
    st.header("Session totals")
    totals_slot = st.empty()
    st.button("Clear chat", on_click=state.clear_history, key="clear_chat")
    st.header("Share and export")
    share.config_section()
    export_slot = st.empty()  # filled last, so it includes the turn asked in this run
url_state.publish(url_params)

for entry in state.history():
    with guard("showing an earlier turn"):
        chat.show_entry(entry)

question = st.chat_input("Ask a question about the documents in this index") or share.pending_question()
if question:
    with guard("answering"):
        chat.run_turn(question, state.chat_settings())

with totals_slot.container():
    widgets.session_totals(state.session_costs(), len(state.history()))
with export_slot.container():
    share.session_section(state.history())
