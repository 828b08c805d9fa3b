"""`python -m rag_core bench --store pgvector`: the pgvector store against baselines measured in the
same run, on vectors with real structure (the demo corpus's MiniLM vectors plus small gaussian
noise, renormalised: bench.py's generator), so HNSW recall means something.

- ingest: store.add (in the pipeline's 64-row batches) + commit, rows/s, against a raw psycopg
  binary COPY of the same rows into an identical table, the faster of two raw encoders each round
  (psycopg's C rows with a numpy vector buffer; one stream built with numpy and struct), target
  >= 0.9x, rounds interleaved
- HNSW (vector_cosine_ops): build time with maintenance_work_mem raised, the server's peak memory
  during the build, table and index sizes; recall@10 against exact per ef_search (target >= 0.95)
  and p50 query latency (store.search, SQL + hits) against FAISS IndexFlatIP and pgvector exact
With no --dsn the server is a throwaway embedded one in a temp dir; with one, bench tables are dropped after.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import threading
import struct
import time
import uuid
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Callable, Iterator

import numpy as np
import psycopg
from rag_core.stores import pg_server
from rag_core.bench.data import demo_questions, noisy_copies
from rag_core.ingest.chunking import chunk_documents
from rag_core.ingest.demo import demo_documents
from rag_core.embeddings.cache import CachedEmbedder
from rag_core.embeddings.local_onnx import LocalMiniLM
from rag_core.core.types import ChunkingConfig
from rag_core.stores.pgvector_store import embedding_storage
from rag_core.stores.pgvector_store import PgVectorStore
from rag_core.index.saved_pg import drop
from rag_core.stores.pgvector_store import table_size

TARGETS = {"ingest_ratio_to_raw_copy": ">= 0.9", "hnsw_recall_at_10": ">= 0.95"}
EF_SEARCH = (16, 32, 40, 64, 100, 200, 400, 800)
INGEST_BATCH = 64  # what Index.ingest hands the store per embedding batch
_RAW_COLUMNS = "chunk_id, doc_id, source, section, text, start_offset, end_offset, embedding"


def _pct(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q))


@contextmanager
def server(dsn: str | None) -> Iterator[str]:
    if dsn:
        yield dsn
        return
    base = Path(tempfile.mkdtemp(prefix="rag-bench-pg-"))
    data_dir = base / "pgdata"
    try:
        yield pg_server.embedded_dsn(data_dir)
    finally:
        pg_server.stop_embedded(data_dir)
        shutil.rmtree(base, ignore_errors=True)


def structured_data(n: int, n_queries: int, log: Callable[[str], None]):
    """(chunks, vectors, queries): n noisy copies of the demo corpus's chunks and vectors, and
    real questions embedded as queries. Embeddings go through the disk cache (a rerun is fast)."""

    documents = demo_documents()
    base_chunks = chunk_documents(documents, ChunkingConfig())
    embedder = CachedEmbedder(LocalMiniLM(batch_size=4))
    log(f"embedding {len(base_chunks)} demo chunks (cached after the first run)")
    base = np.asarray(embedder.embed_documents([c.text for c in base_chunks]), dtype=np.float32)
    vectors = noisy_copies(base, n, sigma=0.03)
    chunks = [replace(base_chunks[i % len(base_chunks)], doc_id=f"copy{i}") for i in range(n)]
    queries = np.stack([embedder.inner.embed_query(q) for q in demo_questions(documents)[:n_queries]])
    return chunks, vectors, queries.astype(np.float32)


def _binary_copy_stream(chunks, vectors: np.ndarray) -> bytes:
    """The whole COPY ... (FORMAT BINARY) stream, header to trailer: the vectors as one big-endian
    numpy buffer sliced per row, text fields length-prefixed, joined once."""
    dim = vectors.shape[1]
    vector_field = struct.pack(">i", 4 + 4 * dim) + struct.pack(">HH", dim, 0)
    big_endian = np.ascontiguousarray(vectors, dtype=">f4").tobytes()
    width = 4 * dim
    field, count = struct.Struct(">i").pack, struct.pack(">h", 8)
    parts = [b"PGCOPY\n\xff\r\n\x00" + struct.pack(">ii", 0, 0)]
    for i, c in enumerate(chunks):
        texts = [s.encode() for s in (c.chunk_id, c.doc_id, c.source, c.section, c.text)]
        parts.append(count + b"".join(field(len(s)) + s for s in texts)
                     + struct.pack(">iiii", 4, c.start, 4, c.end)
                     + vector_field + big_endian[i * width:(i + 1) * width])
    parts.append(struct.pack(">h", -1))
    return b"".join(parts)


def _write_rows(copy, chunks, vectors: np.ndarray) -> None:
    """psycopg's C row encoder, the vectors as slices of one big-endian numpy buffer (sent as the
    vector type's binary form)."""
    header = struct.pack(">HH", vectors.shape[1], 0)
    copy.set_types(["text", "text", "text", "text", "text", "int4", "int4", "bytea"])
    for c, v in zip(chunks, np.ascontiguousarray(vectors, dtype=">f4")):
        copy.write_row((c.chunk_id, c.doc_id, c.source, c.section, c.text, c.start, c.end, header + v.tobytes()))


def _write_stream(copy, chunks, vectors: np.ndarray) -> None:
    copy.write(_binary_copy_stream(chunks, vectors))


#: the raw ways to COPY the rows; each round's baseline is the faster of them
RAW_WRITERS = {"rows": _write_rows, "stream": _write_stream}


def _raw_copy_seconds(dsn: str, chunks, vectors: np.ndarray, write=_write_rows) -> float:
    """A raw baseline: one binary COPY in one transaction into an identical table, encoded by
    `write` (its encoding timed too), with nothing of the store around it. (It used to be
    pgvector-python's per-row dumper, slower than the store's numpy encoding: an easy baseline.)"""
    table = f"rag_bench_raw_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f"CREATE TABLE {table} (id bigserial PRIMARY KEY, chunk_id text NOT NULL, doc_id text NOT NULL, "
                     "source text NOT NULL, section text NOT NULL, text text NOT NULL, start_offset integer NOT NULL, "
                     f"end_offset integer NOT NULL, embedding vector({vectors.shape[1]}) NOT NULL)")
        conn.execute(f"ALTER TABLE {table} ALTER COLUMN embedding SET STORAGE {embedding_storage(vectors.shape[1])}")
        conn.execute(f"CREATE INDEX ON {table} (source)")
        try:
            t0 = time.perf_counter()
            with conn.transaction(), conn.cursor() as cur:
                with cur.copy(f"COPY {table} ({_RAW_COLUMNS}) FROM STDIN WITH (FORMAT BINARY)") as copy:
                    write(copy, chunks, vectors)
            return time.perf_counter() - t0
        finally:
            conn.execute(f"DROP TABLE {table}")


def _store_ingest_seconds(dsn: str, chunks, vectors: np.ndarray, kind: str = "exact", **options):
    store = PgVectorStore(kind, vectors.shape[1], index_name=f"bench-{uuid.uuid4().hex[:8]}", dsn=dsn, **options)
    t0 = time.perf_counter()
    for begin in range(0, len(chunks), INGEST_BATCH):
        store.add(chunks[begin:begin + INGEST_BATCH], vectors[begin:begin + INGEST_BATCH])
    return store, time.perf_counter() - t0


def ingest_bench(dsn: str, chunks, vectors: np.ndarray, rounds: int, log) -> dict:
    store_s, raw_s = [], []
    warm = min(len(chunks), 2000)  # pool, plans, caches: warmed on both sides, not measured
    _raw_copy_seconds(dsn, chunks[:warm], vectors[:warm])
    store, _ = _store_ingest_seconds(dsn, chunks[:warm], vectors[:warm])
    store.commit()
    drop(store.index_name, dsn=dsn)
    raw_by: dict[str, list[float]] = {name: [] for name in RAW_WRITERS}
    for r in range(rounds):  # alternate who goes first: a noisy neighbour slows both sides alike
        for side in (("store", "raw") if r % 2 == 0 else ("raw", "store")):
            if side == "raw":  # the baseline is the fastest raw writer of this round
                for name, write in RAW_WRITERS.items():
                    raw_by[name].append(_raw_copy_seconds(dsn, chunks, vectors, write))
                raw_s.append(min(raw_by[name][-1] for name in RAW_WRITERS))
            else:
                store, seconds = _store_ingest_seconds(dsn, chunks, vectors)
                t0 = time.perf_counter()
                store.commit()
                store_s.append(seconds + time.perf_counter() - t0)
                drop(store.index_name, dsn=dsn)
        log(f"ingest round {r + 1}: store {len(chunks) / store_s[-1]:,.0f} rows/s, raw COPY "
            f"{len(chunks) / raw_s[-1]:,.0f} rows/s")
    n = len(chunks) * rounds
    return {"rows": len(chunks), "rounds": rounds, "batch_rows": INGEST_BATCH,
            "store_rows_per_s": round(n / sum(store_s)), "raw_copy_rows_per_s": round(n / sum(raw_s)),
            "raw_rows_per_s_by_writer": {name: round(n / sum(s)) for name, s in raw_by.items()},
            "ingest_ratio_to_raw_copy": round(sum(raw_s) / sum(store_s), 3)}


class _PeakServerMemory:
    """Samples the summed RSS of every postgres process while a build runs."""

    def __init__(self, every_s: float = 0.5) -> None:
        self.peak, self.every_s, self._stop = 0, every_s, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        import psutil

        while not self._stop.is_set():
            total = 0
            for proc in psutil.process_iter(["name", "memory_info"]):
                if proc.info["name"] == "postgres" and proc.info["memory_info"] is not None:
                    total += proc.info["memory_info"].rss
            self.peak = max(self.peak, total)
            self._stop.wait(self.every_s)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def _truth(vectors: np.ndarray, queries: np.ndarray, k: int) -> list[set[int]]:
    out = []
    for q in queries:
        scores = vectors @ q
        out.append(set(np.argpartition(-scores, k)[:k].tolist()))
    return out


def _row_of(hit) -> int:
    return int(hit.chunk.doc_id[4:])  # "copy<i>"


def _latencies(search, queries: np.ndarray, repeat: int = 1) -> list[float]:
    times = []
    for _ in range(repeat):
        for q in queries:
            t0 = time.perf_counter()
            search(q)
            times.append((time.perf_counter() - t0) * 1000)
    return times


def hnsw_bench(dsn: str, chunks, vectors: np.ndarray, queries: np.ndarray, log, m: int = 32,
               ef_construction: int = 200) -> dict:
    import faiss

    k = 10
    store, load_s = _store_ingest_seconds(dsn, chunks, vectors, "hnsw", hnsw_m=m, ef_construction=ef_construction)
    log(f"loaded {len(chunks):,} rows in {load_s:.1f}s; building HNSW (m={m}, ef_construction={ef_construction})")
    with _PeakServerMemory() as memory:
        t0 = time.perf_counter()
        store.commit()  # builds the HNSW index after the bulk load, in the same transaction
        build_s = time.perf_counter() - t0
    log(f"HNSW build {build_s:.1f}s, server peak RSS {memory.peak / 2**20:,.0f} MiB")
    try:
        truth = _truth(vectors, queries, k)
        faiss.omp_set_num_threads(1)  # as the app runs it next to the embedder
        flat = faiss.IndexFlatIP(vectors.shape[1])
        flat.add(vectors)
        big = len(vectors) > 300_000  # a million rows: fewer repeats of the slow exact sides
        flat_p50 = _pct(_latencies(lambda q: flat.search(q[None, :], k), queries, 1 if big else 3), 50)
        rows = []
        for ef in EF_SEARCH[2:] if big else EF_SEARCH:
            store.ef_search = ef
            found = [{_row_of(h) for h in store.search(q, k)} for q in queries]
            recall = float(np.mean([len(f & t) / k for f, t in zip(found, truth)]))
            p50 = _pct(_latencies(lambda q: store.search(q, k), queries, 1 if big else 2), 50)
            rows.append({"ef_search": ef, "recall_at_10": round(recall, 4), "p50_ms": round(p50, 2),
                         "p50_ratio_to_faiss_flat": round(p50 / flat_p50, 2)})
            log(f"ef_search {ef}: recall@10 {recall:.3f}, p50 {p50:.2f} ms (faiss flat {flat_p50:.2f} ms)")
        exact_p50 = _pct(_latencies(lambda q: store._nearest(q, k, None, exact=True), queries[:5 if big else 20]), 50)
        sizes = _sizes(store, table_size(store.table, dsn=dsn))
    finally:
        drop(store.index_name, dsn=dsn)
    reaching = [r for r in rows if r["recall_at_10"] >= 0.95]
    return {"rows": len(chunks), "queries": len(queries), "hnsw_m": m, "ef_construction": ef_construction,
            "maintenance_work_mem": pg_server.limits().maintenance_work_mem, "load_s": round(load_s, 1),
            "hnsw_build_s": round(build_s, 1),
            "server_peak_rss_mib": round(memory.peak / 2**20), **sizes, "faiss_flat_p50_ms": round(flat_p50, 3),
            "pgvector_exact_p50_ms": round(exact_p50, 2), "by_ef_search": rows,
            "lowest_ef_search_reaching_0.95": reaching[0] if reaching else None}


def _sizes(store, total: int) -> dict:
    rows = store._read("SELECT pg_relation_size(to_regclass(%s)), pg_relation_size(to_regclass(%s))",
                       (f'"{store.table}_hnsw"', f'"{store.table}"'))
    hnsw, heap = rows[0] if rows else (0, 0)
    return {"hnsw_index_mib": round((hnsw or 0) / 2**20), "table_mib": round((heap or 0) / 2**20),
            "total_mib": round(total / 2**20)}


def lexical_bench(dsn: str, chunks, questions: list[str], log) -> dict:
    """BM25/hybrid for this store: Postgres full-text search (expression GIN + ts_rank_cd, OR of the
    question's lexemes) against bm25s built from the table's texts (what the shared BM25 module
    does), same rows, same questions. ts_rank_cd is not BM25 (no IDF): latency is what is compared."""
    import bm25s
    import Stemmer

    store = PgVectorStore("exact", 1, index_name=f"bench-{uuid.uuid4().hex[:8]}", dsn=dsn)
    for begin in range(0, len(chunks), 4096):
        part = chunks[begin:begin + 4096]
        store.add(part, np.ones((len(part), 1), dtype=np.float32))
    store.commit()
    try:
        with _gin_connection(dsn) as conn:
            t0 = time.perf_counter()
            conn.execute(f'CREATE INDEX ON "{store.table}" USING gin (to_tsvector(\'english\', text))')
            gin_s = time.perf_counter() - t0
            query = (f'SELECT id, ts_rank_cd(to_tsvector(\'english\', text), q) AS r FROM "{store.table}", '
                     "(SELECT replace(plainto_tsquery('english', %s)::text, ' & ', ' | ')::tsquery AS q) AS qq "
                     "WHERE to_tsvector('english', text) @@ q ORDER BY r DESC LIMIT 10")
            pg_ms = _latencies(lambda qtext: conn.execute(query, (qtext,)).fetchall(), questions)
        t0 = time.perf_counter()
        stemmer = Stemmer.Stemmer("english")
        texts = [c.text for c in store.chunks()]  # from the table, as the shared module would
        retriever = bm25s.BM25()
        retriever.index(bm25s.tokenize(texts, stopwords="en", stemmer=stemmer, show_progress=False),
                        show_progress=False)
        bm25_build_s = time.perf_counter() - t0

        def bm25_query(qtext: str):
            tokens = bm25s.tokenize([qtext], stopwords="en", stemmer=stemmer, show_progress=False)
            return retriever.retrieve(tokens, k=10, show_progress=False)

        bm25_ms = _latencies(bm25_query, questions)
    finally:
        drop(store.index_name, dsn=dsn)
    out = {"rows": len(chunks), "queries": len(questions), "pg_gin_build_s": round(gin_s, 1),
           "pg_ts_rank_p50_ms": round(_pct(pg_ms, 50), 2), "bm25s_build_from_table_s": round(bm25_build_s, 1),
           "bm25s_p50_ms": round(_pct(bm25_ms, 50), 2)}
    log(f"lexical: {out}")
    return out


@contextmanager
def _gin_connection(dsn: str):
    import psycopg

    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("SET maintenance_work_mem = '1GB'")
        conn.execute("SET statement_timeout = 0")
        yield conn


def run_pgvector_bench(n: int | None = None, quick: bool = False, progress: bool = True, dsn: str | None = None,
                       rounds: int = 3, n_queries: int = 100, hnsw_m: int = 32, ef_construction: int = 200,
                       lexical: bool = False) -> dict:
    def log(message: str) -> None:
        if progress:
            print(f"[bench pgvector] {message}", flush=True, file=sys.stderr)

    n = n or (10_000 if quick else 100_000)
    chunks, vectors, queries = structured_data(n, n_queries, log)
    results: dict = {"targets": TARGETS, "vectors": n, "dim": int(vectors.shape[1])}
    with server(dsn) as resolved:
        results["server"] = pg_server.redact_dsn(dsn) if dsn else "embedded (pgserver, temp dir)"
        pg_server.get_pool(resolved)  # CREATE EXTENSION vector and the metadata table, before any side runs
        if rounds > 0:
            results["ingest"] = ingest_bench(resolved, chunks, vectors, rounds, log)
        if lexical:
            results["lexical"] = lexical_bench(resolved, chunks, demo_questions(demo_documents())[:n_queries], log)
            return results
        results["hnsw"] = hnsw_bench(resolved, chunks, vectors, queries, log, hnsw_m, ef_construction)
    return results
