"""An index on disk: a manifest plus a vector store, written so a crash never corrupts it.

Layout of an index directory:

    CURRENT            one line: the name of the live generation directory
    gen-<n>-<rand>/    manifest.json + the store's files

A save writes a complete new generation, fsyncs it, then atomically replaces CURRENT.
`kill -9` at any moment leaves CURRENT pointing at the previous complete generation.
The flip happens under a file lock and only if CURRENT is still the generation the writer
opened, so two writers (the CLI and the app) never silently lose each other's work; the
previous generation is kept one save longer for readers that are loading it.
"""

from __future__ import annotations

import dataclasses
import fcntl
import hashlib
import json
import os
import shutil
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterable, Iterator, Sequence

import numpy as np

from . import __version__
from .chunking import chunk_documents
from .errors import IndexMismatchError, StoreError
from .types import ChunkingConfig, Document, Embedder, IndexManifest, VectorStore, sha256_text

ProgressFn = Callable[[int, int, str], None]
MANIFEST = "manifest.json"
CURRENT = "CURRENT"
LOCK = ".lock"


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


def manifest_from_json(text: str) -> IndexManifest:
    raw = json.loads(text)
    raw["chunking"] = ChunkingConfig(**raw["chunking"])
    return IndexManifest(**raw)


def _fsync_tree(path: Path) -> None:
    for child in path.iterdir():
        if child.is_file():
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
    pointer = directory / CURRENT
    if not pointer.exists():
        raise StoreError(f"no index at {directory}: build one first (python -m rag_core ingest ... --index {directory})")
    generation = directory / pointer.read_text().strip()
    if not (generation / MANIFEST).exists():
        raise StoreError(f"index at {directory} is damaged: {generation.name} has no manifest; rebuild it")
    return generation


def exists(directory: str | Path) -> bool:
    return (Path(directory) / CURRENT).exists()


def read_manifest(directory: str | Path) -> IndexManifest:
    return _manifest_in(live_generation(directory), directory)


def _manifest_in(generation: Path, directory: str | Path) -> IndexManifest:
    try:
        return manifest_from_json((generation / MANIFEST).read_text())
    except (ValueError, TypeError, KeyError) as exc:
        raise StoreError(f"index manifest in {directory} is unreadable ({exc}); rebuild the index") from exc


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
    pointer = directory / CURRENT
    return pointer.read_text().strip() if pointer.exists() else None


def check_embedder(manifest: IndexManifest, embedder: Embedder, directory: str | Path = "") -> None:
    if embedder.name != manifest.embedder or embedder.dim != manifest.dim:
        raise IndexMismatchError(
            f"index {directory} was built with {manifest.embedder} ({manifest.dim} dims), "
            f"not {embedder.name} ({embedder.dim} dims): query it with {manifest.embedder}, "
            "or build a new index with this embedder"
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

    # ---- opening ---------------------------------------------------------------------

    @classmethod
    def create(
        cls,
        directory: str | Path,
        embedder: Embedder,
        store_name: str = "faiss",
        chunking: ChunkingConfig = ChunkingConfig(),
        credentials=None,
    ) -> "Index":
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
        )
        return cls(directory, manifest, store, embedder)

    @classmethod
    def open(cls, directory: str | Path, embedder: Embedder | None = None, credentials=None,
             **embedder_options) -> "Index":
        """Open a saved index; with no embedder, create the one named in the manifest (a hosted
        one with `credentials` and e.g. `base_url=`; a compatible one is told the manifest's dim)."""
        from .embeddings import create_embedder

        generation = live_generation(directory)  # resolved once: manifest and store from the same save
        manifest = _manifest_in(generation, directory)
        if embedder is None:
            embedder_options = _hosted_options(manifest.embedder, embedder_options)
            if manifest.embedder.startswith("compatible:"):
                embedder_options.setdefault("dim", manifest.dim)
            embedder = create_embedder(manifest.embedder, credentials=credentials, **embedder_options)
        check_embedder(manifest, embedder, directory)
        store = _new_store(manifest.store, manifest.dim, directory, credentials)
        try:
            store.load(str(generation))
        except (OSError, ValueError, RuntimeError) as exc:
            raise StoreError(f"could not read the index at {directory} ({exc}); rebuild it") from exc
        stored = getattr(store, "stored_manifest", None)  # a database store: its copy is the current one
        if stored is not None and (text := stored()):
            manifest = manifest_from_json(text)
            check_embedder(manifest, embedder, directory)
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
        for begin in range(0, total, batch):
            part = chunks[begin : begin + batch]
            vectors = self.embedder.embed_documents([c.text for c in part])
            self.store.add(part, np.asarray(vectors, dtype=np.float32))
            if progress:
                progress(min(begin + batch, total), total, part[-1].source)
        if chunks and hasattr(self.embedder, "count_tokens"):
            tokens = self.embedder.count_tokens([c.text for c in chunks])
        known.update({s: hashes[s] for s in todo})
        self.manifest = dataclasses.replace(
            self.manifest,
            sources=known,
            n_chunks=self.store.count(),
            fingerprint=fingerprint(known, self.manifest.chunking),
            updated_at=_now(),
        )
        return IngestResult(added, replaced, unchanged, len(chunks), tokens, time.perf_counter() - started)

    def delete_source(self, source: str) -> int:
        removed = self.store.delete(source)
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
        loading it right now; older ones are removed."""
        self.directory.mkdir(parents=True, exist_ok=True)
        staging = self.directory / f".tmp-{uuid.uuid4().hex[:8]}"
        staging.mkdir()
        try:
            if hasattr(self.store, "attach_manifest"):  # a database store commits it with its rows
                self.store.attach_manifest(manifest_to_json(self.manifest))
            self.store.save(str(staging))
            (staging / MANIFEST).write_text(manifest_to_json(self.manifest))
            _fsync_tree(staging)
            final = self.directory / f"gen-{time.time_ns()}-{uuid.uuid4().hex[:6]}"
            os.rename(staging, final)
            with _write_lock(self.directory):
                previous = _current_name(self.directory)
                if previous != self.base_generation:
                    shutil.rmtree(final, ignore_errors=True)
                    raise StoreError(
                        f"the index at {self.directory} was saved by another writer while this one was "
                        "adding to it; nothing was overwritten: run the ingest again"
                    )
                pointer_tmp = self.directory / f".{CURRENT}.{uuid.uuid4().hex[:8]}"
                with open(pointer_tmp, "w") as handle:
                    handle.write(final.name + "\n")
                    handle.flush()
                    os.fsync(handle.fileno())
                os.replace(pointer_tmp, self.directory / CURRENT)
                _fsync_dir(self.directory)
                self.base_generation = final.name
        except OSError as exc:
            shutil.rmtree(staging, ignore_errors=True)
            raise StoreError(f"could not write the index to {self.directory}: {exc}") from exc
        self._remove_stale(keep={final.name, previous or ""})
        return final

    def _remove_stale(self, keep: set[str]) -> None:
        """Old generations, and leftovers of writers killed mid-save (older than an hour, so a
        concurrent writer's staging directory is never touched)."""
        hour_ago = time.time() - 3600
        for child in self.directory.iterdir():
            if child.name.startswith("gen-") and child.is_dir() and child.name not in keep:
                shutil.rmtree(child, ignore_errors=True)
            elif child.name.startswith((".tmp-", f".{CURRENT}.")) and child.stat().st_mtime < hour_ago:
                if child.is_dir():
                    shutil.rmtree(child, ignore_errors=True)
                else:
                    child.unlink(missing_ok=True)


def open_for_ingest(
    directory: str | Path,
    embedder_name: str | None = None,
    store_name: str | None = None,
    chunking: ChunkingConfig | None = None,
    credentials=None,
    **embedder_options,
) -> Index:
    """Open an existing index to add to it, or create a new one.

    Settings left as None take the existing index's values (or the defaults for a new one);
    settings that contradict an existing index are an error, never a silently mixed index.
    """
    from .embeddings import DEFAULT_EMBEDDER, create_embedder

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
        if clashes:
            raise IndexMismatchError(
                f"index {directory} was built with {', '.join(clashes)}; use the same settings "
                "to add to it, or choose a new --index directory"
            )
        return Index.open(directory, credentials=credentials, **embedder_options)
    name = embedder_name or DEFAULT_EMBEDDER
    embedder = create_embedder(name, credentials=credentials, **_hosted_options(name, embedder_options))
    return Index.create(directory, embedder, store_name or "faiss", chunking or ChunkingConfig(), credentials)


def _new_store(store_name: str, dim: int, directory: str | Path, credentials) -> VectorStore:
    """A database store (pgvector) needs the index's name (the directory's) and may find its server
    through the credentials; file stores are given neither."""
    from .stores import create_store

    return create_store(store_name, dim, index_name=Path(directory).resolve().name, credentials=credentials)


def _embedder_name(name: str, credentials, options: dict) -> str:
    """The canonical name `name` resolves to, without loading a model or calling a server
    (a compatible embedder's name does not depend on its dimension)."""
    from .embeddings import create_embedder

    options = _hosted_options(name, options)
    if name.startswith("compatible:"):
        options.setdefault("dim", 1)
    return create_embedder(name, cached=False, credentials=credentials, **options).name


def _hosted_options(name: str, options: dict) -> dict:
    """Hosted-embedder options (base_url, on_warning, policy...) apply to hosted names only."""
    from .providers import is_hosted

    return dict(options) if is_hosted(name) else {}
