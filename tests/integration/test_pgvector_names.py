"""A non-UTF-8 index directory name on pgvector (issue 16, item 19: exit 1, UnicodeEncodeError).
Its bytes are stored as \\xNN: printable, stable, and the index works like any other."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

from helpers import FACTS

from rag_core.stores.pgvector_store import check_index_name, table_name

ROOT = Path(__file__).resolve().parents[2]


def test_a_non_utf8_name_maps_to_a_printable_stable_one():
    raw = os.fsdecode(b"caf\xe9-docs")
    assert check_index_name(raw) == "caf\\xe9-docs" == check_index_name(raw)
    assert table_name(check_index_name(raw)).startswith("rag_caf_xe9_docs_")


def test_cli_ingest_and_query_into_a_non_utf8_directory(pg_dsn, tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    for name, text in FACTS.items():
        (docs / name).write_text(f"# {Path(name).stem}\n\n{text}\n")
    index = os.fsencode(tmp_path) + b"/idx-" + uuid.uuid4().hex[:6].encode() + b"-\xe9\xff"
    env = dict(os.environ, PYTHONPATH=str(ROOT), RAG_PG_DSN=pg_dsn)

    def cli(*args):
        return subprocess.run([os.fsencode(sys.executable), b"-m", b"rag_core", *args], capture_output=True,
                              env=env, timeout=240, cwd=ROOT)

    out = cli(b"ingest", os.fsencode(docs), b"--index", index, b"--embedder", b"hashing", b"--store", b"pgvector",
              b"--json", b"--quiet")
    assert out.returncode == 0, out.stderr.decode(errors="replace")[-800:]
    out = cli(b"query", b"--index", index, b"What is the capital of Kenya?", b"--json", b"--retriever", b"dense")
    assert out.returncode == 0, out.stderr.decode(errors="replace")[-800:]
    assert json.loads(out.stdout)["hits"][0]["source"].endswith("kenya.md")
