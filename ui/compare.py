"""Compare in Chat: one question, two configurations (A and B) side by side, then the diff.

Each column has its own settings (`retrieval_controls`: index, answerer, the sidebar's retriever
form from ui/retrieval.py, template), its streamed answer, hit cards, costs and latency. Under them the diff from
rag_core/evaluation/compare.py: chunks both found, only A, only B, rank moves, and B - A in tokens, dollars
and time. Blind mode (for demos) labels the columns Left/Right in a random order per turn and
hides the settings; the person picks the better answer, and the tally per configuration is
shown only when revealed. Compare turns are their own history (`compare_history`); their costs
count in the session totals.
"""

from __future__ import annotations

import dataclasses
import random
from dataclasses import dataclass
from typing import Any, Callable

import streamlit as st

from rag_core.evaluation.compare import Comparison, compare, ranked_table, tally, verdict
from rag_core.costs import TurnCosts, format_usd
from rag_core.answer.prompts import DEFAULT_TEMPLATE
from rag_core.core.types import RETRIEVAL_BOUNDS, RetrievalSettings

from ui import chat, providers, state, widgets
from ui.guard import guard
from rag_core.retrieval.labels import retriever_label
from ui.retrieval import retriever_controls

SIDES = ("A", "B")
HISTORY = "compare_history"
VOTES = "blind_votes"
SETTINGS = "compare_settings"


@dataclass(frozen=True)
class CompareEntry:
    """One compare turn: both sides' entries (each possibly failed), what each was, and, in blind
    mode, whether B was drawn on the left."""

    question: str
    a: state.ChatEntry
    b: state.ChatEntry
    config_a: str
    config_b: str
    blind: bool = False
    swapped: bool = False

    @property
    def comparison(self) -> Comparison:
        return compare(self.a.answer.hits, self.a.costs if not self.a.error else None,
                       self.b.answer.hits, self.b.costs if not self.b.error else None)

    @property
    def costs(self) -> TurnCosts:
        return self.a.costs + self.b.costs

    def label(self, side: str) -> str:
        """What the page calls side A or B: itself, or Left/Right when blind."""
        return side_label(side, self.blind, self.swapped)


# ---- the settings of one column --------------------------------------------------------------


def _key(side: str, name: str) -> str:
    return f"cmp_{side}_{name}"


def _threshold(where, side: str, value: Any) -> float | None:
    on = where.checkbox("Apply a score threshold",
                        key=state.default(_key(side, "use_threshold"), value is not None))
    level = where.slider("Score threshold", *RETRIEVAL_BOUNDS["score_threshold"], step=0.01, disabled=not on,
                         key=state.default(_key(side, "threshold"), 0.3 if value is None else float(value)))
    return float(level) if on else None


def _reranker(where, side: str, value: Any) -> str | None:
    choice = where.selectbox("Reranker", providers.RERANKER_CHOICES, format_func=chat.choice_labels(),
                             key=state.default(_key(side, "reranker"), value or state.NO_RERANKER),
                             help=providers.help_text("reranker"))
    return None if choice == state.NO_RERANKER else choice


def retrieval_controls(where, side: str, names: list[str], base: state.ChatSettings) -> state.ChatSettings:
    """One column's whole configuration: index, answerer, retrieval (the sidebar's form: the same
    widgets, labels and rules), template."""
    index = where.selectbox("Index", names, key=state.default(_key(side, "index"), base.index))
    if index not in names:
        index = names[0]
    llm = where.selectbox("Answerer", providers.LLM_CHOICES, format_func=chat.choice_labels(),
                          key=state.default(_key(side, "llm"), base.llm if base.llm in providers.LLM_CHOICES
                                            else state.DEFAULT_LLM), help=providers.help_text("llm"))
    if llm == providers.COMPATIBLE:
        model = where.text_input("Model on the compatible server", key=state.default(_key(side, "model"), ""))
        llm += model.strip()
    top_k = int(where.slider("Top-k (chunks retrieved)", *RETRIEVAL_BOUNDS["top_k"],
                             key=state.default(_key(side, "top_k"), int(base.retrieval.top_k))))
    threshold = _threshold(where, side, base.retrieval.score_threshold)
    reranker = _reranker(where, side, base.retrieval.reranker)
    prefix = _key(side, "")
    retriever_controls(where, prefix, base.retrieval, state.generative(llm))
    retrieval = state.retriever_of(prefix, dataclasses.replace(base.retrieval, top_k=top_k, score_threshold=threshold,
                                                                reranker=reranker), state.generative(llm))
    template = where.text_area("Prompt template", height=160,
                               key=state.default(_key(side, "template"), base.template))
    return state.ChatSettings(index=index, retrieval=retrieval, llm=llm, template=template)


def base_settings(side: str) -> state.ChatSettings:
    """Where a column starts: the sidebar's settings; B with the first local reranker, so the
    first comparison already shows a difference."""
    base = state.chat_settings()
    if side == "B" and base.retrieval.reranker is None and len(providers.RERANKER_CHOICES) > 1:
        retrieval = dataclasses.replace(base.retrieval, reranker=providers.RERANKER_CHOICES[1])
        return dataclasses.replace(base, retrieval=retrieval)
    return base


def _parts(settings: state.ChatSettings) -> dict[str, str]:
    r = settings.retrieval
    threshold = "none" if r.score_threshold is None else f"{r.score_threshold:.2f}"
    return {"index": f"index {settings.index}", "retriever": f"retriever {retriever_label(r)}",
            "top_k": f"top-k {r.top_k}", "threshold": f"threshold {threshold}",
            "reranker": f"reranker {r.reranker or 'none'}", "answerer": f"answerer {settings.llm}",
            "template": ("default" if settings.template == DEFAULT_TEMPLATE else "custom") + " template",
            "sources": f"sources {', '.join(r.sources)}" if r.sources else "all sources"}


def config_labels(a: state.ChatSettings, b: state.ChatSettings) -> tuple[str, str]:
    """Each side named by what differs between A and B (the tally's row names), e.g.
    "reranker none" / "reranker pool-bm25"; "the same settings" when nothing does."""
    pa, pb = _parts(a), _parts(b)
    differ = [k for k in pa if pa[k] != pb[k]]
    if not differ:
        return "the same settings", "the same settings"
    return " · ".join(pa[k] for k in differ), " · ".join(pb[k] for k in differ)


@st.fragment
def controls(names: list[str]) -> None:
    """Both columns' settings, in two expanders side by side, kept in session state for the next
    turn. A fragment: changing one redraws only the two forms, not the compare history."""
    out = {}
    for side, col in zip(SIDES, st.columns(2)):
        with col.expander(f"Settings {side}", expanded=False):
            out[side] = retrieval_controls(st, side, names, base_settings(side))
    st.session_state[SETTINGS] = out


# ---- one compare turn ------------------------------------------------------------------------


def history() -> list[CompareEntry]:
    return st.session_state.setdefault(HISTORY, [])


def votes() -> dict[int, str]:
    """Compare turn number -> "Left" | "Right" | "tie" (blind turns only; a new pick replaces one)."""
    return st.session_state.setdefault(VOTES, {})


def votes_by_side() -> dict[int, str]:
    """Compare turn number -> the side voted for ("A", "B") or "tie", whatever the draw was."""
    entries, out = history(), {}
    for n, pick in votes().items():
        if n < len(entries):
            left, right = ("B", "A") if entries[n].swapped else ("A", "B")
            out[n] = {"Left": left, "Right": right}.get(pick, "tie")
    return out


def session_costs() -> TurnCosts:
    """The chat's and the compare turns' cost records added up (the sidebar's session totals)."""
    total = state.session_costs()
    for entry in history():
        total = total + entry.costs
    return total


def turns() -> int:
    return len(state.history()) + len(history())


def columns(swapped: bool) -> dict[str, Any]:
    """Side -> its column: A left and B right, or the other way round (a blind turn's draw)."""
    left, right = st.columns(2)
    return {"A": right, "B": left} if swapped else {"A": left, "B": right}


def side_label(side: str, blind: bool, swapped: bool) -> str:
    if not blind:
        return side
    return "Left" if (side == "B") == swapped else "Right"


def run(question: str, settings: dict[str, state.ChatSettings], blind: bool) -> CompareEntry:
    """Ask both sides (A first, then B), each streamed into its column; record and diff them."""
    n = len(history())
    swapped = blind and random.random() < 0.5
    with st.chat_message("user"):
        st.text(question)
    got: dict[str, state.ChatEntry] = {}
    with st.chat_message("assistant"):
        for side, col in columns(swapped).items():
            with col:
                st.markdown(f"**{side_label(side, blind, swapped)}**")
                scope = f"c{n}{side.lower()}"
                entry = chat.answer_here(question, settings[side], scope, show_settings=not blind)
                got[side] = entry or chat.failed(question, settings[side], "No answer: the stream ended.")
        entry = CompareEntry(question, got["A"], got["B"], *config_labels(settings["A"], settings["B"]),
                             blind, swapped)
        history().append(entry)  # before drawing more: a question sent meanwhile reruns at the next st call
        diff_view(entry)
        if blind:
            vote_buttons(n, entry)
    return entry


def show(n: int, entry: CompareEntry, reveal: bool = False) -> None:
    """An earlier compare turn, as it was drawn (a blind one shows what each side was once revealed)."""
    with st.chat_message("user"):
        st.text(entry.question)
    with st.chat_message("assistant"):
        for side, col in columns(entry.swapped).items():
            with col:
                st.markdown(f"**{entry.label(side)}**")
                if entry.blind and reveal:
                    st.caption(f"was {side}: {widgets.md_escape(getattr(entry, f'config_{side.lower()}'))}")
                chat.show_answer(getattr(entry, side.lower()), f"c{n}{side.lower()}",
                                 show_settings=not entry.blind or reveal)
        diff_view(entry)
        if entry.blind:
            vote_buttons(n, entry)


# ---- the diff under the two columns ------------------------------------------------------------


def _signed_usd(x: float) -> str:
    return ("+" if x >= 0 else "−") + format_usd(abs(x))


def _chunk_cell(hit) -> str:
    text = " ".join(hit.chunk.text.split())
    return f"{widgets.source_html(hit.chunk)}: {widgets.esc(text[:90] + ('…' if len(text) > 90 else ''))}"


def display_sides(entry: CompareEntry) -> tuple[str, str]:
    """The sides in the order the page draws them, left column first (a blind turn may swap them),
    so the diff reads in the same order as the columns above it."""
    return ("B", "A") if entry.swapped else ("A", "B")


def _display_comparison(entry: CompareEntry) -> Comparison:
    first, second = (getattr(entry, s.lower()) for s in display_sides(entry))
    return compare(first.answer.hits, first.costs if not first.error else None,
                   second.answer.hits, second.costs if not second.error else None)


def diff_rows(entry: CompareEntry) -> list[tuple[str, str, str, str]]:
    """(chunk cell HTML, rank left, rank right, change) for every chunk either side found."""
    c = _display_comparison(entry)
    by_id = {h.chunk.chunk_id: h for h in (*entry.b.answer.hits, *entry.a.answer.hits)}
    rows = []
    for m in sorted(c.both, key=lambda m: m.rank_a):
        change = "same rank" if m.moved == 0 else (f"up {m.moved}" if m.moved > 0 else f"down {-m.moved}")
        rows.append((_chunk_cell(by_id[m.chunk_id]), f"[{m.rank_a}]", f"[{m.rank_b}]", change))
    first, second = (entry.label(s) for s in display_sides(entry))
    rows += [(_chunk_cell(by_id[r.chunk_id]), f"[{r.rank}]", "—", f"only {first}") for r in c.only_a]
    rows += [(_chunk_cell(by_id[r.chunk_id]), "—", f"[{r.rank}]", f"only {second}") for r in c.only_b]
    return rows


def diff_html(entry: CompareEntry) -> str:
    """The diff as one inert HTML block (document text escaped): counts, a table, the deltas;
    columns in the order drawn above (Left before Right)."""
    c = _display_comparison(entry)
    la, lb = (entry.label(s) for s in display_sides(entry))
    counts = (f"<b>Diff</b> · found by both: <b>{len(c.both)}</b> · only by {la}: <b>{len(c.only_a)}</b>"
              f" · only by {lb}: <b>{len(c.only_b)}</b> · overlap {c.overlap:.0%}")
    cell = "padding:0.15rem 0.5rem;border-bottom:1px solid #e5e7eb;text-align:left"
    titles = ("chunk", f"rank {la}", f"rank {lb}", f"{lb} vs {la}")
    head = "".join(f'<th style="{cell}">{h}</th>' for h in titles)
    body = "".join("<tr>" + "".join(f'<td style="{cell}">{v}</td>' for v in row) + "</tr>"
                   for row in diff_rows(entry))
    def totals(name: str, s) -> str:
        return f"{name}: {s.tokens:,} tokens, {widgets.esc(format_usd(s.usd))}, {s.ms:,.0f} ms"

    deltas = (f"{lb} − {la}: {c.tokens_delta:+,} tokens · {widgets.esc(_signed_usd(c.usd_delta))} · "
              f"{c.ms_delta:+,.0f} ms ({totals(la, c.a)}; {totals(lb, c.b)})")
    return (f'<div class="rag-diff" style="margin-top:0.6rem"><div>{counts}</div>'
            '<table style="font-size:0.9rem;border-collapse:collapse;margin:0.3rem 0">'
            f'<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'
            f'<div class="rag-deltas">{deltas}</div></div>')


def diff_view(entry: CompareEntry) -> None:
    st.markdown(diff_html(entry), unsafe_allow_html=True)


# ---- blind mode: votes and the tally -------------------------------------------------------------


def cast_vote(n: int, pick: str) -> None:
    votes()[n] = pick


def vote_buttons(n: int, entry: CompareEntry) -> None:
    picked = votes().get(n)
    cols = st.columns(3)
    texts = ("Left is better", "About the same", "Right is better")
    for col, pick, text in zip(cols, ("Left", "tie", "Right"), texts):
        col.button(text, key=f"vote_{n}_{pick}", on_click=cast_vote, args=(n, pick),
                   type="primary" if picked == pick else "secondary")
    if picked:
        st.caption(f"Your pick: {picked if picked != 'tie' else 'about the same'}")


def vote_rows() -> list[tuple[str, str, str]]:
    """Each blind vote as (configuration picked, the other one, "win" | "tie")."""
    out = []
    entries = history()
    for n, pick in votes().items():
        if n >= len(entries):
            continue
        e = entries[n]
        left, right = (e.config_b, e.config_a) if e.swapped else (e.config_a, e.config_b)
        if pick == "Right":
            out.append((right, left, "win"))
        else:
            out.append((left, right, "win" if pick == "Left" else "tie"))
    return out


def tally_view() -> bool:
    """How many votes, and (revealed on request) the tally per configuration. Returns `reveal`."""
    rows = vote_rows()
    if not rows:
        return False
    reveal = st.toggle(f"Reveal the tally ({len(rows)} vote{'s' if len(rows) != 1 else ''})",
                       key=state.default("cmp_reveal", False))
    if reveal:
        counts = tally(rows)
        table = ranked_table(counts)
        st.caption(verdict(counts))
        st.dataframe([{"configuration": c, "wins": w, "losses": lo, "ties": t} for c, w, lo, t in table],
                     hide_index=True, width="stretch", key="blind_tally")
    return reveal


# ---- the page --------------------------------------------------------------------------------


def switch() -> bool:
    return st.toggle("Compare", key=state.default("compare", False),
                     help="Two configurations side by side: one question goes to both.")


def clear() -> None:
    st.session_state[HISTORY] = []
    st.session_state[VOTES] = {}


def view(names: list[str]) -> tuple[dict[str, state.ChatSettings], bool]:
    """The compare view above the chat input: the blind switch, both settings forms, the tally,
    the earlier compare turns. Returns the settings and whether the next turn is blind."""

    blind = st.toggle("Blind: Left/Right in random order, pick the better answer",
                      key=state.default("cmp_blind", False))
    st.caption("Each column has its own settings (they start from the sidebar's, which stay the plain "
               "chat's); one question goes to both. Compare turns cost like chat turns (session totals).")
    controls(names)
    settings = st.session_state[SETTINGS]
    reveal = tally_view()
    entries = history()
    for n, entry in enumerate(entries):
        with guard("showing an earlier comparison"):
            if n < len(entries) - 1 and not unfolded(n, entry):
                continue
            show(n, entry, reveal)
    return settings, blind


def unfolded(n: int, entry: CompareEntry) -> bool:
    """An earlier turn is one line (its question, and the vote if any) with a switch that unfolds
    it: three turns drawn whole passed 9,000 px. The latest turn is always drawn whole."""
    vote = votes().get(n)
    picked = f" · your pick: {vote if vote != 'tie' else 'about the same'}" if vote else ""
    return st.toggle(f"Turn {n + 1}: {widgets.md_literal(entry.question[:120])}{picked}", key=f"cmp_unfold_{n}",
                     help="Earlier comparisons are folded; unfold one to see both answers and the diff.")
