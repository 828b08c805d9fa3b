"""The Explore map drawn from a rag_core.evaluation.explore view: one WebGL trace per colour group (at most
LEGEND_MAX + "other", never a repeating palette), the query, its hits with their true scores
(in the hover, on the lines from the query, and in a table), and the captions that say what the
picture keeps and leaves out. The arithmetic lives in rag_core/evaluation/explore.py; this only draws.
"""

from __future__ import annotations

import html

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from rag_core.evaluation.explore import OTHER, ExploreMap, MapHit, MapView, short_name

from ui.widgets import hover_text, score_text

#: the Explore top-k slider's range, which a link's top_k is checked against too
TOP_K_RANGE = (1, 20)

#: Tableau 10 plus one, all distinct; "other" is grey, so no two groups ever share a colour
COLOURS = ("#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7",
           "#9c755f", "#1f3b57", "#8cd17d")
OTHER_COLOUR = "#c7c7c7"
INK = "#111827"
#: circles of equal cosine similarity drawn around the query in the query view
RINGS = (0.25, 0.5, 0.75)
VIEWS = {"pca": "Whole index (PCA)", "query": "Around the query (true similarity)"}


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n:,}{suffix}"


def _points(fig: go.Figure, emap: ExploreMap, view: MapView) -> None:
    """One trace per colour group present, largest first; `meta="colour"` marks them. Group names
    come from file names and URLs: escaped, since plotly renders a few tags (and links) in names."""
    chunks = emap.projection.chunks
    codes = emap.colouring.codes[view.rows]
    for code, label in enumerate(emap.colouring.labels):
        at = np.flatnonzero(codes == code)
        if len(at) == 0:
            continue
        hover = [hover_text(chunks[r].source, chunks[r].section, chunks[r].text) for r in view.rows[at]]
        colour = OTHER_COLOUR if label == OTHER else COLOURS[code % len(COLOURS)]
        fig.add_trace(go.Scattergl(x=view.coords[at, 0], y=view.coords[at, 1], mode="markers",
                                   name=html.escape(label[:40]), meta="colour", hovertext=hover, hoverinfo="text",
                                   marker=dict(size=6, opacity=0.7, color=colour)))


def _hit_hover(p: MapHit) -> str:
    label = html.escape(p.hit.chunk.section or short_name(p.hit.chunk.source))
    return (f"<b>#{p.hit.rank}</b> {html.escape(score_text(p.hit))}<br>"
            f"drawn as the {_ordinal(p.map_rank)} nearest point to the query<br>{label}")


def _query_and_hits(fig: go.Figure, view: MapView, query_text: str) -> None:
    """Lines query -> hit labelled (mid-line) with the hit's true score; hits ringed with their rank."""
    if view.query_xy is None:
        return
    qx, qy = view.query_xy
    hx, hy = [p.xy[0] for p in view.hits], [p.xy[1] for p in view.hits]
    fig.add_trace(go.Scatter(x=[v for x in hx for v in (qx, x, None)], mode="lines", name="query → hit",
                             y=[v for y in hy for v in (qy, y, None)], hoverinfo="skip",
                             line=dict(color=INK, width=1.2, dash="dot")))
    if view.hits:
        fig.add_trace(go.Scatter(x=[(qx + x) / 2 for x in hx], y=[(qy + y) / 2 for y in hy], mode="text",
                                 text=[f"{p.hit.score:.2f}" for p in view.hits], showlegend=False,
                                 hoverinfo="skip", textfont=dict(size=12, color=INK)))
        fig.add_trace(go.Scatter(x=hx, y=hy, mode="markers+text", name="hits", textposition="top center",
                                 text=[f"#{p.hit.rank}" for p in view.hits], hoverinfo="text",
                                 hovertext=[_hit_hover(p) for p in view.hits],
                                 marker=dict(size=15, color="rgba(0,0,0,0)",
                                             line=dict(width=2.5, color=INK))))
    fig.add_trace(go.Scatter(x=[qx], y=[qy], mode="markers", name="query", hoverinfo="text",
                             hovertext=[html.escape(query_text)],
                             marker=dict(size=20, symbol="star", color="#f59e0b",
                                         line=dict(width=1.5, color=INK))))


def axis_titles(view: MapView) -> tuple[str, str]:
    ex = view.explained
    if view.kind == "query":
        return "", ""
    return f"PC1 ({ex[0]:.1%} of variance)", f"PC2 ({ex[1]:.1%})"


def _rings(fig: go.Figure) -> None:
    """Circles of equal cosine similarity around the query (the query view's distances are exact)."""
    for cosine in RINGS:
        r = 1.0 - cosine
        fig.add_shape(type="circle", x0=-r, y0=-r, x1=r, y1=r, layer="below",
                      line=dict(color="#9ca3af", width=1, dash="dash"))
        fig.add_annotation(x=0, y=r, text=f"cosine {cosine:.2f}", showarrow=False, yshift=8,
                           font=dict(size=11, color="#6b7280"))
    fig.update_xaxes(showticklabels=False, zeroline=False)
    fig.update_yaxes(showticklabels=False, zeroline=False, scaleanchor="x", scaleratio=1)


def figure(emap: ExploreMap, view: MapView, query_text: str = "") -> go.Figure:
    fig = go.Figure()
    _points(fig, emap, view)
    _query_and_hits(fig, view, query_text)
    x_title, y_title = axis_titles(view)
    fig.update_layout(height=620, margin=dict(l=10, r=10, t=30, b=10), font=dict(size=14),
                      xaxis_title=x_title, yaxis_title=y_title, showlegend=True,
                      legend=dict(orientation="h", yanchor="bottom", y=1.0))
    if view.kind == "query":
        _rings(fig)
    return fig


def variance_caption(view: MapView) -> str:
    ex = view.explained
    if view.kind == "query":
        return (f"Around the query: its {view.candidates:,} nearest chunks. Distance from the star is "
                "exactly 1 − cosine similarity (the dashed circles), so the nearest points are the most "
                "similar chunks; the direction only sorts the neighbours among themselves (it keeps "
                f"{sum(ex):.0%} of how they differ), so distances between two chunks are approximate.")
    return (f"This 2-D PCA map keeps {sum(ex):.1%} of the variance (PC1 {ex[0]:.1%}, PC2 {ex[1]:.1%}): "
            "points close on it may be far apart in the embedding space, and the other way round.")


def sample_caption(emap: ExploreMap, view: MapView) -> str:
    total, shown, sources = emap.n_chunks, len(view.rows), emap.n_sources
    held = f"the index holds {sources:,} sources"  # not "from N sources": the points shown come from fewer
    if view.kind == "query":
        return f"Showing the query's {shown:,} nearest of {total:,} chunks ({held})."
    if shown >= total:
        return f"Showing all {total:,} chunks ({held})."
    return (f"Showing {shown:,} of {total:,} chunks ({held}): a sample stratified by "
            "colour, so small groups stay visible; the query's hits are always drawn.")


KIND_NAMES = {"topic": "topic", "source": "source", "folder": "folder", "site": "site section"}


def colour_caption(emap: ExploreMap) -> str:
    col = emap.colouring
    what = KIND_NAMES.get(col.kind, col.kind)
    if col.labels and col.labels[-1] == OTHER:
        return (f"Colour = {what}: the {len(col.labels) - 1} largest of {col.categories:,} named, the rest "
                f"grey (“{OTHER}”). Hover a point for its text.")
    return f"Colour = {what} ({col.categories:,} in all). Hover a point for its text."


def distance_caption(view: MapView) -> str:
    """How far the picture is from the scores, in one line (the top hit's place on the map)."""
    if not view.hits:
        return ""
    first = min(view.hits, key=lambda p: p.hit.rank)
    where = (f"hit #{first.hit.rank} is drawn as the {_ordinal(first.map_rank)} nearest of "
             f"{view.candidates:,} points to the query")
    if view.kind == "query":
        return (f"Here distance from the query is exact: {where}. Lines are labelled with each hit's "
                "true score.")
    return (f"Distances on a 2-D projection are approximate: {where}. Lines are labelled with each hit's "
            "true score; trust the scores in the table, or switch to the map around the query.")


#: what the hit is comes right after its score: in the narrow column beside the map the columns past the
#: third are scrolled out of view
HIT_COLUMNS = ["rank", "score", "section", "source", "score is", "nearest on map", "all scores"]


def hits_frame(view: MapView) -> pd.DataFrame:
    rows = [{"rank": p.hit.rank, "score": round(float(p.hit.score), 4), "score is": p.hit.score_kind,
             "all scores": ", ".join(f"{s.kind} {s.value:.3f} (#{s.rank})" for s in p.hit.all_scores),
             "nearest on map": p.map_rank, "section": p.hit.chunk.section,
             "source": short_name(p.hit.chunk.source)} for p in sorted(view.hits, key=lambda p: p.hit.rank)]
    frame = pd.DataFrame(rows, columns=HIT_COLUMNS)
    if all(len(p.hit.all_scores) == 1 for p in view.hits):  # nothing beyond the primary score
        frame = frame.drop(columns="all scores")
    return frame


def hits_table(view: MapView) -> None:
    """The hits with their true scores; a cosine score drawn as a bar (0 to 1)."""
    frame = hits_frame(view)
    cosine = bool(len(frame)) and set(frame["score is"]) == {"cosine"}
    score = (st.column_config.ProgressColumn("score", min_value=0.0, max_value=1.0, format="%.3f") if cosine
             else st.column_config.NumberColumn("score", format="%.3f"))
    nearest = st.column_config.NumberColumn(
        "nearest on map", help="1 + how many points the map draws nearer the query than this hit")
    st.dataframe(frame, hide_index=True, width="stretch", key="explore_hits",
                 column_config={"score": score, "nearest on map": nearest})
