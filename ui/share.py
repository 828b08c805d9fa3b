"""Share and export, on the Chat sidebar: the setup as a configuration file (TOML or JSON, the
same file `python -m rag_core query --config` reads), importing one, and the chat session as
Markdown or JSON. Also the hand-over of a question asked from Home (`ask_in_chat`).

Downloads are generated on click (`data=` a callable, run outside the script: it gets plain
values captured when the page drew, never session state). An imported file is validated by
rag_core.answer.config; whatever this app cannot apply (an index that is not here, a top-k beyond the
slider) is said, and the rest is applied.
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

import streamlit as st

from rag_core.answer import config as rconfig
from rag_core.index import saved
from rag_core.core.errors import ConfigError, RagError
from rag_core.answer.prompts import DEFAULT_TEMPLATE
from rag_core.answer.session_export import session_json, session_markdown
from rag_core.core.types import RetrievalSettings

from ui import providers, state
from ui.widgets import md_literal
from rag_core.index.index import read_manifest
from rag_core.stores import STORES

CONFIG_UPLOAD = "config_upload"
_NOTE = "config_import_note"
PENDING = "pending_question"


# ---- the configuration: current setup -> file -------------------------------------------------


def build_config(settings: state.ChatSettings) -> rconfig.PlaygroundConfig:
    """The Chat settings plus how their index was built (its manifest). No Streamlit: it also
    runs inside a download callable."""

    index = rconfig.IndexConfig(name=settings.index)
    chunking = rconfig.PlaygroundConfig().chunking
    try:
        manifest = read_manifest(saved.index_dir(settings.index))
        index = rconfig.IndexConfig(name=settings.index, embedder=manifest.embedder, store=manifest.store)
        chunking = manifest.chunking
    except RagError:
        pass  # an index deleted meanwhile: the file still carries the retrieval and answer settings
    template_name = "default" if settings.template == DEFAULT_TEMPLATE else "custom"
    answer = rconfig.AnswerConfig(answerer=settings.llm, template_name=template_name, template=settings.template)
    return rconfig.PlaygroundConfig(index=index, chunking=chunking, retrieval=settings.retrieval, answer=answer)


def _downloader(fmt: str, settings: state.ChatSettings) -> Callable[[], str]:
    return lambda: rconfig.dumps(build_config(settings), fmt)


def config_section(settings: state.ChatSettings) -> None:
    """Download `settings` (the ones the next turn runs with) as TOML or JSON; import a file
    (applied before the widgets redraw)."""
    st.header("Share this setup")
    st.caption("This setup as a file (index, chunking, retrieval, answerer, template; never keys)")
    c1, c2 = st.columns(2)
    with c1:
        st.download_button("TOML", _downloader("toml", settings), file_name=f"{settings.index}-setup.toml",
                           mime="application/toml", on_click="ignore", key="config_toml", icon=":material/download:")
    with c2:
        st.download_button("JSON", _downloader("json", settings), file_name=f"{settings.index}-setup.json",
                           mime="application/json", on_click="ignore", key="config_json", icon=":material/download:")
    # the uploader's own "1MB per file" is its smallest setting; the file limit is rconfig.MAX_BYTES
    st.file_uploader(f"Import a configuration (.toml or .json, at most {rconfig.MAX_BYTES // 1024} KB)",
                     type=["toml", "json"], key=CONFIG_UPLOAD,
                     on_change=_on_upload, max_upload_size=1, help="Its settings replace the ones above; the CLI reads the same "
                                                "file: python -m rag_core query --config FILE \"question\"")
    note = st.session_state.get(_NOTE)
    if st.session_state.get(CONFIG_UPLOAD) is None:
        st.session_state.pop(_NOTE, None)
    elif note:
        kind, text = note
        getattr(st, kind)(text)


# ---- the configuration: file -> current setup -------------------------------------------------


def _on_upload() -> None:
    upload = st.session_state.get(CONFIG_UPLOAD)
    if upload is None:
        return
    name = md_literal(upload.name[:80])
    if upload.size > rconfig.MAX_BYTES:
        st.session_state[_NOTE] = ("error", f"{name} is {upload.size:,} bytes; a configuration file is at most "
                                            f"{rconfig.MAX_BYTES:,}. Nothing was changed.")
        return
    try:
        config = rconfig.loads(upload.getvalue(), rconfig.format_of(upload.name), origin="the file")
    except ConfigError as exc:
        st.session_state[_NOTE] = ("error", f"{name}: {md_literal(str(exc))} Nothing was changed.")
        return
    notes = apply_config(config)
    if notes:
        st.session_state[_NOTE] = ("warning", f"Imported {name}, except: " + "; ".join(notes) + ".")
    else:
        st.session_state[_NOTE] = ("success", f"Imported {name}: the settings above are the file's.")


def apply_config(config: rconfig.PlaygroundConfig) -> list[str]:
    """Put the file's settings into Chat and the Index page; returns what could not be applied."""
    return _apply_index(config) + _apply_retrieval(config.retrieval) + _apply_answer(config.answer)


def _apply_index(config: rconfig.PlaygroundConfig) -> list[str]:
    notes, name = [], config.index.name
    if name in saved.index_names():
        state.set_active_index(name)
    else:
        notes.append(f"there is no index {md_literal(name)} here: build it on Index (its name, chunking, "
                     "embedder and store are filled in there)")
    c, embedder = config.chunking, config.index.embedder
    state.put("index_name", name)
    state.put("strategy", c.strategy)
    if 20 <= c.size <= 20_000 and c.overlap <= 10_000:
        state.put("size", c.size)
        state.put("overlap", c.overlap)
    else:
        notes.append(f"chunk size {c.size} / overlap {c.overlap} are beyond the Index page's fields")
    base, _, dims = embedder.partition("@")
    if embedder.startswith(providers.COMPATIBLE):
        state.put("embedder", providers.COMPATIBLE)
        state.put("embed_compatible_model", embedder[len(providers.COMPATIBLE):])
    elif base in providers.EMBEDDER_CHOICES and (not dims or (dims.isdigit() and int(dims) <= 3072)):
        state.put("embedder", base)
        state.put("embed_dims", int(dims or 0))
    else:
        notes.append(f"embedder {md_literal(embedder)} is not offered on Index")

    if config.index.store in STORES.names():
        state.put("store", config.index.store)
    else:
        notes.append(f"store {md_literal(config.index.store)} is not offered on Index")
    return notes


def _apply_retrieval(r: RetrievalSettings) -> list[str]:
    notes = []  # top-k and the threshold were checked against RETRIEVAL_BOUNDS, which Chat's sliders draw
    state.put("top_k", r.top_k)
    state.put("use_threshold", r.score_threshold is not None)
    if r.score_threshold is not None:
        state.put("threshold", round(r.score_threshold, 2))
    reranker = r.reranker or state.NO_RERANKER
    if reranker in providers.RERANKER_CHOICES:
        state.put("reranker", reranker)
    else:
        notes.append(f"reranker {md_literal(reranker)} is not offered on Chat")
    if r.sources:
        notes.append("the sources filter is not applied (Chat searches the whole index)")
    state.put_retrieval(r)  # mode, fusion, α, MMR ...: under the field names and the widgets' keys
    return notes


def _apply_answer(answer: rconfig.AnswerConfig) -> list[str]:
    state.put("template", answer.template)
    if answer.answerer.startswith(providers.COMPATIBLE):
        state.put("llm", providers.COMPATIBLE)
        state.put("compatible_model", answer.answerer[len(providers.COMPATIBLE):])
    elif answer.answerer in providers.LLM_CHOICES:
        state.put("llm", answer.answerer)
    else:
        return [f"answerer {md_literal(answer.answerer)} is not offered on Chat"]
    return []


# ---- the chat session -------------------------------------------------------------------------


def session_section(history: Sequence[Any], comparisons: Sequence[Any] = (),
                    votes: dict[int, str] | None = None) -> None:
    """Markdown and JSON of every turn so far, chat and compare (with the blind votes): the same
    turns, tokens and dollars as the session totals. Secrets this session knows are redacted."""
    entries, compared, creds = tuple(history), tuple(comparisons), providers.credentials()
    votes = dict(votes or {})
    n = len(entries) + len(compared)
    st.caption(f"This chat session ({n} turn{'s' if n != 1 else ''})")
    c1, c2 = st.columns(2)
    with c1:
        st.download_button("Markdown", lambda: session_markdown(entries, creds, comparisons=compared, votes=votes),
                           file_name="chat-session.md", mime="text/markdown", on_click="ignore", key="session_md",
                           disabled=not n, icon=":material/download:")
    with c2:
        st.download_button("JSON", lambda: session_json(entries, creds, comparisons=compared, votes=votes),
                           file_name="chat-session.json", mime="application/json", on_click="ignore",
                           key="session_json", disabled=not n, icon=":material/download:")


# ---- a question from Home ---------------------------------------------------------------------


def ask_in_chat(question: str, index: str) -> None:
    """Open Chat on `index` with `question` asked once (Chat takes it with `pending_question`)."""
    state.set_active_index(index)
    st.session_state[PENDING] = question
    st.switch_page("pages/chat.py")


def pending_question() -> str | None:
    """The question handed over from Home, once."""
    return st.session_state.pop(PENDING, None)
