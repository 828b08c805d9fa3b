"""`ingest --replace` and the `experiment` subcommand, run as a user runs them (a subprocess)."""

from __future__ import annotations

import json

import pytest
from helpers import FACTS, run_cli, write_fact_docs

QUESTIONS = ("question,relevant_sources\n"
             "What is the capital of Kenya?,kenya.md\n"
             "Which is the capital of Japan with Mount Fuji?,japan.md\n"
             "How do green plants use sunlight and chlorophyll?,photosynthesis.md\n"
             "Who developed the theory of relativity?,einstein.md\n")


run = run_cli


@pytest.fixture
def docs(tmp_path):
    return write_fact_docs(tmp_path / "docs")


def test_ingest_with_other_chunking_is_refused_unless_replace(tmp_path, docs):
    index = tmp_path / "idx"
    common = (str(docs), "--index", str(index), "--embedder", "hashing", "--store", "numpy", "--quiet", "--json")
    run("ingest", *common, "--chunk-size", "400", "--chunk-overlap", "40")
    refused = run("ingest", *common, "--chunk-size", "120", "--chunk-overlap", "10", check=False)
    assert refused.returncode == 2 and "--replace" in refused.stderr
    replaced = json.loads(run("ingest", *common, "--chunk-size", "120", "--chunk-overlap", "10", "--replace").stdout)
    assert replaced["added"] == len(FACTS) and replaced["replaced_index"] is True
    info = json.loads(run("info", "--index", str(index), "--json").stdout)
    assert "120" in json.dumps(info)


def test_experiment_builds_variants_and_prints_the_grid(tmp_path, docs):
    questions = tmp_path / "q.csv"
    questions.write_text(QUESTIONS)
    root = tmp_path / "indexes"
    args = ("experiment", str(docs), "--base", "facts", "--chunking", "recursive-80-10,recursive-200-20",
            "--embedder", "hashing", "--store", "numpy", "--root", str(root), "--questions", str(questions),
            "--top-k", "1,3", "--reranker", "none,bm25", "--quiet", "--min-words", "0", "--min-chars", "0")
    out = json.loads(run(*args, "--json").stdout)
    assert len(out["results"]) == 8  # 2 chunkings x 2 top-k x 2 rerankers
    assert {r["index"] for r in out["results"]} == {"facts--recursive-80-10", "facts--recursive-200-20"}
    assert out["best"]["index"] in {"facts--recursive-80-10", "facts--recursive-200-20"}
    assert (root / "facts--recursive-80-10" / "CURRENT").exists()
    text = run(*args).stdout
    assert "reused: facts--recursive-80-10, facts--recursive-200-20" in text and "best (by MRR)" in text


def test_experiment_bad_chunking_is_one_error_line(tmp_path, docs):
    bad = run("experiment", str(docs), "--base", "facts", "--chunking", "recursive-big-10", "--embedder", "hashing",
              "--root", str(tmp_path), check=False)
    assert bad.returncode == 2 and bad.stderr.strip().startswith("error:") and "whole numbers" in bad.stderr


def test_experiment_never_silently_replaces_an_unrelated_index(tmp_path, docs):
    """Issue 16 item 9: `mine--recursive-500-50`, built by hand from other files, was replaced by
    an experiment with `--base mine` (exit 0, no question asked)."""
    root = tmp_path / "indexes"
    mine = tmp_path / "mine"
    mine.mkdir()
    for n in range(30):
        (mine / f"note{n}.md").write_text(f"# Note {n}\n\nThe harbour log entry {n} records ships and tides.\n")
    run("ingest", str(mine), "--index", str(root / "mine--recursive-500-50"), "--embedder", "hashing", "--store",
        "numpy", "--chunk-size", "500", "--chunk-overlap", "50", "--quiet", "--min-words", "0", "--min-chars", "0")
    before = (root / "mine--recursive-500-50" / "CURRENT").read_text()
    questions = tmp_path / "q.csv"
    questions.write_text(QUESTIONS)
    args = ("experiment", str(docs), "--base", "mine", "--chunking", "recursive-500-50,recursive-200-20",
            "--embedder", "hashing", "--store", "numpy", "--root", str(root), "--quiet", "--min-words", "0",
            "--min-chars", "0", "--questions", str(questions))
    refused = run(*args, check=False)
    assert refused.returncode == 2, refused.stderr
    assert "was not built by an experiment (it holds 30 source(s))" in refused.stderr and "--replace" in refused.stderr
    assert (root / "mine--recursive-500-50" / "CURRENT").read_text() == before
    assert not (root / "mine--recursive-200-20").exists()  # refused before building anything
    run(*args, "--replace")
    info = json.loads(run("info", "--index", str(root / "mine--recursive-500-50"), "--json").stdout)
    assert sorted(info["sources"]) == sorted(FACTS)  # replaced, because it was asked


def test_an_experiment_rebuilds_its_own_variant_when_the_documents_change(tmp_path, docs):
    root = tmp_path / "indexes"
    questions = tmp_path / "q.csv"
    questions.write_text(QUESTIONS)
    args = ("experiment", str(docs), "--base", "facts", "--chunking", "recursive-80-10,recursive-200-20",
            "--embedder", "hashing", "--store", "numpy", "--root", str(root), "--quiet", "--min-words", "0",
            "--min-chars", "0", "--questions", str(questions))
    run(*args)
    (docs / "kenya.md").write_text("# kenya\n\nNairobi is the capital of Kenya, on the Athi plains.\n")
    out = run(*args)  # the same sources, one edited: its own variants, rebuilt without asking
    assert "reused:" not in out.stdout
    other = tmp_path / "other"
    other.mkdir()
    (other / "x.md").write_text("# x\n\nA different corpus entirely, about harbours and tides.\n")
    refused = run("experiment", str(other), *args[2:], check=False)
    assert refused.returncode == 2 and "from other documents" in refused.stderr


def test_an_experiment_does_not_rebuild_its_variant_after_an_ingest_into_it(tmp_path, docs):
    """Issue 16 item 9: a variant the experiment built, then ingested into by hand (30 more files),
    is someone's index now: the next run is refused (exit 2) and it keeps all 34 sources."""
    root = tmp_path / "indexes"
    questions = tmp_path / "q.csv"
    questions.write_text(QUESTIONS)
    args = ("experiment", str(docs), "--base", "mine", "--chunking", "recursive-500-50,recursive-200-20",
            "--embedder", "hashing", "--store", "numpy", "--root", str(root), "--quiet", "--min-words", "0",
            "--min-chars", "0", "--questions", str(questions))
    run(*args)
    notes = tmp_path / "notes"
    notes.mkdir()
    for n in range(30):
        (notes / f"note{n}.md").write_text(f"# Note {n}\n\nThe harbour log entry {n} records ships and tides.\n")
    run("ingest", str(notes), "--index", str(root / "mine--recursive-500-50"), "--quiet", "--min-words", "0",
        "--min-chars", "0")
    (docs / "kenya.md").write_text("# kenya\n\nNairobi is the capital of Kenya, on the Athi plains.\n")
    refused = run(*args, check=False)
    assert refused.returncode == 2, refused.stderr
    assert "changed since an experiment built it" in refused.stderr and "--replace" in refused.stderr
    info = json.loads(run("info", "--index", str(root / "mine--recursive-500-50"), "--json").stdout)
    assert len(info["sources"]) == len(FACTS) + 30
