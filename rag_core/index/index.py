"""An index on disk: a manifest plus a vector store, written so a crash never corrupts it.

Layout of an index directory:

    CURRENT            one line: the name of the live generation directory
    gen-<n>-<rand>/    manifest.json + the store's files + bm25/ (whole-index BM25)

A save writes a complete new generation, fsyncs it, then atomically replaces CURRENT.
`kill -9` at any moment leaves CURRENT pointing at the previous complete generation.
The flip happens under a file lock and only if CURRENT is still the generation the writer
opened, so two writers (the CLI and the app) never silently lose each other's work; the
previous generation is kept one save longer for readers that are loading it.

BM25 is rebuilt from every chunk's text (with the contextual header when the index has that
option) whenever the chunks change, written into the same staging directory as the vectors,
and loaded lazily on the first lexical query. An index saved before BM25 existed gets its BM25
built from the stored chunk texts on first use (`Index.notes` says so); nothing fails.
"""

from __future__ import annotations

import dataclasses
import fcntl
import hashlib
import json
import os
import re
import shutil
import threading
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterable, Iterator, Sequence

import numpy as np

from rag_core import __version__
from rag_core.ingest.chunking import chunk_documents
from rag_core.core.errors import IndexMismatchError, ProviderError, StoreError, index_values
from rag_core.core.types import ChunkingConfig, Document, Embedder, IndexManifest, VectorStore, sha256_text
from rag_core.core.files import read_bounded
from rag_core.embeddings import DEFAULT_EMBEDDER, create_embedder
from rag_core.stores import create_store
from rag_core.core.catalog import dim_from_server
from rag_core.providers import is_hosted
from rag_core.index.bm25 import BM25Index, unique_ids
from rag_core.index.bm25 import BM25Params
from rag_core.index.neighbours import reading_order
from rag_core.index.headers import indexed_text
from rag_core.core.files import write_error, write_file

ProgressFn = Callable[[int, int, str], None]
MANIFEST = "manifest.json"
CURRENT = "CURRENT"
LOCK = ".lock"
BM25_DIR = "bm25"
STAGING = ".tmp-"
MANIFEST_MAX_BYTES = 256 * 1024 * 1024  # ~1M sources; the rest of a manifest is a few hundred bytes
#: ingest adds to the store once this many chunks, or as many as it holds, are embedded
_MIN_FLUSH = 1024
_GENERATION = re.compile(r"gen-[0-9]{1,20}-[0-9a-f]{1,32}")


@dataclass(frozen=True)
class IngestResult:
    added: tuple[str, ...]
    replaced: tuple[str, ...]
    unchanged: tuple[str, ...]
    n_chunks: int
    embedding_tokens: int
    seconds: float


def source_hashes(documents: Iterable[Document]) -> dict[str, str]:
    """One hash per source over its sections in order: a changed file gets a new hash."""
    parts: dict[str, list[str]] = {}
    for doc in documents:
        parts.setdefault(doc.source, []).append(f"{doc.ordinal}\x1f{doc.section}\x1f{doc.text}")
    return {source: sha256_text("\x1e".join(sections)) for source, sections in parts.items()}


def fingerprint(sources: dict[str, str], chunking: ChunkingConfig) -> str:
    payload = json.dumps([sorted(sources.items()), dataclasses.asdict(chunking)], sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def manifest_to_json(manifest: IndexManifest) -> str:
    return json.dumps(dataclasses.asdict(manifest), indent=2, sort_keys=True)


def manifest_from_json(text: str | bytes) -> IndexManifest:
    """A manifest, every field checked for its type: a tampered one is a ValueError here."""
    try:
        raw = json.loads(text)
    except RecursionError:
        raise ValueError("nested too deeply") from None
    if not isinstance(raw, dict) or not _fields_ok(raw, IndexManifest):
        raise ValueError("not a manifest object with the expected fields")
    chunking = raw["chunking"]
    if not isinstance(chunking, dict) or not _fields_ok(chunking, ChunkingConfig):
        raise ValueError("chunking is not an object with the expected fields")
    for name, kind in (*_MANIFEST_TYPES.items(), *_CHUNKING_TYPES.items()):
        value = raw[name] if name in _MANIFEST_TYPES else chunking[name]
        if not isinstance(value, kind) or isinstance(value, bool):
            raise ValueError(f"{name} is {type(value).__name__}, not {kind.__name__}")
    sources = raw["sources"]
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in sources.items()):
        raise ValueError("sources must map text to text")
    if not isinstance(raw.get("headers", False), bool) or not isinstance(raw.get("bm25", {}), dict):
        raise ValueError("headers must be true/false and bm25 an object")
    if not (0 < raw["dim"] <= 65536 and raw["n_chunks"] >= 0
            and chunking["size"] > 0 and chunking["overlap"] >= 0):
        raise ValueError("dim, n_chunks or chunking out of range")
    return IndexManifest(**{**raw, "chunking": ChunkingConfig(**chunking)})


_MANIFEST_TYPES = {"embedder": str, "dim": int, "metric": str, "store": str, "fingerprint": str,
                   "n_chunks": int, "version": str, "created_at": str, "updated_at": str, "sources": dict}
_CHUNKING_TYPES = {"strategy": str, "size": int, "overlap": int, "encoding": str}


def _fields_ok(raw: dict, cls) -> bool:
    """Every field without a default present, and no key the dataclass does not know."""
    fields = dataclasses.fields(cls)
    required = {f.name for f in fields
                if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING}
    return required <= set(raw) <= {f.name for f in fields}


def _fsync_tree(path: Path) -> None:
    """Every file and directory under `path` (the BM25 sits in a subdirectory)."""
    for child in path.iterdir():
        if child.is_dir() and not child.is_symlink():
            _fsync_tree(child)
        elif child.is_file():
            with open(child, "rb") as handle:
                os.fsync(handle.fileno())
    _fsync_dir(path)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def live_generation(directory: str | Path) -> Path:
    directory = Path(directory)
    name = _current_name(directory)
    if name is None:
        raise StoreError(f"no index at {directory}: build one first", kind="no_index", **index_values(directory))
    generation = directory / name
    if generation.is_symlink() or not generation.is_dir():
        raise StoreError(f"index at {directory} is damaged: {name} is not a generation directory; rebuild it",
                         kind="index_damaged", **index_values(directory))
    if not (generation / MANIFEST).exists():
        raise StoreError(f"index at {directory} is damaged: {generation.name} has no manifest; rebuild it",
                         kind="index_damaged", **index_values(directory))
    return generation


def exists(directory: str | Path) -> bool:
    return os.path.lexists(Path(directory) / CURRENT)


def read_manifest(directory: str | Path) -> IndexManifest:
    return _manifest_in(live_generation(directory), directory)


def _manifest_in(generation: Path, directory: str | Path) -> IndexManifest:
    data = read_bounded(generation / MANIFEST, MANIFEST_MAX_BYTES)
    try:
        return manifest_from_json(data)
    except (ValueError, TypeError, KeyError) as exc:
        raise StoreError(f"index manifest in {directory} is unreadable ({exc}); rebuild the index",
                         kind="index_damaged", **index_values(directory)) from exc


@contextmanager
def _write_lock(directory: Path) -> Iterator[None]:
    """An exclusive lock across processes (a CLI ingest and the app) for the pointer flip."""
    with open(directory / LOCK, "a+") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def _current_name(directory: Path) -> str | None:
    """The live generation's name from CURRENT, or None when there is no index; a CURRENT that
    is not one short `gen-...` line (binary, a path, a symlink) is a damaged index."""

    if not os.path.lexists(directory / CURRENT):
        return None
    data = read_bounded(directory / CURRENT, 256)
    try:
        name = data.decode("ascii").strip()
    except UnicodeDecodeError:
        name = ""
    if not _GENERATION.fullmatch(name):
        raise StoreError(f"index at {directory} is damaged: its CURRENT file does not name a generation; "
                         "rebuild the index", kind="index_damaged", **index_values(directory))
    return name


def _check_vectors(embedder: Embedder, chunks: Sequence, vectors: np.ndarray) -> None:
    """An embedder's NaN or infinite vectors would be saved and match nothing ever after."""
    if vectors.ndim != 2 or np.isfinite(vectors).all():
        return  # a wrong shape is the store's error to report
    bad = np.flatnonzero(~np.isfinite(vectors).all(axis=1))
    first = chunks[int(bad[0])] if int(bad[0]) < len(chunks) else chunks[0]
    raise ProviderError(
        f"{embedder.name} returned {len(bad)} vector(s) with NaN or infinite values (e.g. for a chunk of "
        f"{first.source}); nothing was saved: check the embedding model or server"
    )


def check_embedder(manifest: IndexManifest, embedder: Embedder, directory: str | Path = "") -> None:
    if embedder.name != manifest.embedder or embedder.dim != manifest.dim:
        raise IndexMismatchError(
            f"index {directory} was built with {manifest.embedder} ({manifest.dim} dims), "
            f"not {embedder.name} ({embedder.dim} dims): query it with {manifest.embedder}, "
            "or build a new index with this embedder",
            kind="index_embedder", built_with=manifest.embedder, dim=manifest.dim, given=embedder.name,
            given_dim=embedder.dim, **index_values(directory)
        )


class Index:
    """A vector store, its manifest and the embedder it was built with."""

    def __init__(self, directory: str | Path, manifest: IndexManifest, store: VectorStore, embedder: Embedder,
                 base_generation: str | None = None):
        self.directory = Path(directory)
        self.manifest = manifest
        self.store = store
        self.embedder = embedder
        #: the generation this object was loaded from (None: a new index); save() refuses to
        #: overwrite a generation some other writer saved in the meantime
        self.base_generation = base_generation
        #: things worth telling the person (e.g. "BM25 was built from the stored chunk texts")
        self.notes: list[str] = []
        self._bm25 = None  # BM25Index, loaded or built on first use
        self._lookups: dict[str, object] = {}  # row of a chunk id, sources per row, reading order
        self._changed = False  # chunks added or deleted since opening: the saved BM25 is stale
        #: one opened Index serves every session of a server (ui/cache.py): the lazy BM25 and
        #: lookups are built once under this lock, never twice at once or torn by a reset
        self._lazy_lock = threading.RLock()
        #: run once a save has flipped CURRENT (e.g. drop the database index a file index replaced)
        self.after_save: list[Callable[[], None]] = []

    # ---- BM25 and chunk lookups (built lazily, dropped whenever the chunks change) ---------

    @property
    def bm25(self):
        """The whole-index BM25 (rag_core.index.bm25.BM25Index) over the store's chunks."""
        with self._lazy_lock:
            if self._bm25 is None:
                self._bm25 = self._load_bm25() or self._build_bm25()
            return self._bm25

    def _load_bm25(self):
        """The BM25 saved with this generation, if it is there and matches the store's chunks."""

        if self._changed:
            return None
        if self.base_generation is not None and not (self.directory / self.base_generation).is_dir():
            # replaced on disk (two saves) while a session was still reading this one: its
            # chunks are in memory, so BM25 is built from them and the answer stays consistent
            self.notes.append("this index was replaced on disk after it was opened: built its BM25 from "
                              "the chunks in memory (reopen it to read the new one)")
            return None
        if self.base_generation is None or not (self.directory / self.base_generation / BM25_DIR).is_dir():
            if self.base_generation is not None and self.manifest.n_chunks:
                self.notes.append("this index was saved without BM25: built it from the stored chunk texts "
                                  "(save the index again to keep it)")
            return None
        try:
            loaded = BM25Index.load(self.directory / self.base_generation / BM25_DIR)
        except StoreError as exc:
            self.notes.append(f"{exc}: rebuilt it from the stored chunk texts")
            return None
        if list(loaded.ids) != unique_ids(self.store.chunks()):
            self.notes.append("the saved BM25 did not match the stored chunks: rebuilt it")
            return None
        return loaded

    def _build_bm25(self):
        params = BM25Params(**{k: v for k, v in self.manifest.bm25.items() if k in ("k1", "b", "method")})
        return BM25Index.from_chunks(self.store.chunks(), headers=self.manifest.headers, params=params)

    def lookup(self, name: str):
        """Cached per-chunk tables: "chunks" (the store's chunks, row order), "rows" (chunk id, as BM25 names it, -> row), "sources" (array of each row's
        source), "reading" (chunks in reading order, for neighbours)."""
        with self._lazy_lock:
            return self._lookup(name)

    def _lookup(self, name: str):
        if name not in self._lookups:
            chunks = self.store.chunks()
            build = {"chunks": lambda: chunks,
                     "rows": lambda: {cid: i for i, cid in enumerate(unique_ids(chunks))},
                     "sources": lambda: np.array([c.source for c in chunks], dtype=object),
                     "reading": lambda: reading_order(chunks)}
            self._lookups[name] = build[name]()
        return self._lookups[name]

    def _current_bm25(self):
        """The BM25, rebuilt if the store's chunks changed behind the index's back (store.add)."""

        with self._lazy_lock:
            if list(self.bm25.ids) != unique_ids(self.store.chunks()):
                self._chunks_changed()
            return self.bm25

    def _chunks_changed(self) -> None:
        with self._lazy_lock:
            self._changed = True
            self._bm25 = None
            self._lookups = {}

    # ---- opening ---------------------------------------------------------------------

    @classmethod
    def create(
        cls,
        directory: str | Path,
        embedder: Embedder,
        store_name: str = "faiss",
        chunking: ChunkingConfig = ChunkingConfig(),
        headers: bool = False,
        credentials=None,
    ) -> "Index":
        """A new, empty index; `headers`: embed and BM25-index each chunk with its contextual
        header (title and section path), see rag_core/index/headers.py. `credentials`: where a
        database store (pgvector) finds its server."""

        store = _new_store(store_name, embedder.dim, directory, credentials)
        now = _now()
        manifest = IndexManifest(
            embedder=embedder.name,
            dim=embedder.dim,
            metric=store.metric,
            store=store_name,
            chunking=chunking,
            fingerprint=fingerprint({}, chunking),
            n_chunks=0,
            version=__version__,
            created_at=now,
            updated_at=now,
            sources={},
            headers=bool(headers),
            bm25=dataclasses.asdict(BM25Params()),
        )
        return cls(directory, manifest, store, embedder)

    @classmethod
    def open(cls, directory: str | Path, embedder: Embedder | None = None, credentials=None,
             **embedder_options) -> "Index":
        """Open a saved index; with no embedder, create the one named in the manifest (a hosted
        one with `credentials` and e.g. `base_url=`; a compatible one is told the manifest's dim)."""

        generation = live_generation(directory)  # resolved once: manifest and store from the same save
        manifest = _manifest_in(generation, directory)
        if embedder is None:
            embedder_options = _hosted_options(manifest.embedder, embedder_options)
            if dim_from_server(manifest.embedder):
                embedder_options.setdefault("dim", manifest.dim)
            embedder = create_embedder(manifest.embedder, credentials=credentials, **embedder_options)
        check_embedder(manifest, embedder, directory)
        store = _new_store(manifest.store, manifest.dim, directory, credentials)
        try:
            store.load(str(generation))
        except StoreError as exc:  # a store file's own error: it carries the index's path and name too
            if not exc.kind:
                exc.kind, exc.values = "index_file", {**index_values(directory), **exc.values}
            raise
        except (OSError, ValueError, RuntimeError, RecursionError) as exc:
            raise StoreError(f"could not read the index at {directory} ({exc}); rebuild it",
                             kind="index_damaged", **index_values(directory)) from exc
        if text := store.stored_manifest():  # a database store: its copy is the current one
            manifest = manifest_from_json(text)
            check_embedder(manifest, embedder, directory)
        if store.count() != manifest.n_chunks:
            raise StoreError(f"index at {directory} is damaged: its manifest counts {manifest.n_chunks} "
                             f"chunks, its store holds {store.count()}; rebuild it",
                             kind="index_damaged", **index_values(directory))
        return cls(directory, manifest, store, embedder, base_generation=generation.name)

    # ---- writing ---------------------------------------------------------------------

    def pending_chunks(self, documents: Sequence[Document]) -> list:
        """The chunks an ingest of `documents` would embed (new or changed sources): what a
        hosted embedder's cost estimate must be computed on, before spending."""
        hashes = source_hashes(documents)
        known = self.manifest.sources
        todo = {s for s, h in hashes.items() if known.get(s) != h}
        return chunk_documents([d for d in documents if d.source in todo], self.manifest.chunking)

    def ingest(self, documents: Sequence[Document], progress: ProgressFn | None = None) -> IngestResult:
        """Add documents; a source seen before is skipped if unchanged, replaced if changed."""
        started = time.perf_counter()
        hashes = source_hashes(documents)
        known = dict(self.manifest.sources)
        unchanged = tuple(s for s, h in hashes.items() if known.get(s) == h)
        replaced = tuple(s for s, h in hashes.items() if s in known and known[s] != h)
        added = tuple(s for s in hashes if s not in known)
        todo = set(replaced) | set(added)
        chunks = chunk_documents([d for d in documents if d.source in todo], self.manifest.chunking)
        if replaced:
            self.store.delete(replaced)  # one pass: an HNSW graph is rebuilt once, not per source
        tokens = 0
        total = len(chunks)
        if progress:
            progress(0, total, "")
        batch = 64
        pending: list[tuple[list, np.ndarray]] = []
        waiting = 0

        headers = self.manifest.headers
        for begin in range(0, total, batch):
            part = chunks[begin : begin + batch]
            texts = [indexed_text(c, headers) for c in part]
            vectors = np.asarray(self.embedder.embed_documents(texts), dtype=np.float32)
            _check_vectors(self.embedder, part, vectors)
            pending.append((part, vectors))
            waiting += len(part)
            if waiting >= max(_MIN_FLUSH, self.store.count()) or begin + batch >= total:
                self._flush(pending)
                waiting = 0
            if progress:
                progress(min(begin + batch, total), total, part[-1].source)
        if chunks and hasattr(self.embedder, "count_tokens"):
            tokens = self.embedder.count_tokens([indexed_text(c, headers) for c in chunks])
        if chunks or replaced:
            self._chunks_changed()
        known.update({s: hashes[s] for s in todo})
        self.manifest = dataclasses.replace(
            self.manifest,
            sources=known,
            n_chunks=self.store.count(),
            fingerprint=fingerprint(known, self.manifest.chunking),
            updated_at=_now(),
        )
        return IngestResult(added, replaced, unchanged, len(chunks), tokens, time.perf_counter() - started)

    def _flush(self, pending: list[tuple[list, np.ndarray]]) -> None:
        """Add the embedded batches to the store in one call. A store may copy its matrix on every
        add, so adds grow geometrically (see ingest): 50k tiny files spent 10 s in copies."""
        if pending:
            self.store.add([c for part, _ in pending for c in part], np.concatenate([v for _, v in pending]))
            pending.clear()

    def delete_source(self, source: str) -> int:
        removed = self.store.delete(source)
        if removed:
            self._chunks_changed()
        known = {s: h for s, h in self.manifest.sources.items() if s != source}
        self.manifest = dataclasses.replace(
            self.manifest, sources=known, n_chunks=self.store.count(),
            fingerprint=fingerprint(known, self.manifest.chunking), updated_at=_now(),
        )
        return removed

    def save(self) -> Path:
        """Write a new generation, then flip CURRENT atomically under a lock.

        If another writer saved since this index was opened, nothing is overwritten: its work
        would be lost silently otherwise. The previous generation is kept for readers that are
        loading it right now; older ones are removed. Whatever fails (a full disk included),
        the staging directory is removed and CURRENT still names a complete generation."""

        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            staging, held = _new_staging(self.directory)
        except OSError as exc:
            raise write_error(exc, self.directory) from exc
        try:
            self.manifest = dataclasses.replace(self.manifest, n_chunks=self.store.count())
            self.store.attach_manifest(manifest_to_json(self.manifest))  # a database store commits it with its rows
            self.store.save(str(staging))
            # the manifest's count is what the store holds, however chunks got there
            self.manifest = dataclasses.replace(self.manifest, n_chunks=self.store.count())
            self._current_bm25().save(staging / BM25_DIR)
            manifest = manifest_to_json(self.manifest).encode()
            write_file(staging / MANIFEST, lambda handle: handle.write(manifest))
            _fsync_tree(staging)
            saved = self._flip(staging)
            while self.after_save:
                self.after_save.pop(0)()
            return saved
        except OSError as exc:
            raise write_error(exc, self.directory) from exc
        finally:
            os.close(held)
            if staging.exists():
                shutil.rmtree(staging, ignore_errors=True)

    def _flip(self, staging: Path) -> Path:
        """Under the lock: rename the staging directory to a generation and point CURRENT at it.
        Stale generations go under the same lock, so a generation renamed by another writer
        but not flipped yet is never among them."""
        with _write_lock(self.directory):
            previous = _current_name(self.directory)
            if previous != self.base_generation:
                raise StoreError(
                    f"the index at {self.directory} was saved by another writer while this one was "
                    "adding to it; nothing was overwritten: run the ingest again",
                    kind="index_busy", **index_values(self.directory)
                )
            final = self.directory / f"gen-{time.time_ns()}-{uuid.uuid4().hex[:6]}"
            os.rename(staging, final)
            pointer_tmp = self.directory / f".{CURRENT}.{uuid.uuid4().hex[:8]}"
            try:
                with open(pointer_tmp, "w") as handle:
                    handle.write(final.name + "\n")
                    handle.flush()
                    os.fsync(handle.fileno())
                os.replace(pointer_tmp, self.directory / CURRENT)
            except BaseException:
                pointer_tmp.unlink(missing_ok=True)
                shutil.rmtree(final, ignore_errors=True)
                raise
            _fsync_dir(self.directory)
            self.base_generation = final.name
            _remove_stale(self.directory, keep={final.name, previous or ""})
        return final


def _new_staging(directory: Path) -> tuple[Path, int]:
    """A staging directory held by this writer: a flock on it lives exactly as long as the
    writer's process (the kernel drops it at kill -9), which is how a later writer tells a
    dead writer's leftovers from a live one's work. Created under the index lock, so no
    cleaner ever sees it unheld."""
    with _write_lock(directory):
        _remove_dead_staging(directory)
        staging = directory / f"{STAGING}{uuid.uuid4().hex[:8]}"
        staging.mkdir()
        held = os.open(staging, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            pass  # a file system without flock on directories: _held falls back to the age
    return staging, held


def _remove_dead_staging(directory: Path) -> None:
    """Called under the index lock: leftovers of writers that died mid-save (their staging
    flock is free) and pointer files (only ever written under this lock) are removed."""
    for child in directory.iterdir():
        if child.name.startswith(f".{CURRENT}."):
            child.unlink(missing_ok=True)
        elif child.name.startswith(STAGING) and not _held(child):
            if child.is_dir() and not child.is_symlink():
                shutil.rmtree(child, ignore_errors=True)
            else:
                child.unlink(missing_ok=True)


def _held(staging: Path) -> bool:
    """True while some live writer holds `staging` (this process's own included)."""
    try:
        fd = os.open(staging, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    except OSError:  # no flock here: only a leftover older than an hour counts as dead
        return staging.stat().st_mtime > time.time() - 3600
    finally:
        os.close(fd)
    return False


def _remove_stale(directory: Path, keep: set[str]) -> None:
    """Generations other than the live one and the one before (kept for readers loading it)."""
    for child in directory.iterdir():
        stale = child.name.startswith("gen-") and child.name not in keep
        if stale and child.is_dir() and not child.is_symlink():
            shutil.rmtree(child, ignore_errors=True)


def open_for_ingest(
    directory: str | Path,
    embedder_name: str | None = None,
    store_name: str | None = None,
    chunking: ChunkingConfig | None = None,
    credentials=None,
    headers: bool | None = None,
    **embedder_options,
) -> Index:
    """Open an existing index to add to it, or create a new one.

    Settings left as None take the existing index's values (or the defaults for a new one);
    settings that contradict an existing index are an error, never a silently mixed index.
    """

    if exists(directory):
        manifest = read_manifest(directory)
        clashes = []
        if embedder_name and _embedder_name(embedder_name, credentials, embedder_options) != manifest.embedder:
            clashes.append(f"embedder {manifest.embedder}")
        if store_name and store_name != manifest.store:
            clashes.append(f"store {manifest.store}")
        if chunking and chunking != manifest.chunking:
            c = manifest.chunking
            clashes.append(f"chunking {c.strategy} size {c.size} overlap {c.overlap}")
        if headers is not None and headers != manifest.headers:
            clashes.append(f"contextual headers {'on' if manifest.headers else 'off'}")
        if clashes:
            raise IndexMismatchError(
                f"index {directory} was built with {', '.join(clashes)}; use the same settings "
                "to add to it, or build a new index elsewhere",
                kind="index_settings", built_with=", ".join(clashes), **index_values(directory)
            )
        return Index.open(directory, credentials=credentials, **embedder_options)
    name = embedder_name or DEFAULT_EMBEDDER
    embedder = create_embedder(name, credentials=credentials, **_hosted_options(name, embedder_options))
    return Index.create(directory, embedder, store_name or "faiss", chunking or ChunkingConfig(), bool(headers),
                        credentials=credentials)


def _new_store(store_name: str, dim: int, directory: str | Path, credentials) -> VectorStore:
    """A database store (pgvector) needs the index's name (the directory's) and may find its server
    through the credentials; file stores are given neither."""

    return create_store(store_name, dim, index_name=Path(directory).resolve().name, credentials=credentials)


def _embedder_name(name: str, credentials, options: dict) -> str:
    """The canonical name `name` resolves to, without loading a model or calling a server
    (a compatible embedder's name does not depend on its dimension)."""

    options = _hosted_options(name, options)
    if dim_from_server(name):
        options.setdefault("dim", 1)
    return create_embedder(name, cached=False, credentials=credentials, **options).name


def _hosted_options(name: str, options: dict) -> dict:
    """Hosted-embedder options (base_url, on_warning, policy...) apply to hosted names only."""

    return dict(options) if is_hosted(name) else {}
