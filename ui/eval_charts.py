"""Charts of evaluation results that stay readable at 24+ settings, shared by Evaluate and the
chunking experiment: ranked horizontal bars (labels read left to right, the best on top in its
own colour), an index x setting heatmap, and metric-against-chunk-size lines (one per retriever).
No figure here rotates a label; heights grow with the number of rows instead."""

from __future__ import annotations

from collections.abc import Sequence

import plotly.graph_objects as go

from rag_core.evaluation.evaluate import METRICS, EvalResult

BEST = "#16a34a"
OTHER = "#93c5fd"
ROW_PX = 26
LINE_COLOURS = ("#2563eb", "#ea580c", "#9333ea", "#0891b2", "#be123c", "#4d7c0f", "#a16207", "#475569")


def unique_names(names: Sequence[str]) -> list[str]:
    """The names, a repeated one numbered (a chart axis merges equal category names)."""
    seen: dict[str, int] = {}
    out = []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        out.append(name if seen[name] == 1 else f"{name} ({seen[name]})")
    return out


def _hover(r: EvalResult) -> str:
    metrics = " · ".join(f"{label} {getattr(r, attr):.3f}" for attr, label in METRICS.items())
    return f"{metrics}<br>search + rerank {r.latency_ms:.2f} ms · query embed {r.embed_text}"


def ranked_bars(results: Sequence[EvalResult], names: Sequence[str], top: EvalResult, metric: str,
                differences: Sequence | None = None) -> go.Figure:
    """One bar per setting for `metric`, best at the top in green; every metric in the hover. With
    `differences` (evaluate.against_best), each other bar carries the 95% CI of its difference to
    the best, drawn around its own value, and "=" marks one that cannot be told apart."""
    label = METRICS[metric]
    order = sorted(range(len(results)), key=lambda i: (results[i] is top, getattr(results[i], metric)))
    diffs = list(differences) if differences else [None] * len(results)
    tie = [d is not None and not d.resolved for d in diffs]
    ys = [("★ " if results[i] is top else ("= " if tie[i] else "")) + names[i] for i in order]
    values = [getattr(results[i], metric) for i in order]
    plus = [0.0 if diffs[i] is None else max(0.0, diffs[i].high - diffs[i].mean) for i in order]
    minus = [0.0 if diffs[i] is None else max(0.0, diffs[i].mean - diffs[i].low) for i in order]
    fig = go.Figure(go.Bar(
        x=values, y=ys, orientation="h", text=[f"{v:.3f}" for v in values], textposition="outside",
        marker_color=[BEST if results[i] is top else OTHER for i in order],
        error_x={"type": "data", "symmetric": False, "array": plus, "arrayminus": minus, "visible": any(plus)},
        customdata=[_hover(results[i]) for i in order], hovertemplate="%{y}<br>%{customdata}<extra></extra>"))
    fig.update_layout(height=max(260, ROW_PX * len(results) + 140), margin={"l": 10, "r": 30, "t": 50, "b": 60},
                      font={"size": 14}, title=f"{label} per setting (mean over questions), best on top"
                      + ("; whiskers: 95% CI of the difference to the best" if any(plus) else ""),
                      xaxis={"range": [0, 1.12], "title": label, "automargin": True}, yaxis={"automargin": True},
                      showlegend=False)
    return fig


def colour_range(values: Sequence[Sequence[float | None]]) -> tuple[float, float]:
    """The colour scale's ends: the data's own range (0.78 and 0.89 get visibly different blues,
    which a fixed 0-1 scale hid), widened to at least 0.02 so equal cells are not all one end.

    >>> colour_range([[0.78, 0.89], [None, 0.81]])
    (0.78, 0.89)
    >>> colour_range([[0.5, 0.5]])
    (0.49, 0.51)
    """
    seen = [v for row in values for v in row if v is not None]
    if not seen:
        return 0.0, 1.0
    low, high = min(seen), max(seen)
    if high - low < 0.02:
        middle = (low + high) / 2
        low, high = max(0.0, middle - 0.01), min(1.0, middle + 0.01) if middle + 0.01 <= 1 else 1.0
    return round(low, 6), round(high, 6)


def heatmap(rows: Sequence[str], columns: Sequence[str], values: Sequence[Sequence[float | None]],
            metric: str, title: str) -> go.Figure:
    """rows x columns of one metric, values written in the cells (settings as rows: their long
    labels read horizontally)."""
    label = METRICS[metric]
    low, high = colour_range(values)
    fig = go.Figure(go.Heatmap(
        z=values, x=list(columns), y=list(rows), zmin=low, zmax=high, colorscale="Blues",
        text=[[("" if v is None else f"{v:.3f}") for v in row] for row in values], texttemplate="%{text}",
        hovertemplate=f"%{{y}} · %{{x}}<br>{label} %{{z:.3f}}<extra></extra>", colorbar={"title": label}))
    fig.update_layout(height=max(260, ROW_PX * len(rows) + 170), margin={"l": 10, "r": 10, "t": 90, "b": 10},
                      font={"size": 14}, title=title, yaxis={"automargin": True, "autorange": "reversed"},
                      xaxis={"side": "top", "automargin": True})
    return fig


def size_lines(points: Sequence[dict], metric: str, best_index: str, best_retriever: str) -> go.Figure:
    """Metric against chunk size: one line per (retriever, chunking family), the best point ringed.
    Each point is a row of ExperimentResult.rows()."""
    label = METRICS[metric]
    families = sorted({p["family"] for p in points})
    lines: dict[tuple[str, str], list[dict]] = {}
    for p in points:
        lines.setdefault((p["retriever"], p["family"]), []).append(p)
    retrievers = list(dict.fromkeys(p["retriever"] for p in points))
    fig = go.Figure()
    for (retriever, family), members in lines.items():
        members = sorted(members, key=lambda p: p["size"])
        name = retriever if len(families) == 1 else f"{retriever} · {family}"
        fig.add_trace(go.Scatter(
            x=[p["size"] for p in members], y=[p[label] for p in members], mode="lines+markers", name=name,
            line={"color": LINE_COLOURS[retrievers.index(retriever) % len(LINE_COLOURS)],
                  "dash": ("solid", "dash", "dot", "dashdot")[families.index(family) % 4]},
            customdata=[p["index"] for p in members],
            hovertemplate=f"%{{customdata}}<br>size %{{x}} · {label} %{{y:.3f}}<extra>{name}</extra>"))
    star = [p for p in points if p["index"] == best_index and p["retriever"] == best_retriever]
    if star:
        fig.add_trace(go.Scatter(x=[star[0]["size"]], y=[star[0][label]], mode="markers", name="best",
                                 marker={"size": 18, "symbol": "star", "color": BEST}, hoverinfo="skip"))
    sizes = sorted({p["size"] for p in points})
    fig.update_layout(height=460, margin={"l": 10, "r": 10, "t": 90, "b": 10}, font={"size": 14},
                      title=f"{label} against chunk size, one line per retriever",
                      xaxis={"title": "chunk size", "tickvals": sizes, "automargin": True,
                             "type": "category" if len(sizes) < 2 else "linear"},
                      yaxis={"title": label, "range": [0, 1.05], "automargin": True},
                      legend={"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 0})
    return fig
