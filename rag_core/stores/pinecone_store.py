"""The Pinecone store: chunks and vectors in one namespace of a Pinecone index, via the official SDK.

How to read it:
- `PineconeSettings` (frozen, key masked in its repr) is built at an entry point from the operator's
  environment or secrets.toml (`settings_from(mapping)`) and handed down with `configure()` or the
  `pinecone=` option; this module never reads os.environ. A key typed in the browser is used only
  with a host that passes the crawler's address guard (`guard_typed_host`).
- The index host comes from describe_index (control plane) unless given directly. One playground
  index = one namespace. Records are `c<seq>` (zero-padded, so Pinecone's id order is insertion
  order); text, source, section and offsets are metadata (a chunk over 40 KB of metadata is refused
  with its source named, never truncated). Upserts go in batches of <= 1,000 records and < 2 MB;
  the SDK retries 429/5xx (bounded), and every request carries a deadline (`timeout_s`).
- A manifest record per playground index lives in the `__rag_manifests__` namespace, so a second
  app instance sees the index and the Index refuses a mismatched embedder; queries never see it.
- BM25, hybrid, MMR and neighbours work from `chunks()` / `vectors_at()` (list + fetch), like pgvector.
- Read/write units are counted on the store (`units`) for the cost record (costs.prices PINECONE_UNITS).
The `pinecone` SDK is imported lazily: only a Pinecone user needs it.
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Mapping, Sequence
from urllib.parse import urlsplit

import numpy as np

from rag_core.core.safety import AddressPolicy, AddressRefused, resolve_checked
from rag_core.core.errors import ConfigError, IndexMismatchError, StoreError
from rag_core.core.settings import OperatorSettings, current
from rag_core.core.types import Chunk, Hit
from rag_core.stores.numpy_store import as_matrix, check_finite, check_lengths

POINTER_FILE = "pinecone.json"
MANIFEST_NAMESPACE = "__rag_manifests__"
#: Pinecone's documented limits
METADATA_MAX_BYTES = 40 * 1024
BATCH_MAX_RECORDS = 1000
BATCH_MAX_BYTES = 2 * 1024 * 1024 - 64 * 1024  # leave room for the request envelope
#: Pinecone's ceiling on top_k when metadata is returned
QUERY_MAX_TOP_K = 1000
FETCH_BATCH = 100  # ids per fetch: they travel in the query string
LIST_PAGE = 100
_NAMESPACE = re.compile(r"^[A-Za-z0-9._\-]{1,256}$")
MASK = "***"


@dataclass(frozen=True, repr=False)
class PineconeSettings:
    """Where the Pinecone index is and the key for it. `typed`: the key was typed in the browser,
    so the host must pass the address guard (see `guard_typed_host`)."""

    api_key: str | None = None
    index: str | None = None
    host: str | None = None
    control_host: str | None = None
    #: per attempt; with retries, a request ends within (max_retries + 1) x timeout_s + max_retries x 4 s
    timeout_s: float = 10.0
    max_retries: int = 3
    typed: bool = False
    allow_local: bool = False
    extra_secrets: tuple[str, ...] = field(default=(), repr=False)

    def __repr__(self) -> str:
        return (f"PineconeSettings(api_key={'set' if self.api_key else 'not set'}, index={self.index!r}, "
                f"host={self.host!r}, timeout_s={self.timeout_s}, typed={self.typed})")

    __str__ = __repr__

    @property
    def configured(self) -> bool:
        return bool(self.api_key and (self.index or self.host))

    def needs(self) -> str:
        """What is missing, for the Index page and errors."""
        missing = [w for w, ok in (("PINECONE_API_KEY", self.api_key), ("PINECONE_INDEX or PINECONE_HOST",
                                                                         self.index or self.host)) if not ok]
        return ("Pinecone needs " + " and ".join(missing) + " in the environment or .streamlit/secrets.toml, "
                "and an index created once with the embedder's dimension and metric cosine (see README)")


def settings_from(values: Mapping[str, object]) -> PineconeSettings:
    """From the operator's environment or secrets.toml (read by the entry point, passed in here)."""
    def get(name: str) -> str | None:
        value = values.get(name)
        return value.strip() if isinstance(value, str) and value.strip() else None

    timeout = get("RAG_PINECONE_TIMEOUT_S")
    return PineconeSettings(api_key=get("PINECONE_API_KEY"), index=get("PINECONE_INDEX"), host=get("PINECONE_HOST"),
                            control_host=get("PINECONE_CONTROLLER_HOST"),
                            timeout_s=float(timeout) if timeout else 10.0)


#: the operator's settings this store reads (flags, environment, then secrets.toml)
SETTING_NAMES = ("PINECONE_API_KEY", "PINECONE_INDEX", "PINECONE_HOST", "PINECONE_CONTROLLER_HOST",
                 "RAG_PINECONE_TIMEOUT_S")


def operator_settings(settings: OperatorSettings) -> PineconeSettings:
    """The operator's Pinecone settings: a `[pinecone]` table of secrets.toml (api_key / index /
    host), overridden by PINECONE_* names (a flag, the environment, a top-level secret)."""
    values: dict[str, object] = {f"PINECONE_{k.upper()}": v for k, v in settings.table("pinecone").items()}
    values.update({name: value for name in SETTING_NAMES if (value := settings.get(name))})
    try:
        return settings_from(values)
    except ValueError:
        raise ConfigError("RAG_PINECONE_TIMEOUT_S must be a number of seconds, e.g. 10") from None


_OVERRIDE: list[PineconeSettings | None] = [None]


def configure(settings: PineconeSettings | None) -> None:
    """Settings that win over the operator's (a test, a program embedding the store); None undoes."""
    _OVERRIDE[0] = settings


def configured() -> PineconeSettings:
    """What `create_store("pinecone", dim)` uses: the operator's settings as the entry point read them."""
    return _OVERRIDE[0] or operator_settings(current())


def guard_typed_host(host: str, allow_local: bool = False, resolver=None) -> str:
    """A host used with a key typed in the browser: https, and every address it resolves to allowed
    by the crawler's guard (no loopback or private networks unless the operator allows local servers)."""
    parts = urlsplit(host if "://" in host else f"https://{host}")
    if parts.scheme != "https" and not allow_local:
        raise ConfigError("a Pinecone host typed here must use https")
    if not parts.hostname:
        raise ConfigError(f"{host!r} is not a host name")
    try:
        resolve_checked(parts.hostname, parts.port or 443, AddressPolicy(allow_private=allow_local), resolver)
    except AddressRefused as exc:
        raise ConfigError(f"the Pinecone host {parts.hostname} is not allowed: {exc}") from None
    except OSError as exc:
        raise ConfigError(f"the Pinecone host {parts.hostname} does not resolve ({exc.strerror or exc})") from None
    return host


def redact(text: str, settings: PineconeSettings) -> str:
    for secret in (settings.api_key, *settings.extra_secrets):
        if secret:
            text = text.replace(secret, MASK)
    return text


class PineconeStore:
    """Cosine search in one namespace of a Pinecone index (created once, metric cosine)."""

    name = "pinecone"
    metric = "cosine"

    def __init__(self, dim: int, *, index_name: str | None = None, pinecone: PineconeSettings | None = None,
                 credentials=None, client=None) -> None:
        self.dim = int(dim)
        self.settings = pinecone or configured()
        self.namespace = _namespace(index_name) if index_name else f"store-{uuid.uuid4().hex[:12]}"
        self.index_name = index_name or self.namespace
        self._client = client
        self._index = None
        self._host: str | None = None
        self._next = 0
        self._rows: list[tuple[str, Chunk]] | None = None  # (id, chunk) in id order; None: not read yet
        self._manifest_json: str | None = None
        #: None: not checked yet; True: this object opened (or already saved) the namespace's index
        self._owned: bool | None = None
        self.units = {"read": 0, "write": 0}

    # ---- connecting -------------------------------------------------------------------

    def _connect(self):
        if self._index is not None:
            return self._index
        s = self.settings
        if not s.api_key:
            raise ConfigError(s.needs())
        if s.typed:  # a visitor's key: only to a host they typed, checked like a typed base URL
            if not s.host:
                raise ConfigError("a Pinecone key typed here needs the index host typed beside it")
            guard_typed_host(s.host, s.allow_local)
        from pinecone import Pinecone  # lazily: only Pinecone users need the SDK
        from pinecone._internal.config import RetryConfig

        retry = RetryConfig(max_retries=s.max_retries, backoff_factor=0.2, max_wait=min(4.0, s.timeout_s))
        self._client = self._client or Pinecone(api_key=s.api_key, host=s.control_host, timeout=s.timeout_s,
                                                retry_config=retry)
        if s.host:
            self._host = s.host
        else:  # one describe_index: the host, and the dimension checked before anything is sent
            described = self._call(lambda: self._client.indexes.describe(s.index), f"describe_index {s.index}")
            self._host = described.host
            try:
                dim = described.dimension
            except AttributeError:  # a schema without one dense field: not an index this store can use
                dim = None
            if dim is not None and int(dim) != self.dim and self.namespace != MANIFEST_NAMESPACE:
                raise IndexMismatchError(f"the Pinecone index {s.index} holds {dim}-d vectors, not {self.dim}: "
                                         "use the embedder it was created for, or create an index of that dimension")
        self._index = _with_retry(self._client.index(host=self._host), retry)
        return self._index

    def _call(self, fn, what: str):
        """One SDK call: its errors become StoreErrors that say what to do, with the key removed."""
        from pinecone.errors.exceptions import (ApiError, NotFoundError, PineconeConnectionError, PineconeError,
                                                PineconeTimeoutError, RateLimitError, UnauthorizedError)

        try:
            return fn()
        except UnauthorizedError:
            raise StoreError("Pinecone refused the API key (401): check PINECONE_API_KEY") from None
        except NotFoundError:
            raise StoreError(f"Pinecone has no index {self.settings.index!r} ({what}): create it once (see README) "
                             "or fix PINECONE_INDEX / PINECONE_HOST") from None
        except RateLimitError:
            raise StoreError(f"Pinecone kept rate-limiting {what} (429) after {self.settings.max_retries} retries: "
                             "wait a minute and run it again") from None
        except PineconeTimeoutError:
            raise StoreError(f"Pinecone did not answer {what} within {self.settings.timeout_s:g} s "
                             f"({self.settings.max_retries + 1} attempts): "
                             "try again, or raise RAG_PINECONE_TIMEOUT_S") from None
        except PineconeConnectionError as exc:
            raise StoreError(f"no connection to Pinecone for {what}: {redact(str(exc), self.settings)}") from None
        except ApiError as exc:
            message = redact(str(getattr(exc, "message", "") or exc), self.settings)
            if "dimension" in message.lower():
                raise IndexMismatchError(f"Pinecone: {message}; use the embedder the index was created for") from None
            raise StoreError(f"Pinecone refused {what}: {message}") from None
        except PineconeError as exc:  # e.g. a response the SDK cannot parse: not Pinecone, or another version
            raise StoreError(f"Pinecone's answer to {what} was not understood ({type(exc).__name__}: "
                             f"{redact(str(exc), self.settings)[:300]}): check PINECONE_HOST / PINECONE_INDEX") from None

    # ---- writing ----------------------------------------------------------------------

    def add(self, chunks: Sequence[Chunk], vectors: np.ndarray) -> None:
        matrix = as_matrix(vectors, self.dim)
        check_lengths(chunks, matrix)
        check_finite(matrix)
        if not len(chunks):
            return
        index = self._connect()
        self._claim()
        self._rows_loaded()
        records, sizes = [], []
        for c, v in zip(chunks, matrix):
            meta = {"text": c.text, "source": c.source, "section": c.section, "start": c.start, "end": c.end,
                    "doc_id": c.doc_id}
            size = len(json.dumps(meta, ensure_ascii=False).encode("utf-8"))
            if size > METADATA_MAX_BYTES:
                raise StoreError(f"a chunk of {c.source} (section {c.section!r}, offsets {c.start}-{c.end}) needs "
                                 f"{size:,} bytes of metadata, over Pinecone's 40 KB limit; nothing was written: "
                                 "choose a smaller chunk size")
            rid = f"c{self._next + len(records):012d}"
            records.append({"id": rid, "values": v.tolist(), "metadata": meta})
            sizes.append(size + 12 * self.dim + 64)
        for batch in batches(records, sizes):
            self._call(lambda b=batch: index.upsert(vectors=b, namespace=self.namespace, show_progress=False,
                                                    timeout=self.settings.timeout_s), "an upsert")
            self.units["write"] += len(batch)
        self._next += len(records)
        self._rows.extend((r["id"], c) for r, c in zip(records, chunks))

    def _claim(self) -> None:
        """Before the first write of a new index: another instance's index of this name is never
        written into blindly (a different embedder is refused, the same one must be opened)."""
        if self._owned:
            return
        existing = self._fetch_manifest()
        if existing is not None:
            dim = int(existing.get("dim", 0) or 0)
            if dim and dim != self.dim:
                raise IndexMismatchError(f"Pinecone already holds a playground index {self.namespace} of {dim}-d "
                                         f"vectors; nothing was written: open it with the embedder it was built "
                                         "with, or choose another name")
            raise StoreError(f"Pinecone already holds a playground index {self.namespace} (built by another app "
                             "instance); nothing was written: attach and open that index, or choose another name")
        self._owned = True

    def delete(self, sources: str | Iterable[str]) -> int:
        """By source, for a re-ingested file: the ids come from the listing, deleted 1,000 at a time."""
        doomed = {sources} if isinstance(sources, str) else set(sources)
        if not doomed or self._index is None and self._rows is None and not self.settings.configured:
            return 0
        rows = self._rows_loaded()
        ids = [rid for rid, c in rows if c.source in doomed]
        index = self._connect()
        for start in range(0, len(ids), BATCH_MAX_RECORDS):
            part = ids[start:start + BATCH_MAX_RECORDS]
            self._call(lambda p=part: index.delete(ids=p, namespace=self.namespace, timeout=self.settings.timeout_s),
                       "a delete")
        gone = set(ids)
        self._rows = [(rid, c) for rid, c in rows if rid not in gone]
        return len(ids)

    # ---- reading ----------------------------------------------------------------------

    def search(self, vector: np.ndarray, k: int, sources: Sequence[str] | None = None) -> list[Hit]:
        if k <= 0 or (sources is not None and len(sources) == 0):
            return []
        query = as_matrix(vector, self.dim)[0]
        if isinstance(sources, str):
            sources = [sources]
        index = self._connect()
        flt = {"source": {"$in": list(sources)}} if sources is not None else None
        result = self._call(lambda: index.query(vector=query.tolist(), top_k=min(int(k), QUERY_MAX_TOP_K),
                                                namespace=self.namespace, filter=flt, include_metadata=True,
                                                timeout=self.settings.timeout_s), "a query")
        self._count_reads(result)
        matches = sorted(result.matches, key=lambda m: (-float(m.score), m.id))  # ties: insertion order
        return [Hit(chunk=_chunk(m.metadata), score=float(m.score), score_kind="cosine", rank=r)
                for r, m in enumerate(matches, start=1)]

    def _count_reads(self, response) -> None:
        usage = getattr(response, "usage", None)
        self.units["read"] += int(getattr(usage, "read_units", 0) or 0)

    def _list_ids(self) -> list[str]:
        index = self._connect()
        ids, token = [], None
        while True:
            page = self._call(lambda t=token: index.list_paginated(namespace=self.namespace, limit=LIST_PAGE,
                                                                   pagination_token=t, timeout=self.settings.timeout_s),
                              "a list")
            self._count_reads(page)
            ids += [v.id for v in page.vectors]
            token = page.pagination.next if page.pagination else None
            if not token:
                return sorted(ids)

    def _fetch(self, ids: Sequence[str]) -> dict:
        index, out = self._connect(), {}
        for start in range(0, len(ids), FETCH_BATCH):
            part = list(ids[start:start + FETCH_BATCH])
            got = self._call(lambda p=part: index.fetch(ids=p, namespace=self.namespace,
                                                        timeout=self.settings.timeout_s), "a fetch")
            self._count_reads(got)
            out.update(got.vectors)
        return out

    def _rows_loaded(self) -> list[tuple[str, Chunk]]:
        if self._rows is None:
            if not self.settings.configured and self._index is None:
                self._rows = []
                return self._rows
            ids = self._list_ids()
            fetched = self._fetch(ids)
            self._rows = [(i, _chunk(fetched[i].metadata)) for i in ids if i in fetched]
            self._next = int(ids[-1][1:]) + 1 if ids else 0
        return self._rows

    def count(self) -> int:
        return len(self._rows_loaded())

    def chunks(self) -> list[Chunk]:
        """Every chunk in insertion order (what a whole-index BM25 is built from)."""
        return [c for _, c in self._rows_loaded()]

    def vectors(self) -> np.ndarray:
        return self.vectors_at(np.arange(self.count()))

    def vectors_at(self, rows: np.ndarray) -> np.ndarray:
        """Only these rows cross the wire (MMR over a few candidates)."""
        rows = np.asarray(rows, dtype=np.int64).reshape(-1)
        if rows.size == 0:
            return np.zeros((0, self.dim), dtype=np.float32)
        listed = self._rows_loaded()
        ids = [listed[int(r)][0] for r in rows]
        fetched = self._fetch(list(dict.fromkeys(ids)))
        missing = [i for i in ids if i not in fetched]
        if missing:
            raise StoreError(f"Pinecone namespace {self.namespace} no longer holds {missing[0]}: it changed while "
                             "being read; run the query again")
        return np.stack([np.asarray(fetched[i].values, dtype=np.float32) for i in ids])

    # ---- manifest, pointer ------------------------------------------------------------

    def attach_manifest(self, manifest_json: str) -> None:
        self._manifest_json = manifest_json

    def stored_manifest(self) -> str | None:
        got = self._fetch_manifest()
        return got.get("manifest") if got else None

    def _fetch_manifest(self) -> dict | None:
        index = self._connect()
        got = self._call(lambda: index.fetch(ids=[self.namespace], namespace=MANIFEST_NAMESPACE,
                                             timeout=self.settings.timeout_s), "a fetch of the manifest")
        record = got.vectors.get(self.namespace)
        return dict(record.metadata or {}) if record else None

    def save(self, directory: str) -> None:
        """Write the manifest record (so another instance sees this index), then a local pointer (no key)."""
        index = self._connect()
        self._claim()
        meta = {"dim": self.dim, "namespace": self.namespace, "count": self.count()}
        if self._manifest_json:
            meta["manifest"] = self._manifest_json
        marker = [1.0] + [0.0] * (self.dim - 1)  # Pinecone refuses an all-zero dense vector
        self._call(lambda: index.upsert(vectors=[{"id": self.namespace, "values": marker, "metadata": meta}],
                                        namespace=MANIFEST_NAMESPACE, show_progress=False,
                                        timeout=self.settings.timeout_s), "the manifest upsert")
        self.units["write"] += 1
        path = Path(directory)
        path.mkdir(parents=True, exist_ok=True)
        pointer = {"format": 1, "namespace": self.namespace, "index": self.settings.index, "host": self._host,
                   "dim": self.dim}
        (path / POINTER_FILE).write_text(json.dumps(pointer, indent=2))

    def load(self, directory: str) -> None:
        path = Path(directory) / POINTER_FILE
        try:
            pointer = json.loads(path.read_text())
            namespace = _namespace(pointer["namespace"])
        except FileNotFoundError:
            raise StoreError(f"no Pinecone pointer in {directory}; the index is incomplete, rebuild it") from None
        except (ValueError, KeyError, TypeError, ConfigError) as exc:
            raise StoreError(f"unreadable Pinecone pointer {path} ({exc}); rebuild the index") from None
        self.open(namespace)

    def open(self, namespace: str) -> None:
        """Attach to a playground index already in Pinecone; refuses another dimension."""
        self.namespace, self._rows = _namespace(namespace), None
        self.index_name = self.namespace
        manifest = self._fetch_manifest()
        if manifest is None:
            raise StoreError(f"Pinecone holds no playground index {self.namespace} (no manifest record): rebuild it")
        self._owned = True
        if int(manifest.get("dim", self.dim)) != self.dim:
            raise IndexMismatchError(f"playground index {self.namespace} in Pinecone holds {int(manifest['dim'])}-d "
                                     f"vectors, not {self.dim}: open it with the embedder it was built with")


@dataclass(frozen=True)
class PineconeIndex:
    """One playground index as its manifest record in Pinecone describes it."""

    name: str
    dim: int
    count: int  # records in its namespace, as describe_index_stats reports them
    manifest_json: str | None


def pinecone_indexes(settings: PineconeSettings | None = None, client=None) -> list[PineconeIndex]:
    """Every playground index in the configured Pinecone index (its manifest records), for any instance."""
    store = PineconeStore(1, index_name=MANIFEST_NAMESPACE, pinecone=settings, client=client)
    ids = store._list_ids()
    records = store._fetch(ids)
    index = store._connect()
    stats = store._call(lambda: index.describe_index_stats(timeout=store.settings.timeout_s), "describe_index_stats")
    counts = {name: int(getattr(ns, "vector_count", 0) or 0) for name, ns in (stats.namespaces or {}).items()}
    out = []
    for rid in ids:
        meta = dict(records[rid].metadata or {}) if rid in records else {}
        out.append(PineconeIndex(rid, int(meta.get("dim", 0) or 0), counts.get(rid, 0),
                                 meta.get("manifest") if isinstance(meta.get("manifest"), str) else None))
    return out


def _with_retry(index, retry):
    """The SDK's `Pinecone.index()` gives the data plane its default retries (3, backoff up to 60 s,
    a server's Retry-After honoured up to 60 s): rebuild its HTTP client with ours, so every data
    request ends within (max_retries + 1) x timeout plus at most max_wait x max_retries of backoff.
    The stall test (tests/test_pinecone.py) fails if a new SDK moves this seam."""
    from dataclasses import replace

    from pinecone._internal.constants import DATA_PLANE_API_VERSION
    from pinecone._internal.http_client import HTTPClient

    config = getattr(index, "_config", None)
    if config is None or not hasattr(index, "_http"):
        return index
    index._http.close()
    index._config = replace(config, retry_config=retry)
    index._http = HTTPClient(index._config, DATA_PLANE_API_VERSION)
    return index


def batches(records: list[dict], sizes: list[int]) -> Iterable[list[dict]]:
    """Consecutive runs of at most BATCH_MAX_RECORDS records and BATCH_MAX_BYTES (estimated JSON)."""
    batch, total = [], 0
    for record, size in zip(records, sizes):
        if batch and (len(batch) >= BATCH_MAX_RECORDS or total + size > BATCH_MAX_BYTES):
            yield batch
            batch, total = [], 0
        batch.append(record)
        total += size
    if batch:
        yield batch


def _namespace(name: str) -> str:
    """A playground index name as a Pinecone namespace (printable ASCII; others hex-escaped)."""
    if not isinstance(name, str) or not name:
        raise ConfigError("a Pinecone namespace needs a name")
    safe = name if _NAMESPACE.match(name) else re.sub(r"[^A-Za-z0-9._\-]", lambda m: f"_{ord(m.group()):x}", name)
    if not _NAMESPACE.match(safe):
        raise ConfigError(f"index name {name!r} cannot be a Pinecone namespace: use up to 256 letters, digits, . _ -")
    return safe


def _chunk(meta) -> Chunk:
    m = dict(meta or {})
    try:
        return Chunk(source=str(m["source"]), section=str(m["section"]), text=str(m["text"]), start=int(m["start"]),
                     end=int(m["end"]), doc_id=str(m["doc_id"]))
    except (KeyError, TypeError, ValueError):
        raise StoreError("a Pinecone record lacks the playground's metadata (text, source, section, offsets): "
                         "is another application writing to this namespace?") from None
