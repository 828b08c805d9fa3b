"""Widgets that explain an answer: the answer, hit cards, the prompt, the cost line, and the
chunk-boundary preview. Every piece of document or answer text goes through `esc` (html.escape,
plus `$` so Streamlit's math never fires, newlines as <br>) inside a one-line <div>, which
markdown leaves alone: a document can never inject markup, images or links into the page.
"""

from __future__ import annotations

import functools
import html
import re
from typing import Sequence
from urllib.parse import urlparse

import streamlit as st

from rag_core.costs import TurnCosts, format_usd
from rag_core.costs.record import StageCost
from rag_core.core.registry import Registry
from rag_core.core.types import Chunk, Hit, Usage

PALETTE = ("#dbeafe", "#dcfce7", "#fef3c7", "#fce7f3", "#e0e7ff", "#ccfbf1")
OVERLAP = "#fca5a5"


def esc(text: str) -> str:
    """Escaped for HTML inside st.markdown(unsafe_allow_html=True): one line, no math, no markup."""
    return (html.escape(text, quote=True).replace("$", "&#36;").replace("\n", "<br>")
            .replace("\r", "").replace("\\", "&#92;"))


def answer_html(text: str, cite_scope: str | None = None, n_hits: int = 0) -> str:
    """An answer as inert text for st.markdown(unsafe_allow_html=True): one line of escaped HTML
    in a <div> is a CommonMark HTML block, so nothing inside it is parsed as markdown. A quoted
    `![x](https://any.host/pixel.png)`, a raw link or an autolink in a document (or in a model's
    answer, a prompt-injection exfiltration channel) shows as the characters it is, and never
    makes the browser fetch anything. Line breaks stay; [n] citations read as they are, and with
    `cite_scope` each [n] up to `n_hits` becomes the app's own link to hit card n (an anchor on
    this page, `ui/hitcards.card_id`): the only markup ever added, never built from the text."""
    body = esc(text)
    if cite_scope and n_hits:
        body = _CITE.sub(lambda m: _cite_link(m, cite_scope, n_hits), body)
    return f'<div class="rag-answer" style="margin-bottom:0.6rem">{body}</div>'


_CITE = re.compile(r"\[(\d{1,3})\]")
_SCOPE = re.compile(r"[A-Za-z0-9_-]{1,40}")


def _cite_link(match: re.Match, scope: str, n_hits: int) -> str:
    n = int(match.group(1))
    if not 1 <= n <= n_hits or not _SCOPE.fullmatch(scope):
        return match.group(0)
    return f'<a class="rag-cite" href="#hit-{scope}-{n}" title="show chunk [{n}]">[{n}]</a>'


def md_escape(text: str) -> str:
    """For plain st.markdown/st.caption lines: `$` would start LaTeX, `*`/`_` emphasis."""
    return text.replace("\\", "\\\\").replace("$", "\\$").replace("*", "\\*").replace("_", "\\_")


_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>!$:|~&#])")


def md_literal(text: str) -> str:
    """Any untrusted string (a URL, a file name, a crawled title) for a markdown line, shown
    exactly as it is: every character that could start markup is backslash-escaped (CommonMark
    allows that for any ASCII punctuation), so no link, image, emphasis, `:emoji:`, `$math$`,
    `&entity;` or `<tag>` can form; newlines become spaces. Not for the start of a line."""
    return _MD_SPECIAL.sub(r"\\\1", " ".join(text.split()))


def is_url(source: str) -> bool:
    parsed = urlparse(source)
    return parsed.scheme in ("http", "https") and bool(parsed.netloc)


def source_html(chunk: Chunk) -> str:
    label = chunk.section or chunk.source
    if is_url(chunk.source):
        return f'<a href="{html.escape(chunk.source, quote=True)}" target="_blank" rel="noopener">{esc(label)}</a>'
    name = chunk.source.rsplit("/", 1)[-1]
    section = chunk.section if chunk.section and chunk.section != name else ""  # a .txt's section is its name
    return f"<code>{esc(name)}</code>" + (f" · {esc(section)}" if section else "")


def score_text(hit: Hit) -> str:
    """`cosine 0.523`; after reranking `rerank relevance 0.930 (was #4, cosine 0.520)`; a hybrid
    hit also shows every score it got, with its rank under each (`cosine 0.61 #2 · bm25 7.1 #1`);
    a neighbour says whose neighbour it is."""
    if hit.is_neighbour:
        return f"neighbour of #{hit.rank} (context only, not retrieved)"
    text = f"{hit.score_kind} {hit.score:.3f}"
    if hit.retrieval_rank is not None and hit.retrieval_score is not None:
        text += f" (was #{hit.retrieval_rank}, {hit.retrieval_score_kind} {hit.retrieval_score:.3f})"
    shown = {hit.score_kind, hit.retrieval_score_kind}
    others = [f"{s.kind} {s.value:.3f} #{s.rank}" for s in hit.scores if s.kind not in shown]
    return text + (f" · {' · '.join(others)}" if others else "")


def hover_text(source: str, section: str, text: str, width: int = 60, limit: int = 240) -> str:
    body = text[:limit] + ("…" if len(text) > limit else "")
    lines = [body[i : i + width] for i in range(0, len(body), width)]
    label = section or source.rsplit("/", 1)[-1]
    return f"<b>{html.escape(label)}</b><br>" + "<br>".join(html.escape(line) for line in lines)


def clamp_cut(text: str, head: int = 260) -> int | None:
    """Where a long text is cut for its card (at a space near `head`), or None: shown whole."""
    if len(text) <= head + 60:
        return None
    cut = text.rfind(" ", 0, head)
    return cut if cut > head // 2 else head


def clamped(text: str, head: int = 260) -> str:
    """The first ~`head` characters, the rest one click away (a <details> element)."""
    cut = clamp_cut(text, head)
    if cut is None:
        return esc(text)
    return (f"<details><summary style='cursor:pointer'>{esc(text[:cut])} … <i>(show all {len(text):,} "
            f"characters)</i></summary>{esc(text[cut:])}</details>")


def cost_text(usage: Usage, label: str = "This turn") -> str:
    latency = sum(v for k, v in usage.latency_ms.items() if k != "first_token")
    dollars = md_escape(format_usd(usage.cost_usd))
    return (f"{label}: {usage.embedding_tokens:,} embedding + {usage.prompt_tokens:,} prompt + "
            f"{usage.completion_tokens:,} completion tokens · {dollars}"
            + (f" on {md_escape(usage.cost_model)}" if usage.cost_model else "")  # nothing priced yet: no "on"
            + (f" · {latency:.0f} ms" if latency else ""))


def cost_line(usage: Usage, label: str = "This turn") -> None:
    st.markdown(f":material/payments: {cost_text(usage, label)}")


def cost_frame(turn_costs: TurnCosts):
    """One row per stage: what the API reported beside the tiktoken estimate, and dollars."""
    import pandas as pd

    rows = []
    for s in turn_costs.stages:
        if s.stage == "rerank":
            reported = f"{s.searches} search unit(s)" if s.searches else "not priced"
            estimate = "—"
        else:
            reported = f"{s.reported_tokens:,}" if s.reported_tokens is not None else "not reported"
            estimate = f"{s.estimated_tokens:,}"
        rows.append({"stage": s.stage, "model": s.model + (" (would cost)" if s.would_cost else ""),
                     "tokens reported by API": reported, "tiktoken estimate": estimate,
                     "$": format_usd(s.cost_usd)})
    rows.append({"stage": "total", "model": "", "tokens reported by API": "", "tiktoken estimate": "",
                 "$": format_usd(turn_costs.total_usd)})
    return pd.DataFrame(rows)


@functools.lru_cache(maxsize=1024)
def cost_arrow(stages: tuple[StageCost, ...]):
    """The cost table as an Arrow table, built once per record: redrawing twenty turns of history
    then skips pandas and the pandas-to-Arrow conversion (most of a rerun's time before)."""
    import pyarrow as pa

    return pa.Table.from_pandas(cost_frame(TurnCosts(stages)), preserve_index=False)


def cost_table(turn_costs: TurnCosts | None, key: str | None = None) -> None:
    if turn_costs is not None and turn_costs.stages:
        st.dataframe(cost_arrow(turn_costs.stages), hide_index=True, width="stretch", key=key)


def described_choice(where, label: str, registry: Registry, key: str) -> str:
    """A selectbox of a registry's names whose help says what each is for, and a caption under it
    for the chosen one (the descriptions are declared where each one registers)."""
    names = registry.names()
    described = "  \n".join(f"**{n}**: {registry.describe(n)}" for n in names)
    choice = where.selectbox(label, names, key=key, help=described)
    where.caption(registry.describe(choice))
    return choice


ROW_PX = 35  # st.dataframe's default row (and header) height


def table_height(n_rows: int, max_rows: int = 11) -> int:
    """Pixels for a dataframe showing its rows, at most `max_rows` before it scrolls: a fixed
    height draws blank filler rows under a short table."""
    return ROW_PX * (min(max(n_rows, 1), max_rows) + 1) + 3  # + the header row and the border


def compact_cost_rows(record: TurnCosts) -> list[tuple[str, str, str]]:
    """(stage, tokens, $) per stage plus a total: tokens are the API's report where there is one,
    else the tiktoken estimate (rerank: search units)."""
    rows = [(s.stage, f"{s.searches} search" if s.stage == "rerank" else f"{s.tokens:,}", format_usd(s.cost_usd))
            for s in record.stages]
    return rows + [("total", f"{record.usage().total_tokens:,}", format_usd(record.total_usd))]


def session_totals(record: TurnCosts, turns: int) -> None:
    """The sidebar's session totals, drawn once from the session's one cost record: the usage
    line derived from it, then one short line per stage. Lines wrap inside the narrow sidebar;
    a table there was cut off (issue 9)."""
    cost_line(record.usage(), label=f"{turns} turn{'s' if turns != 1 else ''}")
    if record.stages:
        st.markdown("\n".join(f"- {stage}: {tokens} tokens · {md_escape(usd)}"
                              for stage, tokens, usd in compact_cost_rows(record)))


def prompt_expander(prompt: str) -> None:
    with st.expander("Prompt sent to the answerer", expanded=False):
        st.code(prompt, language=None, wrap_lines=True)


def chunk_preview(text: str, chunks: Sequence[Chunk], max_chars: int = 20000) -> str:
    """HTML for `text` with each chunk's span coloured (alternating) and overlaps in red.

    Segments are cut at every chunk start/end; a segment covered by two chunks is an overlap.
    Text outside all chunks (whitespace trimmed at boundaries) is left plain.
    """
    text = text[:max_chars]
    n = len(text)
    cuts = sorted({0, n, *(min(c.start, n) for c in chunks), *(min(c.end, n) for c in chunks)})
    parts = []
    for a, b in zip(cuts, cuts[1:]):
        if a >= b:
            continue
        covering = [i for i, c in enumerate(chunks) if c.start <= a and b <= c.end]
        piece = esc(text[a:b])
        if not covering:
            parts.append(piece)
        elif len(covering) > 1:
            parts.append(f'<span title="overlap of chunks {", ".join(str(i + 1) for i in covering)}" '
                         f'style="background:{OVERLAP};text-decoration:underline">{piece}</span>')
        else:
            i = covering[0]
            parts.append(f'<span title="chunk {i + 1}" style="background:{PALETTE[i % len(PALETTE)]}">{piece}</span>')
    return ('<div class="rag-preview" style="max-height:28rem;overflow-y:auto;line-height:1.6;'
            'padding:0.6rem;border:1px solid #e5e7eb;border-radius:0.4rem;color:#111827;background:#fff">'
            + "".join(parts) + "</div>")
