"""The Explore map, made honest: how much variance the 2-D map keeps, where the query's hits
really are (their true scores, and how near the map draws them), a colour that means
something, and a bounded number of points drawn.

Read it in two steps. `build_map` runs once per index generation (the caller caches it): the
PCA, a colour group per chunk (topic, source, folder or site; at most LEGEND_MAX + "other"),
and a sample of at most MAX_POINTS rows stratified by colour group. Then, per query, one view:
`pca_view` (the whole index, the query placed by the PCA transform) or `query_view` (the
query's neighbourhood around it: distance from the query is exactly 1 - cosine similarity,
the direction comes from the neighbours' main other directions). Each view says, per hit, how
many points the map draws nearer the query than that hit (`map_rank`), so a page can say how
far the picture is from the scores.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePosixPath
from types import MappingProxyType
from typing import Mapping, Sequence
from urllib.parse import urlparse

import numpy as np

from rag_core.index.index import Index
from rag_core.evaluation.projection import Projection, project_index, top_two
from rag_core.core.types import Hit, VectorStore

#: points drawn at most (the query's hits are always added on top)
MAX_POINTS = 5_000
#: colour groups named in the legend; the rest are drawn as OTHER
LEGEND_MAX = 10
OTHER = "other"
#: chunks drawn around the query in `query_view`
NEIGHBOURS = 200
TOP_LEVEL = "(top level)"


@dataclass(frozen=True)
class Colouring:
    """What the colour means (`kind`: topic, source, folder or site), the legend (largest group
    first; at most LEGEND_MAX + 1 entries, the last OTHER when groups were merged), and each
    chunk's group as an index into `labels`. `categories` counts the groups before the cap."""

    kind: str
    labels: tuple[str, ...]
    codes: np.ndarray
    categories: int


@dataclass(frozen=True)
class ExploreMap:
    """Everything Explore needs from one index generation; built once, read by every query.
    `vectors` is a float16 copy (half the memory) for the neighbourhood view's second axis."""

    projection: Projection
    colouring: Colouring
    sample: np.ndarray
    vectors: np.ndarray
    rows: Mapping[str, int]
    n_sources: int

    @property
    def n_chunks(self) -> int:
        return len(self.projection.chunks)


@dataclass(frozen=True)
class MapHit:
    """A hit as drawn: its map position, and `map_rank`, 1 + how many of the view's `candidates`
    points the map draws nearer the query than this hit (1 = the map agrees it is nearest)."""

    hit: Hit
    row: int
    xy: tuple[float, float]
    map_rank: int


@dataclass(frozen=True)
class MapView:
    """One drawing. `kind` is "pca" or "query"; `rows` index the map's chunks, `coords` their
    positions; `explained`: the whole index's variance ratio of each PCA axis ("pca"), or what
    the two directions keep of the neighbours' variance beside the query's ("query");
    `candidates` is how many points `map_rank` was counted over."""

    kind: str
    rows: np.ndarray
    coords: np.ndarray
    query_xy: tuple[float, float] | None
    hits: tuple[MapHit, ...]
    explained: tuple[float, float]
    candidates: int


# ---- colour groups -----------------------------------------------------------------------


def short_name(source: str) -> str:
    """A file's name or a URL's last path segment (its host when the path is empty)."""
    parsed = urlparse(source)
    if parsed.scheme in ("http", "https") and parsed.netloc:
        segments = [s for s in parsed.path.split("/") if s]
        return segments[-1] if segments else parsed.netloc
    return source.replace("!/", "/").rstrip("/").rsplit("/", 1)[-1] or source


def _folders(source: str) -> tuple[tuple[str, ...], bool]:
    """The folder path of a source (a URL: host, then path segments) without its last part,
    and whether it is a URL. A zip member `a.zip!/x/y.md` sits in folders (a.zip, x)."""
    parsed = urlparse(source)
    if parsed.scheme in ("http", "https") and parsed.netloc:
        return (parsed.netloc,) + tuple(s for s in parsed.path.split("/") if s)[:-1], True
    parts = [p for p in PurePosixPath(source.replace("!/", "/")).parts if p not in ("/", ".")]
    return tuple(parts[:-1]), False


def _folder_labels(sources: Sequence[str]) -> tuple[str, dict[str, str]]:
    """Each source's first folder below the folders every source shares (so absolute paths and
    a single crawled site still split); ("site" | "folder", source -> label)."""
    found = {s: _folders(s) for s in sources}
    paths = [f for f, _ in found.values()]
    common = 0
    while paths and all(len(p) > common and p[common] == paths[0][common] for p in paths):
        common += 1
    prefix = "…/" if common else ""
    labels = {s: prefix + f[common] if len(f) > common else TOP_LEVEL for s, (f, _) in found.items()}
    kind = "site" if all(is_url for _, is_url in found.values()) else "folder"
    return kind, labels


def _source_groups(sources: Sequence[str]) -> tuple[str, dict[str, str]]:
    """Sources without a topic: by name when there are few (<= LEGEND_MAX), else by folder or
    site; by name (capped later) when they all share one folder."""
    if len(sources) > LEGEND_MAX:
        kind, labels = _folder_labels(sources)
        if len(set(labels.values())) > 1:
            return kind, labels
    return "source", {s: short_name(s) for s in sources}


def colour_groups(sources: Sequence[str], topics: Mapping[str, str] = MappingProxyType({})) -> Colouring:
    """One colour group per chunk (`sources`, one per chunk): the topic where `topics` knows the
    source (the demo corpus), else `_source_groups`. Groups beyond LEGEND_MAX merge into OTHER."""
    distinct = list(dict.fromkeys(sources))
    kind, labels = _source_groups([s for s in distinct if s not in topics])
    if any(s in topics for s in distinct):
        kind = "topic"
        labels.update({s: topics[s] for s in distinct if s in topics})
    per_source = {s: i for i, s in enumerate(distinct)}
    source_codes = np.fromiter((per_source[s] for s in sources), dtype=np.int64, count=len(sources))
    group_names, source_group = np.unique([labels[s] for s in distinct] or [""], return_inverse=True)
    chunk_group = source_group[source_codes] if len(sources) else np.zeros(0, dtype=np.int64)
    counts = np.bincount(chunk_group, minlength=len(group_names))
    order = sorted(range(len(group_names)), key=lambda g: (-counts[g], group_names[g]))
    order = [g for g in order if counts[g] > 0]
    keep = order if len(order) <= LEGEND_MAX + 1 else order[:LEGEND_MAX]
    legend = tuple(str(group_names[g]) for g in keep) + ((OTHER,) if len(keep) < len(order) else ())
    remap = np.full(len(group_names), len(legend) - 1, dtype=np.int16)
    remap[keep] = np.arange(len(keep), dtype=np.int16)
    return Colouring(kind, legend, remap[chunk_group], len(order))


# ---- sampling ------------------------------------------------------------------------------


def stratified_sample(codes: np.ndarray, max_points: int = MAX_POINTS, seed: int = 0) -> np.ndarray:
    """At most `max_points` row numbers (sorted), every row when there are no more: each group
    keeps up to max_points / (2 * groups) rows so small groups stay visible, and the rest of the
    budget is shared in proportion to group size, so exactly `max_points` are drawn. Seeded, so
    the map does not jump on reruns."""
    n = len(codes)
    if n <= max_points:
        return np.arange(n)
    groups, counts = np.unique(codes, return_counts=True)
    floor = np.minimum(counts, max_points // (2 * len(groups)))
    spare = counts - floor
    extra = np.floor((max_points - floor.sum()) * spare / max(1, spare.sum())).astype(np.int64)
    quota = np.minimum(counts, floor + extra)
    room = counts - quota  # rounding down left fewer than one row per group unused: hand them out
    quota[np.argsort(-room, kind="stable")[: max_points - int(quota.sum())]] += 1
    rng = np.random.default_rng(seed)
    picks = [rng.choice(np.flatnonzero(codes == g), size=int(q), replace=False)
             for g, q in zip(groups, quota)]
    return np.sort(np.concatenate(picks))


def build_map(index: Index, topics: Mapping[str, str] = MappingProxyType({}), max_points: int = MAX_POINTS,
              seed: int = 0) -> ExploreMap:
    """The PCA, colour groups and drawn sample of `index` (once per generation; cache it)."""
    vectors = np.asarray(index.store.vectors(), dtype=np.float32)
    projection = project_index(index, vectors=vectors)
    colouring = colour_groups([c.source for c in projection.chunks], topics)
    rows = MappingProxyType({c.chunk_id: i for i, c in enumerate(projection.chunks)})
    sample = stratified_sample(colouring.codes, max_points, seed)
    n_sources = len({c.source for c in projection.chunks})
    return ExploreMap(projection, colouring, sample, vectors.astype(np.float16), rows, n_sources)


# ---- views ---------------------------------------------------------------------------------


def _hit_rows(explore_map: ExploreMap, hits: Sequence[Hit]) -> list[tuple[Hit, int]]:
    return [(h, explore_map.rows[h.chunk.chunk_id]) for h in hits if h.chunk.chunk_id in explore_map.rows]


def _map_ranks(points: np.ndarray, query_xy: np.ndarray, positions: Sequence[int]) -> list[int]:
    """1 + how many of `points` lie strictly nearer `query_xy` than each point in `positions`."""
    distance = np.linalg.norm(points - query_xy, axis=1)
    return [int((distance < distance[p]).sum()) + 1 for p in positions]


def pca_view(explore_map: ExploreMap, query_vector: np.ndarray | None = None,
             hits: Sequence[Hit] = ()) -> MapView:
    """The whole index on its two main axes: the stratified sample plus every hit; the query
    placed by the PCA transform; `map_rank` counted over every chunk, drawn or not."""
    proj = explore_map.projection
    found = _hit_rows(explore_map, hits) if query_vector is not None else []
    rows = np.union1d(explore_map.sample, np.array([r for _, r in found], dtype=np.int64))
    query_xy, placed = None, ()
    if query_vector is not None and len(proj.coords):
        q = proj.project(query_vector)[0]
        query_xy = (float(q[0]), float(q[1]))
        ranks = _map_ranks(proj.coords, q, [r for _, r in found])
        placed = tuple(MapHit(h, r, (float(proj.coords[r, 0]), float(proj.coords[r, 1])), k)
                       for (h, r), k in zip(found, ranks))
    return MapView("pca", rows, proj.coords[rows], query_xy, placed, proj.explained, len(proj.coords))


def _neighbourhood(explore_map: ExploreMap, store: VectorStore, query_vector: np.ndarray,
                   hit_rows: Sequence[int], neighbours: int) -> tuple[np.ndarray, np.ndarray]:
    """The rows of the query's `neighbours` nearest chunks (plus any hit outside them), and each
    one's cosine to the query: the store's own score where it is a cosine, else a dot product."""
    near = store.search(query_vector, neighbours)
    exact = {explore_map.rows[h.chunk.chunk_id]: float(h.score) for h in near
             if store.metric == "cosine" and h.chunk.chunk_id in explore_map.rows}
    near_rows = [explore_map.rows[h.chunk.chunk_id] for h in near if h.chunk.chunk_id in explore_map.rows]
    rows = np.array(list(dict.fromkeys(near_rows + list(hit_rows))), dtype=np.int64)
    q = np.asarray(query_vector, dtype=np.float32).ravel()
    dots = explore_map.vectors[rows].astype(np.float32) @ q
    return rows, np.array([exact.get(int(r), float(d)) for r, d in zip(rows, dots)], dtype=np.float32)


def query_view(explore_map: ExploreMap, store: VectorStore, query_vector: np.ndarray,
               hits: Sequence[Hit] = (), neighbours: int = NEIGHBOURS) -> MapView:
    """The query's neighbourhood drawn around it so that closeness to the query is true: the
    query at (0, 0); each chunk at distance 1 - cosine similarity (exact), in the direction it
    leaves the query along the neighbours' two main other directions (the query's own direction
    taken out). So the map's nearest points are the most similar chunks; between two chunks,
    distances stay approximate. `explained`: what those two directions keep of the rest."""
    found = _hit_rows(explore_map, hits)
    rows, cosine = _neighbourhood(explore_map, store, query_vector, [r for _, r in found], neighbours)
    q = np.asarray(query_vector, dtype=np.float32).ravel()
    q = q / max(float(np.linalg.norm(q)), 1e-12)
    vectors = explore_map.vectors[rows].astype(np.float32)
    residual = vectors - np.outer(vectors @ q, q)
    _, axes, explained = top_two(residual) if len(rows) else (None, np.zeros((2, len(q))), (0.0, 0.0))
    away = residual @ axes.T
    angle = np.arctan2(away[:, 1], away[:, 0])
    radius = np.clip(1.0 - cosine, 0.0, None)
    coords = np.column_stack([radius * np.cos(angle), radius * np.sin(angle)]).astype(np.float32)
    position = {int(r): i for i, r in enumerate(rows)}
    ranks = _map_ranks(coords, np.zeros(2, np.float32), [position[r] for _, r in found])
    placed = tuple(MapHit(h, r, (float(coords[position[r], 0]), float(coords[position[r], 1])), k)
                   for (h, r), k in zip(found, ranks))
    return MapView("query", rows, coords, (0.0, 0.0), placed, explained, len(rows))
