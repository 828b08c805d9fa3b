"""A shared server ("a room"): browser sessions kept server-side across a reload, read-only
snapshots a stakeholder can open, and the optional sign-in gate. No Streamlit here: ui/room.py
draws them, the CLI lists and deletes them."""
