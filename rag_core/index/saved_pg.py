"""Indexes that live in PostgreSQL, seen from any app instance: list them, attach one to a local
index directory (so `Index.open` works on a second machine), drop one, and say where any index
lives and how big it is (a directory on disk, or a table in a database).

A local directory of a pgvector index holds only a pointer (see stores/pgvector_store.py); the
database's `rag_indexes` table holds the manifests, so every instance sees the same indexes.
"""

from __future__ import annotations

import os
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from rag_core.core.errors import StoreError
from rag_core.stores import is_database
from rag_core.stores import pg_server
from rag_core.stores.pgvector_store import META_TABLE
from rag_core.index.index import CURRENT, MANIFEST
from rag_core.stores.pgvector_store import POINTER_FILE
from rag_core.stores.pgvector_store import lock_key, table_name
from rag_core.index.index import live_generation
from rag_core.stores.pgvector_store import table_size


@dataclass(frozen=True)
class DbIndex:
    """One index as the database records it."""

    name: str
    store: str
    table: str
    dim: int
    version: int
    manifest_json: str | None
    where: str  # the server, password redacted


@dataclass(frozen=True)
class IndexLocation:
    kind: str  # "file" or "database"
    where: str  # a directory, or "<redacted server> table <name>"
    size_bytes: int


def database_indexes(credentials=None, dsn: str | None = None) -> list[DbIndex]:
    """Every index recorded in the database (the embedded one when no DSN is configured)."""

    resolved = pg_server.resolve_dsn(dsn, credentials)
    where = pg_server.redact_dsn(pg_server.configured_dsn(dsn, credentials))
    with pg_server.get_pool(resolved).connection() as conn:
        rows = conn.execute(f"SELECT name, kind, table_name, dim, version, manifest::text FROM {META_TABLE} "
                            "ORDER BY name").fetchall()
    return [DbIndex(r[0], "pgvector" if r[1] == "exact" else "pgvector-hnsw", r[2], r[3], r[4], r[5], where)
            for r in rows]


def attach(directory: str | Path, name: str, credentials=None, dsn: str | None = None) -> Path:
    """Write a local index directory that points at the database index `name` (a second app
    instance opening an index another one built). Refuses to replace an existing directory."""

    directory = Path(directory)
    if directory.exists():
        raise StoreError(f"{directory} already exists: choose another local directory to attach {name} to")
    found = {d.name: d for d in database_indexes(credentials, dsn)}
    if name not in found or not found[name].manifest_json:
        raise StoreError(f"there is no index named {name!r} in the database; known: {', '.join(found) or '(none)'}")
    db = found[name]
    staging = directory.parent / f".attach-{uuid.uuid4().hex[:8]}"
    generation = staging / f"gen-{time.time_ns()}-{uuid.uuid4().hex[:6]}"
    generation.mkdir(parents=True)
    (generation / MANIFEST).write_text(db.manifest_json)
    (generation / POINTER_FILE).write_text(
        f'{{"format": 1, "index": {_json(name)}, "table": {_json(db.table)}, "server": {_json(db.where)}}}')
    (staging / CURRENT).write_text(generation.name + "\n")
    try:
        os.rename(staging, directory)
    except OSError as exc:
        import shutil

        shutil.rmtree(staging, ignore_errors=True)
        raise StoreError(f"could not attach {name} at {directory}: {exc}") from exc
    return directory


def _json(value: str) -> str:
    import json

    return json.dumps(value)


def drop(name: str, credentials=None, dsn: str | None = None) -> bool:
    """Remove a database index (its table and its manifest row); False if it was not there.
    Refused while another writer holds the index."""
    from psycopg import sql

    with pg_server.get_pool(pg_server.resolve_dsn(dsn, credentials)).connection() as conn, conn.transaction():
        if not conn.execute("SELECT pg_try_advisory_xact_lock(%s)", (lock_key(name),)).fetchone()[0]:
            raise StoreError(f"index {name} is being written right now; nothing was deleted: try again later")
        row = conn.execute(f"DELETE FROM {META_TABLE} WHERE name = %s RETURNING table_name", (name,)).fetchone()
        gone = row is not None
        for table in {table_name(name), *([row[0]] if row and row[0] else [])}:  # a replaced index has its own
            conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(table)))
    return bool(gone)


def pointed_name(directory: str | Path) -> str | None:
    """The database index a local index directory points at; None for a file index."""
    import json

    try:
        pointer = live_generation(directory) / POINTER_FILE
    except StoreError:
        return None
    if not pointer.is_file():
        return None
    try:
        return str(json.loads(pointer.read_text())["index"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise StoreError(f"unreadable pgvector pointer {pointer} ({exc}); rebuild or delete the index") from exc


def drop_pointed(directory: str | Path, credentials=None) -> bool:
    """Drop the database index a local pgvector index directory points at (False for a file index)."""
    name = pointed_name(directory)
    return drop(name, credentials) if name is not None else False


def location(directory: str | Path, store: str, credentials=None) -> IndexLocation:
    """Where an index lives and its size; a database that cannot be reached is reported, not raised."""
    directory = Path(directory)
    if not is_database(store):
        size = sum(p.stat().st_size for p in directory.rglob("*") if p.is_file())
        return IndexLocation("file", str(directory), size)
    import json

    where = pg_server.redact_dsn(pg_server.configured_dsn(None, credentials))
    try:
        table = json.loads((live_generation(directory) / POINTER_FILE).read_text())["table"]
        return IndexLocation("database", f"{where} table {table}", table_size(table, credentials))
    except (StoreError, OSError, ValueError, KeyError, TypeError) as exc:
        return IndexLocation("database", f"{where} (unreachable: {str(exc)[:160]})", 0)
