"""The catalog of saved indexes: where they live (`RAG_PLAYGROUND_INDEXES`, default ./indexes,
one directory per index), listing, renaming and deleting them. Shared by the app and the CLI.

The demo index is `<root>/demo`. Names are restricted to a safe set of characters so a typed
name can never point outside the root.
"""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from rag_core.index import index as rindex
from rag_core.core.errors import ConfigError, RagError
from rag_core.core.types import IndexManifest
from rag_core.index.saved_pg import attach, database_indexes, pointed_name
from rag_core.core.settings import current
from rag_core.stores.pg_server import configured_dsn
from rag_core.index.saved_pg import drop_pointed

DEMO_NAME = "demo"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


def root() -> Path:
    path = Path(current().get("RAG_PLAYGROUND_INDEXES") or "indexes").resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


def check_name(name: str) -> str:
    name = name.strip()
    if not _NAME.match(name) or name in (".", ".."):
        raise ConfigError(f"index name {name!r} is not allowed: use 1-64 letters, digits, '.', '_' or '-', "
                          "starting with a letter or digit")
    return name


def index_dir(name: str) -> Path:
    return root() / check_name(name)


@dataclass(frozen=True)
class SavedIndex:
    name: str
    directory: Path
    manifest: IndexManifest | None
    problem: str = ""
    error: RagError | None = None  # the problem as data (kind, values): the app words it without the path


def list_indexes() -> list[SavedIndex]:
    """Every index under the root, demo first; a damaged one is listed with its problem."""
    found = []
    for child in sorted(root().iterdir()):
        if not child.is_dir() or not rindex.exists(child):
            continue
        try:
            found.append(SavedIndex(child.name, child, rindex.read_manifest(child)))
        except RagError as exc:
            found.append(SavedIndex(child.name, child, None, str(exc), exc))
    found.sort(key=lambda s: (s.name != DEMO_NAME, s.name))
    return found


def attach_database_indexes(credentials=None) -> list[str]:
    """With a PostgreSQL DSN configured, indexes another app instance built there appear here too:
    each gets a local pointer directory (named like the index). Returns the names attached now."""

    if not configured_dsn(None, credentials):
        return []  # the embedded server: its indexes were built from this machine's index root
    here = {pointed_name(s.directory) for s in list_indexes()}  # a renamed pointer still counts
    attached = []
    for db in database_indexes(credentials):
        if db.name not in here and _NAME.match(db.name) and db.manifest_json and not (root() / db.name).exists():
            attach(root() / db.name, db.name, credentials)
            attached.append(db.name)
    return attached


def index_names() -> list[str]:
    return [s.name for s in list_indexes() if s.manifest is not None]


def generation(directory: Path) -> str:
    """Changes on every save: the cache key that makes a rebuilt index reload."""
    return rindex.live_generation(directory).name


def rename_index(old: str, new: str) -> None:
    src, dst = index_dir(old), index_dir(new)
    if not rindex.exists(src):
        raise ConfigError(f"there is no index named {old!r}")
    if dst.exists():
        raise ConfigError(f"an index named {new!r} already exists: choose another name")
    os.rename(src, dst)


def delete_index(name: str, credentials=None) -> None:
    """Remove the index; one that lives in PostgreSQL is dropped there too (for every app instance)."""
    path = index_dir(name)
    if not rindex.exists(path):
        raise ConfigError(f"there is no index named {name!r}")

    drop_pointed(path, credentials)
    shutil.rmtree(path)
