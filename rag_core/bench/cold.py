"""Cold start of the CLI (issue 20 part 3), as ratios measured in one run: every figure is the
median wall time of a fresh `python` process, the sides interleaved round by round so a busy
shared machine slows them alike.

- query: `python -m rag_core query --index <demo> "<question>"` (hybrid, the offline answerer,
  costs printed) / a process that only opens the same index, readies its embedder (one query
  embedded: the ONNX session) and loads its BM25. Target: at most 2.
- help: `python -m rag_core --help`, seconds (target under 0.5 s), and its ratio to a bare
  `python -c pass`.
- first query: the same query once with the tokenizer rank cache emptied (informational).

The demo index is built by the CLI itself into a throwaway home (`RAG_PLAYGROUND_HOME` of the
child processes only), so the person's caches are neither used nor touched.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable, Mapping, Sequence

from rag_core.core.errors import ConfigError

TARGETS = {"query_to_load_ratio": "<= 2", "help_s": "< 0.5"}
QUESTION = "What is the capital of Kenya?"
#: what the query needs before it can answer, and nothing else: the baseline side of the ratio
LOAD_ONLY = (
    "import sys\n"
    "from rag_core.index.index import Index\n"
    "index = Index.open(sys.argv[1])\n"
    "index.embedder.embed_query('warm up the session')\n"
    "index.bm25\n"
)
_ROOT = Path(__file__).resolve().parent.parent  # the checkout the children import rag_core from
_TIMEOUT_S = 300


def _child_env(environ: Mapping[str, str], home: Path) -> dict[str, str]:
    """The caller's environment with a throwaway home, and this checkout first on the path."""
    path = [str(_ROOT), *([environ["PYTHONPATH"]] if environ.get("PYTHONPATH") else [])]
    return {**environ, "RAG_PLAYGROUND_HOME": str(home), "PYTHONPATH": ":".join(path)}


def _median(values: Sequence[float]) -> float:
    """The middle value (statistics.median would add decimal and fractions to every CLI start)."""
    ordered, mid = sorted(values), len(values) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def _run(argv: Sequence[str], env: Mapping[str, str]) -> float:
    """Wall seconds of one child process; a failure is a ConfigError with the child's last line."""
    t0 = time.perf_counter()
    done = subprocess.run([sys.executable, *argv], env=dict(env), capture_output=True, text=True,
                          timeout=_TIMEOUT_S, check=False)
    seconds = time.perf_counter() - t0
    if done.returncode != 0:
        tail = (done.stderr.strip().splitlines() or ["(no output)"])[-1]
        raise ConfigError(f"the cold-start bench's `{' '.join(argv[:4])}` exited {done.returncode}: {tail}")
    return seconds


def cold_start_figures(environ: Mapping[str, str], rounds: int = 5, index: Path | None = None,
                       log: Callable[[str], None] = lambda _: None) -> dict:
    """Build the demo index with the CLI (unless `index` names one to read), then time the four
    kinds of fresh process."""
    with tempfile.TemporaryDirectory(prefix="rag-cold-") as tmp:
        home = Path(tmp) / "home"
        env = _child_env(environ, home)
        built = index is None
        if built:
            index = Path(tmp) / "demo"
            log("building the demo index with the CLI")
            _run(["-m", "rag_core", "demo", "--index", str(index)], env)
        index = Path(index).resolve()
        sides: dict[str, list[str]] = {
            "python_startup": ["-c", "pass"],
            "help": ["-m", "rag_core", "--help"],
            "load_only": ["-c", LOAD_ONLY, str(index)],
            "query": ["-m", "rag_core", "query", "--index", str(index), QUESTION],
        }
        shutil.rmtree(home / "tiktoken", ignore_errors=True)
        first_query = _run(sides["query"], env)  # rebuilds whatever the tokenizer caches
        times: dict[str, list[float]] = {name: [] for name in sides}
        names = list(sides)
        for r in range(rounds):
            for name in names[r % len(names):] + names[: r % len(names)]:
                times[name].append(_run(sides[name], env))
            log(f"round {r + 1}: " + ", ".join(f"{n} {t[-1]:.2f}s" for n, t in times.items()))
    med = {name: _median(t) for name, t in times.items()}
    return {
        "targets": TARGETS,
        "rounds": rounds,
        "question": QUESTION,
        "index": "the demo, built in this run" if built else str(index),
        "median_s": {name: round(s, 3) for name, s in med.items()},
        "query_first_with_empty_rank_cache_s": round(first_query, 3),
        "query_to_load_ratio": round(med["query"] / med["load_only"], 3),
        "help_s": round(med["help"], 3),
        "help_to_python_startup_ratio": round(med["help"] / med["python_startup"], 2),
    }
