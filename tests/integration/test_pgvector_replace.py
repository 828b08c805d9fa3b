"""`ingest --replace` and experiments on pgvector (issue 16, item 13: "an index named ... already
exists"): the new table is swapped in when the index is saved and the old one dropped in the
same transaction; replacing a pgvector index with a file store drops its table and row. Nothing
is left orphaned in the database."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import psycopg
from helpers import FACTS, write_fact_docs

ROOT = Path(__file__).resolve().parents[2]


def _cli(*args, dsn):
    return subprocess.run([sys.executable, "-m", "rag_core", *args], cwd=ROOT, capture_output=True, text=True,
                          env=dict(os.environ, PYTHONPATH=str(ROOT), RAG_PG_DSN=dsn), timeout=240)


def _tables(dsn: str, name: str) -> tuple[set[str], list]:
    """Every rag_ table in the database, and the catalog row of index `name`."""
    with psycopg.connect(dsn) as conn:
        tables = {r[0] for r in conn.execute("SELECT tablename FROM pg_tables WHERE tablename LIKE 'rag\\_%'")}
        row = conn.execute("SELECT table_name, version FROM rag_indexes WHERE name = %s", (name,)).fetchall()
    return tables, row


def test_ingest_replace_on_pgvector_swaps_the_table_and_drops_the_old(pg_dsn, tmp_path):
    docs = write_fact_docs(tmp_path / "docs")
    name = f"rep-{uuid.uuid4().hex[:8]}"
    index = tmp_path / name
    common = (str(docs), "--index", str(index), "--embedder", "hashing", "--quiet", "--json")
    first = _cli("ingest", *common, "--store", "pgvector", "--chunk-size", "400", "--chunk-overlap", "40", dsn=pg_dsn)
    assert first.returncode == 0, first.stderr
    before, (row,) = _tables(pg_dsn, name)
    old_table = row[0]
    again = _cli("ingest", *common, "--store", "pgvector-hnsw", "--chunk-size", "120", "--chunk-overlap", "10",
                 "--replace", dsn=pg_dsn)
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["replaced_index"] is True
    after, (row,) = _tables(pg_dsn, name)
    assert row[0] != old_table and old_table not in after and row[0] in after
    assert len(after) == len(before)  # one table out, one in: nothing orphaned
    query = _cli("query", "--index", str(index), "What is the capital of Kenya?", "--json", "--retriever", "dense",
                 dsn=pg_dsn)
    assert query.returncode == 0, query.stderr
    assert json.loads(query.stdout)["hits"][0]["source"].endswith("kenya.md")
    info = json.loads(_cli("info", "--index", str(index), "--json", dsn=pg_dsn).stdout)
    assert info["store"] == "pgvector-hnsw" and info["chunking"]["size"] == 120

    to_file = _cli("ingest", *common, "--store", "faiss", "--replace", dsn=pg_dsn)
    assert to_file.returncode == 0, to_file.stderr
    final, rows = _tables(pg_dsn, name)
    assert rows == [] and row[0] not in final  # the database index is gone with its table


def test_an_experiment_on_pgvector_rebuilds_its_variants(pg_dsn, tmp_path):
    docs = write_fact_docs(tmp_path / "docs")
    questions = tmp_path / "q.jsonl"
    questions.write_text("\n".join(json.dumps({"question": f"About {Path(n).stem}?", "relevant_sources": [n]})
                                   for n in FACTS) + "\n")
    base = f"exp{uuid.uuid4().hex[:6]}"
    args = ("experiment", str(docs), "--base", base, "--chunking", "recursive-80-10,recursive-200-20",
            "--embedder", "hashing", "--store", "pgvector", "--root", str(tmp_path / "idx"), "--quiet",
            "--min-words", "0", "--min-chars", "0", "--questions", str(questions))
    assert _cli(*args, dsn=pg_dsn).returncode == 0
    (docs / "kenya.md").write_text("# kenya\n\nNairobi is the capital of Kenya, on the Athi plains.\n")
    rebuilt = _cli(*args, dsn=pg_dsn)  # its own variants, rebuilt in place on the database
    assert rebuilt.returncode == 0, rebuilt.stderr
