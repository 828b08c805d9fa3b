"""Chat: ask the chosen index; every answer shows its chunks, scores, prompt and cost. Compare puts
two configurations side by side (ui/compare.py)."""

import streamlit as st

from rag_core.index import saved
from ui import chat, compare, room, share, state, url_state, widgets
from ui.guard import guard
from ui.layout import page_setup

page_setup()

st.title(":material/chat: Chat")
names = saved.index_names()
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
    chat.sidebar_settings(names, after=lambda settings: (url_state.publish(url_params),
                                                         share.config_section(settings)))
    st.header("Session totals")
    totals_slot = st.empty()
    st.button("Clear chat", on_click=state.clear_history, key="clear_chat")
    st.button("Clear comparisons", on_click=compare.clear, key="clear_compare")
    st.header("Export the session")
    export_slot = st.empty()  # filled last, so it includes the turn asked in this run
    share_slot = st.empty()

if compare.switch():
    both, blind = compare.view(names)
    question = st.chat_input("Ask both A and B a question")
    if question:
        with guard("answering"):
            compare.run(question, both, blind)
else:
    for n, entry in enumerate(state.history()):
        with guard("showing an earlier turn"):
            chat.show_entry(entry, f"t{n}")
    question = st.chat_input("Ask a question about the documents in this index") or share.pending_question()
    if not question and not state.history():
        chat.empty_hint(state.get("index"))
    if question:
        with guard("answering"):
            chat.run_turn(question, state.chat_settings())

with totals_slot.container():
    widgets.session_totals(compare.session_costs(), compare.turns())
with export_slot.container():
    share.session_section(state.history(), compare.history(), compare.votes_by_side())
with share_slot.container():
    room.share_buttons(state.history(), compare.history())
    if room.session_note():
        st.warning(room.session_note())
