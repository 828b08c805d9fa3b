"""`info`: an index's manifest (with --sources, what question sets can name); without --index,
the saved indexes under RAG_PLAYGROUND_INDEXES (default ./indexes), as the app lists them."""

from __future__ import annotations

import argparse
import dataclasses

from rag_core.cli.common import add_json, print_out
from rag_core.index import saved
from rag_core.index.index import read_manifest


def _catalog(as_json: bool) -> dict:
    """The app's catalog of saved indexes (rag_core.index.saved); a damaged one shows its problem."""

    rows = []
    for s in saved.list_indexes():
        m = s.manifest
        if as_json:
            rows.append({"name": s.name, "directory": str(s.directory), "embedder": m.embedder if m else None,
                         "store": m.store if m else None, "chunks": m.n_chunks if m else None, "problem": s.problem})
        else:
            rows.append(f"{s.name}: " + (f"{m.n_chunks} chunks, {m.embedder}, {m.store}" if m else s.problem))
    return {"root": str(saved.root()), "indexes": rows}


def cmd_info(args: argparse.Namespace) -> int:
    if args.index is None:
        print_out(_catalog(args.json), args.json)
        return 0
    manifest = read_manifest(args.index)
    out = dataclasses.asdict(manifest)
    out["chunking"] = dataclasses.asdict(manifest.chunking)
    out["n_sources"] = len(manifest.sources)
    if not args.json:
        out.pop("sources")
        if args.sources:  # what question sets' relevant_sources can name
            out["sources"] = sorted(manifest.sources)
    print_out(out, args.json)
    return 0


def add_info(p: argparse.ArgumentParser) -> None:
    p.add_argument("--index", help="index directory (default: list the saved indexes under RAG_PLAYGROUND_INDEXES, "
                   "default ./indexes)")
    p.add_argument("--sources", action="store_true", help="list the index's sources (what relevant_sources name)")
    add_json(p)
    p.set_defaults(func=cmd_info)
