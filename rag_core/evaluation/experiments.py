"""Chunking experiments: one corpus, 1-5 chunkings x any RetrievalSettings, one question set.

Read it in three parts:

1. Naming. A variant index is called `<base>--<slug>`, the slug spelled from the chunking
   (`recursive-500-50`, plus any other ChunkingConfig field that is not at its default, e.g.
   `headers`, and `-headers` for the index option of contextual chunk headers where this version
   has it): deterministic, always a safe catalog name (cut with a short hash when long), and
   `parse_variant` reads the slug back, so the CLI takes the same spelling.
2. Building. `build_variant` reuses a variant whose manifest already says the same chunking,
   embedder, store and source hashes; otherwise it builds a fresh index and, when one exists
   there, replaces it (`open_for_replace`: a new generation; readers keep the old one until the
   new one is saved, and a concurrent writer is still refused). The embedder is shared, so its
   disk cache serves every text two chunkings cut the same way (e.g. a short document that is
   one chunk under both) without embedding it again.
3. Evaluating. `run_experiment` builds, then runs `evaluate.compare_indexes` over the grid
   variants x settings: one EvalResult per cell, variant-major, every cell present.
   `varying_label` names a setting by the fields that differ across the grid, so fields that
   RetrievalSettings gains later (mode, fusion, MMR ...) show up without changes here.
"""

from __future__ import annotations

import dataclasses
import hashlib
import inspect
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rag_core.index import index as rindex
from rag_core.index import saved
from rag_core.index import saved_pg
from rag_core.core.errors import ConfigError
from rag_core.evaluation.evaluate import EvalResult, QuestionSet, best, compare_indexes, setting_label, vs_best_json
from rag_core.index.index import Index, IngestResult, source_hashes
from rag_core.evaluation.significance import Difference
from rag_core.core.types import ChunkingConfig, Document, Embedder, RetrievalSettings
from rag_core.ingest.chunking import chunk_documents
from rag_core.core.catalog import dim_from_server
from rag_core.embeddings import create_embedder
from rag_core.providers import is_hosted

ProgressFn = Callable[[int, int, str], None]
MAX_CHUNKINGS = 5
SEPARATOR = "--"
_NAME_MAX = 64
_UNSAFE = re.compile(r"[^A-Za-z0-9._]+")
_CORE_FIELDS = ("strategy", "size", "overlap")
#: RetrievalSettings fields that never name a retriever (a source filter is a question's business)
_NOT_A_RETRIEVER = ("sources",)


# ---- naming --------------------------------------------------------------------------------


def _extra_fields(chunking: ChunkingConfig) -> list[tuple[str, Any]]:
    """ChunkingConfig fields beyond strategy/size/overlap that differ from their default."""
    out = []
    for f in dataclasses.fields(ChunkingConfig):
        value = getattr(chunking, f.name)
        if f.name not in _CORE_FIELDS and f.default is not dataclasses.MISSING and value != f.default:
            out.append((f.name, value))
    return out


def chunking_slug(chunking: ChunkingConfig) -> str:
    """`recursive-500-50`; a non-default bool field adds its name (`headers`) or `no<name>`,
    any other adds `<name>_<value>`, with unsafe characters replaced."""
    parts = [chunking.strategy, str(chunking.size), str(chunking.overlap)]
    for name, value in _extra_fields(chunking):
        if isinstance(value, bool):
            parts.append(name if value else f"no{name}")
        else:
            parts.append(f"{name}_{value}")
    return "-".join(_UNSAFE.sub("_", p).strip("_") or "x" for p in parts)


HEADERS = "headers"


def headers_supported() -> bool:
    """True when indexes take the contextual-headers option (Index.create(headers=...))."""
    return HEADERS in inspect.signature(Index.create).parameters


@dataclass(frozen=True)
class Chunking:
    """A chunking to try: the ChunkingConfig, and whether the index embeds contextual headers."""

    config: ChunkingConfig
    headers: bool = False

    @property
    def slug(self) -> str:
        return chunking_slug(self.config) + (f"-{HEADERS}" if self.headers else "")


def as_chunking(item: "ChunkingConfig | Chunking") -> Chunking:
    return item if isinstance(item, Chunking) else Chunking(item)


def variant_name(base: str, chunking: "ChunkingConfig | Chunking") -> str:
    """`<base>--<slug>`, a valid index name for every base and chunking; a name longer than the
    catalog allows is cut and ends with 8 hex digits of the full name, so it stays unique."""
    base = saved.check_name(base)
    full = f"{base}{SEPARATOR}{as_chunking(chunking).slug}"
    if len(full) <= _NAME_MAX:
        return saved.check_name(full)
    digest = hashlib.sha1(full.encode()).hexdigest()[:8]
    return saved.check_name(f"{full[: _NAME_MAX - 9].rstrip('-._')}-{digest}")


def parse_chunking(spec: str) -> ChunkingConfig:
    """`recursive-500-50` or `recursive:500:50` (strategy, size, overlap), optionally followed
    by bool flags of ChunkingConfig such as `headers` / `noheaders`."""
    parts = [p for p in re.split(r"[-:/]", spec.strip()) if p]
    example = "recursive-500-50 or tokens:256:32"
    if len(parts) < 3:
        raise ConfigError(f"chunking {spec!r} must be strategy-size-overlap, e.g. {example}")
    try:
        size, overlap = int(parts[1]), int(parts[2])
    except ValueError:
        raise ConfigError(f"chunking {spec!r}: size and overlap must be whole numbers, e.g. {example}") from None
    flags: dict[str, bool] = {}
    bools = {f.name for f in dataclasses.fields(ChunkingConfig) if isinstance(f.default, bool)}
    for word in parts[3:]:
        name = word[2:] if word.startswith("no") and word[2:] in bools else word
        if name not in bools:
            known = ", ".join(sorted(bools)) or "none in this version"
            raise ConfigError(f"chunking {spec!r}: unknown option {word!r} (known: {known})")
        flags[name] = name == word
    return ChunkingConfig(strategy=parts[0], size=size, overlap=overlap, **flags)


def parse_variant(spec: str) -> Chunking:
    """`parse_chunking`, plus a trailing `headers` for the contextual-headers index option."""
    words = [p for p in re.split(r"[-:/]", spec.strip()) if p]
    if words and words[-1] == HEADERS and HEADERS not in {f.name for f in dataclasses.fields(ChunkingConfig)}:
        if not headers_supported():
            raise ConfigError(f"chunking {spec!r}: this version has no contextual headers; drop '-{HEADERS}'")
        return Chunking(parse_chunking("-".join(words[:-1])), headers=True)
    return Chunking(parse_chunking(spec))


def check_chunkings(chunkings: Sequence["ChunkingConfig | Chunking"]) -> tuple[Chunking, ...]:
    """1-5 distinct chunkings, each checked by the chunker (a bad size/overlap fails here)."""

    unique = tuple(dict.fromkeys(as_chunking(c) for c in chunkings))
    if not unique:
        raise ConfigError("choose at least one chunking to try")
    if len(unique) > MAX_CHUNKINGS:
        raise ConfigError(f"an experiment tries at most {MAX_CHUNKINGS} chunkings, not {len(unique)}: "
                          "drop some, or run a second experiment")
    probe = [Document("probe", "", "probe text " * 5)]
    for chunking in unique:
        chunk_documents(probe, chunking.config)
    return unique


# ---- building ------------------------------------------------------------------------------


def open_for_replace(directory: str | Path, embedder: Embedder, store_name: str,
                     chunking: ChunkingConfig, headers: bool = False) -> Index:
    """A new, empty index that will replace the one at `directory` when saved: the old
    generation stays live (and readable) until then, and a writer that saved in between is
    still refused, exactly as for an ingest (the new index's base is today's generation)."""
    if headers and not headers_supported():
        raise ConfigError("this version has no contextual headers: build without them")
    options = {HEADERS: True} if headers else {}
    index = Index.create(directory, embedder, store_name, chunking, **options)
    if rindex.exists(directory):
        index.base_generation = rindex.live_generation(directory).name
        _replace_database_index(directory, index)
    return index


def _replace_database_index(directory: str | Path, index: Index) -> None:
    """A pgvector index replaced by a pgvector one of the same name builds into a new table that
    its save swaps in; replaced by anything else, its table and row are dropped once the new
    index is saved. Either way nothing is left orphaned in the database."""
    old = saved_pg.pointed_name(directory)
    replace_in_database = getattr(index.store, "replace_existing", None)
    if replace_in_database is not None:
        replace_in_database()
    if old and old != getattr(index.store, "index_name", None):
        index.after_save.append(lambda: saved_pg.drop(old))


def replaces(directory: str | Path, embedder_name: str, store_name: str, chunking: ChunkingConfig,
             canonical: Callable[[str], str] | None = None) -> str:
    """Why building with these settings would replace the index at `directory` (what differs),
    or "" when it would add to it (or there is none). `canonical` turns a typed embedder name
    into the manifest's spelling; it is only asked when the two differ as typed."""
    if not rindex.exists(directory):
        return ""
    manifest = rindex.read_manifest(directory)
    differs = []
    if embedder_name != manifest.embedder and (canonical is None or canonical(embedder_name) != manifest.embedder):
        differs.append(f"embedder {manifest.embedder} → {embedder_name}")
    if store_name != manifest.store:
        differs.append(f"store {manifest.store} → {store_name}")
    if chunking != manifest.chunking:
        differs.append(f"chunking {chunking_slug(manifest.chunking)} → {chunking_slug(chunking)}")
    return ", ".join(differs)


def open_to_build(directory: str | Path, embedder_name: str | None = None, store_name: str | None = None,
                  chunking: ChunkingConfig | None = None, *, replace: bool = False, credentials=None,
                  headers: bool | None = None, **embedder_options) -> tuple[Index, bool]:
    """`index.open_for_ingest`, except that with `replace` an index whose chunking, embedder or
    store differs from the ones given is not an error: a fresh index replaces it at save (see
    `open_for_replace`). Settings left as None keep the saved index's. Returns the index and
    whether it is such a replacement."""
    if replace and rindex.exists(directory):
        manifest = rindex.read_manifest(directory)
        name = embedder_name or manifest.embedder
        options = dict(embedder_options) if is_hosted(name) else {}
        if dim_from_server(name) and name == manifest.embedder:  # the server says its dim; the manifest knows it
            options.setdefault("dim", manifest.dim)
        embedder = create_embedder(name, credentials=credentials, **options)
        had = bool(getattr(manifest, HEADERS, False))
        wanted = (embedder.name, store_name or manifest.store, chunking or manifest.chunking,
                  had if headers is None else bool(headers))
        if wanted != (manifest.embedder, manifest.store, manifest.chunking, had):
            return open_for_replace(directory, embedder, wanted[1], wanted[2], wanted[3]), True
    extra = {HEADERS: headers} if headers is not None else {}  # the option exists where indexes take it
    return rindex.open_for_ingest(directory, embedder_name, store_name, chunking, credentials=credentials,
                                  **extra, **embedder_options), False


@dataclass(frozen=True)
class Variant:
    """One chunking of the experiment and the index that holds it."""

    name: str
    chunking: ChunkingConfig
    #: the index embeds contextual headers (title and section) with each chunk
    headers: bool = False

    @property
    def slug(self) -> str:
        return Chunking(self.chunking, self.headers).slug


@dataclass(frozen=True)
class BuiltVariant:
    variant: Variant
    index: Index
    #: True: an index with these exact settings and sources was there already (nothing embedded)
    reused: bool
    result: IngestResult | None = None


def variants(base: str, chunkings: Sequence["ChunkingConfig | Chunking"]) -> tuple[Variant, ...]:
    return tuple(Variant(variant_name(base, c), c.config, c.headers) for c in check_chunkings(chunkings))


def _up_to_date(directory: Path, embedder: Embedder, store_name: str, variant: Variant,
                hashes: Mapping[str, str]) -> bool:
    if not rindex.exists(directory):
        return False
    m = rindex.read_manifest(directory)
    return (m.embedder, m.dim, m.store, m.chunking, bool(getattr(m, HEADERS, False)), dict(m.sources)) == (
        embedder.name, embedder.dim, store_name, variant.chunking, variant.headers, dict(hashes))


#: written beside an index's generations when an experiment built it (its provenance): which base,
#: which sources, the fingerprint of the documents it was given, and the fingerprint of the index
#: it saved (the manifest's): an index changed since (an ingest, a rebuild by hand) no longer matches
EXPERIMENT_MARK = "experiment.json"


def _mark(directory: Path, base: str, documents: Sequence[Document], saved: Index) -> None:
    sources = sorted({d.source for d in documents})
    provenance = {"built_by": "experiment", "base": base, "sources": sources,
                  "corpus": rindex.fingerprint(source_hashes(documents), ChunkingConfig()),
                  "index": saved.manifest.fingerprint}
    (directory / EXPERIMENT_MARK).write_text(json.dumps(provenance), encoding="utf-8")


def foreign_variant(directory: Path, base: str, documents: Sequence[Document]) -> str | None:
    """Why the index at `directory` is not this experiment's to rebuild, or None. An experiment
    rebuilds only a variant it built itself (its mark names the same base, and the index is still
    the one it saved: same manifest fingerprint) from the same sources (their text may have
    changed); anything else is someone's index, replaced only when asked."""
    if not rindex.exists(directory):
        return None
    try:
        mark = json.loads((directory / EXPERIMENT_MARK).read_text(encoding="utf-8")[:10_000_000])
    except (OSError, ValueError):
        mark = None
    manifest = rindex.read_manifest(directory)
    held = len(manifest.sources)
    if not isinstance(mark, dict):
        return f"index {directory.name} exists and was not built by an experiment (it holds {held} source(s))"
    if mark.get("index") != manifest.fingerprint:
        return (f"index {directory.name} was changed since an experiment built it (an ingest or a rebuild under "
                f"its name; it holds {held} source(s))")
    if mark.get("base") != base or mark.get("sources") != sorted({d.source for d in documents}):
        return (f"index {directory.name} was built by an experiment from other documents (it holds {held} "
                "source(s))")
    return None


#: the error kind the app catches to ask before replacing
REPLACE_REFUSED = "experiment_replace"


def refuse_foreign(directory: Path, name: str, base: str, documents: Sequence[Document]) -> None:
    why = foreign_variant(directory, base, documents)
    if why:
        raise ConfigError(f"{why}; nothing was changed. Choose another base name, or replace it "
                          "(CLI: --replace; app: confirm)", kind=REPLACE_REFUSED, index=name)


def build_variant(variant: Variant, documents: Sequence[Document], embedder: Embedder, store_name: str,
                  root: Path | None = None, progress: ProgressFn | None = None, *, base: str = "",
                  replace: bool = False) -> BuiltVariant:
    """The variant's index: reused when it already holds exactly these documents with these
    settings; rebuilt when this experiment built it from the same sources; any other index there
    is refused (a ConfigError of kind REPLACE_REFUSED) unless `replace`."""
    directory = (root or saved.root()) / variant.name
    if _up_to_date(directory, embedder, store_name, variant, source_hashes(documents)):
        return BuiltVariant(variant, Index.open(directory, embedder=embedder), reused=True)
    if not replace:
        refuse_foreign(directory, variant.name, base, documents)
    index = open_for_replace(directory, embedder, store_name, variant.chunking, variant.headers)
    result = index.ingest(list(documents), progress=progress)
    index.save()
    _mark(directory, base, documents, index)
    return BuiltVariant(variant, index, reused=False, result=result)


# ---- the grid ------------------------------------------------------------------------------


def varying_fields(settings: Sequence[RetrievalSettings]) -> list[str]:
    """The RetrievalSettings fields whose values differ across `settings`, in field order."""
    names = [f.name for f in dataclasses.fields(RetrievalSettings) if f.name not in _NOT_A_RETRIEVER]
    return [n for n in names if len({repr(getattr(s, n)) for s in settings}) > 1]


def _value(value: Any) -> str:
    if value is None:
        return "none"
    return f"{value:g}" if isinstance(value, float) else str(value)


def varying_label(settings: RetrievalSettings, fields: Sequence[str] | None = None) -> str:
    """The setting named by `fields` (default: the whole setting_label), e.g. `reranker rrf · top_k 5`."""
    if not fields:
        return setting_label(settings)
    return " · ".join(f"{name.replace('_', '-')} {_value(getattr(settings, name))}" for name in fields)


@dataclass(frozen=True)
class ExperimentResult:
    """Every (variant, setting) cell's EvalResult, variant-major in the order given."""

    variants: tuple[Variant, ...]
    settings: tuple[RetrievalSettings, ...]
    results: tuple[EvalResult, ...]
    question_set: str
    reused: tuple[str, ...] = ()

    def cell(self, variant: str, settings: RetrievalSettings) -> EvalResult:
        for r in self.results:
            if r.index == variant and r.settings == settings:
                return r
        raise KeyError((variant, settings))

    def variant_of(self, result: EvalResult) -> Variant:
        return next(v for v in self.variants if v.name == result.index)

    def best(self, metric: str = "mrr") -> EvalResult:
        return best(self.results, metric)

    def rows(self, metric: str = "mrr", differences: Sequence[Difference | None] | None = None) -> list[dict[str, Any]]:
        """One flat row per cell: the chunking's fields, the retriever's label, the metrics, and
        `vs_best`: the cell's difference in `metric` to the best cell by `metric` (95% CI, p;
        `differences` from evaluate.against_best when already computed)."""
        fields = varying_fields(self.settings)
        rows = []
        for r, vs in zip(self.results, vs_best_json(self.results, metric, differences=differences)):
            v = self.variant_of(r)
            c = v.chunking
            rows.append({"index": r.index, "chunking": v.slug, "strategy": c.strategy, "size": c.size,
                         "overlap": c.overlap, "headers": v.headers, "family": _family(c, v.headers),
                         "retriever": varying_label(r.settings, fields),
                         **{k: v for k, v in r.row().items() if k not in ("index", "setting", "retriever")},
                         "vs_best": vs})
        return rows


def _family(chunking: ChunkingConfig, headers: bool = False) -> str:
    """The chunking without its size and overlap (the overlap usually grows with the size): lines
    of a metric-vs-size chart join one family's points."""
    return "-".join([chunking.strategy, *(chunking_slug(chunking).split("-")[3:]), *([HEADERS] if headers else [])])


def run_experiment(
    base: str,
    documents: Sequence[Document],
    chunkings: Sequence["ChunkingConfig | Chunking"],
    settings: Sequence[RetrievalSettings],
    question_set: QuestionSet,
    embedder: Embedder,
    store_name: str = "faiss",
    *,
    root: Path | None = None,
    on_build: Callable[[int, int, Variant], ProgressFn | None] | None = None,
    on_eval: ProgressFn | None = None,
    credentials: object = None,
    replace: bool = False,
) -> ExperimentResult:
    """Build (or reuse) one index per chunking, then evaluate every setting on every one.
    `on_build(i, n, variant)` may return the ingest progress callback for variant i of n."""
    if not documents:
        raise ConfigError("the experiment has no documents: load some on Data, or use the demo corpus")
    grid = tuple(dict.fromkeys(settings))
    if not grid:
        raise ConfigError("choose at least one retriever setting to evaluate")
    planned = variants(base, chunkings)
    directory = root or saved.root()
    if not replace:  # refuse before building anything: no variant is half-replaced
        for variant in planned:
            if not _up_to_date(directory / variant.name, embedder, store_name, variant, source_hashes(documents)):
                refuse_foreign(directory / variant.name, variant.name, base, documents)
    built = []
    for i, variant in enumerate(planned):
        progress = on_build(i, len(planned), variant) if on_build else None
        built.append(build_variant(variant, documents, embedder, store_name, root, progress, base=base,
                                   replace=replace))
    results = compare_indexes({b.variant.name: b.index for b in built}, question_set, list(grid),
                              progress=on_eval, credentials=credentials)
    return ExperimentResult(planned, grid, tuple(results), question_set.name,
                            tuple(b.variant.name for b in built if b.reused))


__all__ = [
    "EXPERIMENT_MARK", "MAX_CHUNKINGS", "REPLACE_REFUSED", "BuiltVariant", "Chunking", "ExperimentResult", "Variant", "build_variant", "check_chunkings",
    "chunking_slug", "headers_supported", "open_for_replace", "open_to_build", "parse_chunking", "parse_variant", "replaces", "varying_label", "run_experiment",
    "variant_name", "variants", "varying_fields",
]
