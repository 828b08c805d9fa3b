"""The CLI as a user runs it: a subprocess, exit codes, one-line errors, JSON shape."""

import json
import os
from pathlib import Path

import pytest
from helpers import FACTS, run_cli, write_fact_docs

ROOT = Path(__file__).resolve().parents[2]


run = run_cli


@pytest.fixture
def docs(tmp_path):
    return write_fact_docs(tmp_path / "docs")


def test_every_command_has_help():
    for command in ("demo", "ingest", "query", "info", "estimate", "bench"):
        assert "usage:" in run(command, "--help").stdout


def test_ingest_query_info_round_trip(tmp_path, docs):
    index = tmp_path / "idx"
    out = run("ingest", str(docs), "--index", str(index), "--embedder", "hashing", "--chunk-size", "400",
              "--chunk-overlap", "40", "--json", "--quiet")
    report = json.loads(out.stdout)
    assert report["files_ingested"] == 4 and report["chunks_total"] >= 4

    out = run("query", "--index", str(index), "What is the capital of Kenya?", "--json", "--top-k", "2")
    payload = json.loads(out.stdout)
    assert set(payload) == {"answer", "hits", "prompt", "usage"}
    hit = payload["hits"][0]
    assert set(hit) >= {"rank", "score", "score_kind", "source", "section", "text", "chunk_id"}
    assert hit["source"].endswith("kenya.md") and hit["score_kind"] == "hybrid z-score"
    assert set(payload["usage"]) == {"embedding_tokens", "prompt_tokens", "completion_tokens", "cost_usd",
                                     "cost_model", "latency_ms", "stages"}
    assert payload["usage"]["cost_usd"] > 0 and "Nairobi" in payload["answer"]

    info = json.loads(run("info", "--index", str(index), "--json").stdout)
    assert info["chunking"]["size"] == 400 and info["n_chunks"] == report["chunks_total"]

    again = json.loads(run("ingest", str(docs), "--index", str(index), "--json", "--quiet").stdout)
    assert again["unchanged"] == 4 and again["chunks_added"] == 0


def test_bad_input_is_one_line_without_traceback(tmp_path, docs):
    cases = [
        ("query", "--index", str(tmp_path / "missing"), "hello"),
        ("ingest", str(tmp_path / "nope"), "--index", str(tmp_path / "i")),
        ("ingest", str(docs), "--index", str(tmp_path / "i"), "--embedder", "nosuch"),
        ("ingest", str(docs), "--index", str(tmp_path / "i"), "--embedder", "hashing", "--chunk-size", "10",
         "--chunk-overlap", "20"),
    ]
    for args in cases:
        result = run(*args, "--quiet", check=False)
        assert result.returncode == 2, (args, result.stderr)
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
        assert "Traceback" not in result.stderr


def test_skipped_files_are_reported_and_the_rest_ingested(tmp_path, docs):
    (docs / "empty.txt").write_text("")
    (docs / "binary.txt").write_bytes(b"\x00\x01\x02" * 100)
    out = json.loads(run("ingest", str(docs), "--index", str(tmp_path / "i"), "--embedder", "hashing", "--json",
                         "--quiet").stdout)
    assert out["files_ingested"] == 4
    skipped = " ".join(out["files_skipped"])
    assert "empty.txt" in skipped and "binary.txt" in skipped


def test_estimate_prices_a_hosted_ingest_before_spending(docs):
    out = json.loads(run("estimate", str(docs), "--model", "openai:text-embedding-3-small", "--json").stdout)
    assert out["tokens"] > 0 and out["cost_usd"] > 0 and out["model"] == "openai:text-embedding-3-small"


def test_an_unexpected_failure_is_still_one_line(monkeypatch, capsys):
    from rag_core import cli
    from rag_core.cli import info  # the CLI imports a command's module only when it runs

    def broken(args):
        raise RuntimeError("boom")

    monkeypatch.setattr(info, "cmd_info", broken)
    monkeypatch.delenv("RAG_DEBUG", raising=False)
    assert cli.main(["info", "--index", "x"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: unexpected RuntimeError: boom") and "RAG_DEBUG=1" in err[0]


def test_ingest_same_folder_by_two_spellings_is_unchanged(tmp_path, docs):
    index = tmp_path / "idx"
    relative = os.path.relpath(docs, ROOT)  # run() works in ROOT: the same folder, spelled another way
    first = json.loads(run("ingest", str(docs), "--index", str(index), "--embedder", "hashing", "--json",
                           "--quiet").stdout)
    again = json.loads(run("ingest", relative, "--index", str(index), "--embedder", "hashing", "--json",
                           "--quiet").stdout)
    assert first["files_ingested"] == again["unchanged"] == len(FACTS)
    assert again["chunks_total"] == first["chunks_total"] and again["chunks_added"] == 0
    info = json.loads(run("info", "--index", str(index), "--json").stdout)
    assert info["n_chunks"] == first["chunks_total"]


def test_non_finite_numeric_options_exit_2_with_one_line(tmp_path, docs):
    """issue 9: `--max-file-mb nan`, `--threshold nan`, `--timeout inf`, `--top-k 0` were accepted or crashed."""
    index = str(tmp_path / "idx")
    cases = [
        ("ingest", str(docs), "--index", index, "--embedder", "hashing", "--max-file-mb", "nan"),
        ("ingest", str(docs), "--index", index, "--embedder", "hashing", "--max-total-mb", "inf"),
        ("query", "capital of Kenya", "--index", index, "--threshold", "nan"),
        ("query", "capital of Kenya", "--index", index, "--top-k", "0"),
        ("crawl", "http://127.0.0.1:9/", "--index", index, "--timeout", "inf"),
        ("crawl", "http://127.0.0.1:9/", "--index", index, "--delay", "-1"),
        ("eval", "--index", index, "--threshold", "none,nan"),
        ("estimate", str(docs), "--chunk-size", "0"),
    ]
    for args in cases:
        result = run(*args, "--quiet", check=False)
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        assert result.returncode == 2, (args, result.stderr)
        assert len(lines) == 1 and lines[0].startswith("error: --") and " must be " in lines[0], (args, result.stderr)


def test_a_tampered_index_is_exit_2_not_exit_1(tmp_path, docs):
    """issue 9: a deeply nested manifest and a binary CURRENT were exit 1 ("unexpected ...")."""
    index = tmp_path / "idx"
    run("ingest", str(docs), "--index", str(index), "--embedder", "hashing", "--quiet")
    generation = index / (index / "CURRENT").read_text().strip()
    (generation / "manifest.json").write_text("[" * 100_000 + "]" * 100_000)
    for tamper in ("manifest", "current"):
        if tamper == "current":
            (index / "CURRENT").write_bytes(b"\x89PNG\r\n\x1a\n\x00\xff" * 10)
        result = run("query", "capital of Kenya", "--index", str(index), check=False)
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        assert result.returncode == 2 and len(lines) == 1 and "unexpected" not in lines[0], result.stderr


def test_estimate_counts_what_ingest_embeds(tmp_path, docs):
    """Same loaders, limits, content filter and chunking: estimate's chunks are ingest's chunks."""
    (docs / "short.md").write_text("# Short\n\nToo few words.\n")  # dropped by the content filter
    (docs / "table.csv").write_text("title,body\nRow,"
                                    + "a long enough cell of text for the filter to keep it as a row " * 3 + "\n")
    (docs / "big.txt").write_text("word " * 3000)  # over --max-file-mb below
    flags = ["--chunk-size", "300", "--chunk-overlap", "30", "--max-file-mb", "0.01", "--json", "--quiet"]
    estimate = json.loads(run("estimate", str(docs), "--model", "openai:text-embedding-3-small", *flags).stdout)
    index = tmp_path / "idx"
    ingest = json.loads(run("ingest", str(docs), "--index", str(index), "--embedder", "hashing", *flags).stdout)
    assert estimate["n_texts"] == estimate["chunks"] == ingest["chunks_added"]
    assert estimate["rows_loaded"] == ingest["rows_loaded"] and estimate["rows_dropped_by_filter"] == \
        ingest["rows_dropped_by_filter"]
    assert estimate["files_skipped"] == ingest["files_skipped"] and any("big.txt" in s for s in ingest["files_skipped"])
    from rag_core import costs
    from rag_core.index.index import Index

    texts = [c.text for c in Index.open(index).store.chunks()]
    assert estimate["tokens"] == costs.estimate_ingest_cost(texts, "openai:text-embedding-3-small").tokens
    again = json.loads(run("estimate", str(docs), "--index", str(index), "--max-file-mb", "0.01", "--json",
                           "--quiet").stdout)
    assert again["chunks"] == 0  # nothing new for that index: nothing to pay
