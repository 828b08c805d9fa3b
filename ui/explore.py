"""The Explore map: every chunk embedding in 2-D (PCA), coloured by source, with a query and
lines to its top-k hits. One WebGL trace for all points, so 10k+ chunks stay fast."""

from __future__ import annotations

import html
from typing import Sequence

import numpy as np
import plotly.graph_objects as go

from rag_core.projection import Projection
from rag_core.types import Hit

from .widgets import hover_text

COLOURS = ("#2563eb", "#16a34a", "#dc2626", "#9333ea", "#ea580c", "#0891b2", "#db2777", "#65a30d",
           "#7c3aed", "#ca8a04", "#0f766e", "#be123c")
LEGEND_MAX = 12
#: a stepwise colorscale, so integer source codes map to exact palette colours (fast: numeric array)
DISCRETE = [[edge, colour] for i, colour in enumerate(COLOURS)
            for edge in (i / len(COLOURS), (i + 1) / len(COLOURS))]


def scatter(proj: Projection, query: np.ndarray | None = None, hits: Sequence[Hit] = (),
            query_text: str = "") -> go.Figure:
    sources = [c.source for c in proj.chunks]
    uniq = list(dict.fromkeys(sources))
    code = {s: i for i, s in enumerate(uniq)}
    fig = go.Figure()
    hover = list(proj.hover) or [hover_text(c.source, c.section, c.text) for c in proj.chunks]
    if len(uniq) <= LEGEND_MAX:
        for s in uniq:
            idx = [i for i, src in enumerate(sources) if src == s]
            fig.add_trace(go.Scattergl(x=proj.coords[idx, 0], y=proj.coords[idx, 1], mode="markers",
                                       name=s.rsplit("/", 1)[-1][:40], hovertext=[hover[i] for i in idx],
                                       hoverinfo="text", marker=dict(size=7, opacity=0.75,
                                                                     color=COLOURS[code[s] % len(COLOURS)])))
    else:
        codes = np.fromiter((code[s] % len(COLOURS) for s in sources), dtype=np.int16, count=len(sources))
        fig.add_trace(go.Scattergl(x=proj.coords[:, 0], y=proj.coords[:, 1], mode="markers", name="chunks",
                                   hovertext=hover, hoverinfo="text",
                                   marker=dict(size=6, opacity=0.7, color=codes, colorscale=DISCRETE,
                                               cmin=-0.5, cmax=len(COLOURS) - 0.5, showscale=False)))
    if query is not None:
        q = proj.project(query)[0]
        pos = {c.chunk_id: i for i, c in enumerate(proj.chunks)}
        points = [proj.coords[pos[h.chunk.chunk_id]] for h in hits if h.chunk.chunk_id in pos]
        xs, ys = [], []
        for p in points:
            xs += [q[0], p[0], None]
            ys += [q[1], p[1], None]
        fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines", name="to hits", hoverinfo="skip",
                                 line=dict(color="#111827", width=1.5, dash="dot")))
        if points:
            arr = np.array(points)
            fig.add_trace(go.Scatter(x=arr[:, 0], y=arr[:, 1], mode="markers+text", name="top-k hits",
                                     text=[f"#{h.rank}" for h in hits if h.chunk.chunk_id in pos],
                                     textposition="top center", hoverinfo="skip",
                                     marker=dict(size=14, color="rgba(0,0,0,0)", line=dict(width=2.5, color="#111827"))))
        fig.add_trace(go.Scatter(x=[q[0]], y=[q[1]], mode="markers", name="query",
                                 hovertext=[html.escape(query_text)], hoverinfo="text",
                                 marker=dict(size=20, symbol="star", color="#f59e0b", line=dict(width=1.5, color="#111827"))))
    ex = proj.explained
    fig.update_layout(height=640, margin=dict(l=10, r=10, t=30, b=10), font=dict(size=15),
                      xaxis_title=f"PC1 ({ex[0]:.0%} of variance)", yaxis_title=f"PC2 ({ex[1]:.0%})",
                      showlegend=True, legend=dict(orientation="h"))
    return fig
