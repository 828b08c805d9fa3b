"""`snapshots` and `sessions`: the operator's view of a shared server's state under the playground
home (RAG_PLAYGROUND_HOME, default ~/.cache/rag-playground): list and delete snapshots, and
remove expired browser sessions (or all of them)."""

from __future__ import annotations

import argparse
import dataclasses
import shutil

from rag_core.core import paths
from rag_core.core.errors import ConfigError
from rag_core.room.store import SessionStore, SnapshotStore
from rag_core.cli.common import add_json, print_out


def cmd_snapshots(args: argparse.Namespace) -> int:
    store = SnapshotStore(paths.home() / "snapshots")
    if args.action == "list":
        rows = store.list()
        if args.json:
            print_out({"root": str(store.root), "snapshots": [dataclasses.asdict(r) for r in rows]}, True)
        else:
            print_out({"root": str(store.root), "snapshots": [
                f"{r.id}  {r.taken_at}  {r.kind}  {r.bytes:,} B  index {r.index} ({r.generation})  {r.title[:60]}"
                for r in rows]}, False)
        return 0
    if not args.ids:
        raise ConfigError("name the snapshot id(s) to delete (python -m rag_core snapshots list shows them)")
    for snapshot_id in args.ids:
        if not store.delete(snapshot_id):
            raise ConfigError(f"there is no snapshot {snapshot_id!r} under {store.root}")
        print(f"deleted {snapshot_id}")
    return 0


def cmd_sessions(args: argparse.Namespace) -> int:
    root = paths.home() / "sessions"
    if args.action == "clear":
        shutil.rmtree(root, ignore_errors=True)
        print(f"removed every kept session under {root}")
        return 0
    print(f"removed {SessionStore(root).sweep()} expired session(s) under {root}")
    return 0


def add_snapshots(p: argparse.ArgumentParser) -> None:
    p.add_argument("action", choices=("list", "delete"))
    p.add_argument("ids", nargs="*", help="snapshot id(s) to delete")
    add_json(p)
    p.set_defaults(func=cmd_snapshots)


def add_sessions(p: argparse.ArgumentParser) -> None:
    p.add_argument("action", choices=("sweep", "clear"))
    p.set_defaults(func=cmd_sessions)
