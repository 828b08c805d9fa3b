"""rag_core: the framework-free retrieval-augmented generation core of RAG Playground.

Read `types.py` first (what flows between parts), then `pipeline.py` (how the parts are
wired). Nothing in this package imports streamlit; the CLI (`python -m rag_core`) runs it
headless.
"""

__version__ = "0.1.0"
