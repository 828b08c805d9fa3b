"""How long Chat takes to redraw after one sidebar change, with a 100k-chunk index and 20 turns.

    python -m ui.bench_chat_redraw [--chunks 100000] [--turns 20] [--repeat 7] [--dir /tmp/rag-redraw]

Builds (once, then reuses) a hashing-embedder FAISS index of `--chunks` generated chunks, asks
`--turns` questions through the real Pipeline outside Streamlit (extractive answerer over the
same hashing embedder), puts them in an AppTest session as the chat history (and, paired, as
the compare history), then times `AppTest.run()` after moving the sidebar's top-k slider: the
server time of one full rerun of the Chat page (AppTest runs the whole script; it has no
fragment reruns). Prints the median and the worst, for the plain view and the Compare view, and
the same for the sidebar fragment's body run alone (what a live server reruns on a sidebar change).
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path
from rag_core.core.settings import OperatorSettings, configure
from rag_core.core.types import Document
from rag_core.embeddings import create_embedder
from rag_core.index.index import Index, exists
from rag_core.core.types import ChunkingConfig
from rag_core.costs import cost_models_for
from rag_core.llm import create_llm
from rag_core.answer.pipeline import Pipeline
from rag_core.core.types import RetrievalSettings
from ui.state import ChatEntry
from ui.compare import CompareEntry
from rag_core.index import saved
from ui import chat, state

ROOT = Path(__file__).resolve().parents[1]  # the project: app.py is run from here

WORDS = ("capital city river mountain island kingdom empire science physics music painter novel war treaty "
         "language religion ocean forest desert election engine railway bridge planet star").split()


def documents(n: int):
    for i in range(n):
        words = [WORDS[(i * 7 + j * 13) % len(WORDS)] for j in range(40)]
        text = f"Passage {i}: " + " ".join(words) + "."
        yield Document(f"gen/doc{i // 50}.md", f"Section {i}", text, i % 50)


def build(directory: Path, n: int):
    emb = create_embedder("hashing")
    if not exists(directory):
        t0 = time.perf_counter()
        index = Index.create(directory, emb, "faiss", ChunkingConfig(size=2000, overlap=0))
        index.ingest(list(documents(n)))
        index.save()
        print(f"built {n:,} chunks in {time.perf_counter() - t0:.0f} s", flush=True)
    return Index.open(directory, embedder=emb)


def turns(index, n: int):
    llm = create_llm("extractive", embedder=index.embedder)
    pipeline = Pipeline(index, llm, cost_models=cost_models_for(llm, index.embedder))
    out = []
    for i in range(n):
        turn = pipeline.ask(f"Which {WORDS[i % len(WORDS)]} is near the {WORDS[(i * 3) % len(WORDS)]}?",
                            RetrievalSettings(top_k=5))
        for _ in turn:
            pass
        out.append(ChatEntry(turn.answer, "big", False, turn.costs, "extractive"))
    return out


def timed(at, repeat: int) -> list[float]:
    """Seconds per rerun after a change of the sidebar's top-k slider (alternating 4 and 6)."""
    out = []
    for i in range(repeat):
        at.sidebar.slider(key="w:top_k").set_value(4 if i % 2 else 6)
        t0 = time.perf_counter()
        at.run()
        out.append(time.perf_counter() - t0)
        assert not at.exception, at.exception
    return out


def session(entries, compare: bool):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.session_state["chat_history"] = list(entries)
    at.session_state["compare_history"] = [CompareEntry(e.answer.question, e, entries[-1 - k], "A", "B")
                                           for k, e in enumerate(entries)]
    at.session_state["w:compare"] = compare
    at.switch_page("pages/chat.py").run()
    at.run()  # warm: caches filled, history drawn once
    return at


def sidebar_only() -> None:
    """The sidebar fragment's body alone: what a live server reruns when a sidebar widget changes."""
    import streamlit as st

    names = saved.index_names()
    state.chat_defaults(names[0])
    with st.sidebar:
        chat.sidebar_settings(names)


def fragment_session(entries):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_function(sidebar_only, default_timeout=120)
    at.session_state["chat_history"] = list(entries)
    at.run()
    return at


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chunks", type=int, default=100_000)
    parser.add_argument("--turns", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--dir", default="/tmp/rag-redraw")
    args = parser.parse_args()
    root = Path(args.dir)
    flags = {"RAG_PLAYGROUND_INDEXES": str(root / "indexes")}
    if not os.environ.get("RAG_PLAYGROUND_HOME"):
        flags["RAG_PLAYGROUND_HOME"] = str(root / "home")
    configure(OperatorSettings.load(os.environ, flags=flags), pinned=True)  # this script is the entry point
    os.chdir(ROOT)
    index = build(root / "indexes" / "big", args.chunks)
    entries = turns(index, args.turns)
    print(f"index: {index.store.count():,} chunks; history: {len(entries)} turns", flush=True)
    for name, compare in (("Chat", False), ("Compare", True)):
        at = session(entries, compare)
        runs = timed(at, args.repeat)
        report(f"{name}: full rerun after a sidebar change", runs)
    report("Sidebar fragment alone (a live server's rerun)", timed(fragment_session(entries), args.repeat))


def report(name: str, runs: list[float]) -> None:
    print(f"{name}: median {statistics.median(runs) * 1000:.0f} ms, worst {max(runs) * 1000:.0f} ms "
          f"over {len(runs)} runs", flush=True)


if __name__ == "__main__":
    main()
