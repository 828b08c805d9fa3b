"""`python -m rag_core bench --answerer`: when the offline answerer says "I don't know", measured in one
command on questions the threshold was not chosen on.

It builds the demo index (MiniLM, FAISS, default chunking; the embedding cache makes a rebuild quick)
in a temporary folder, or opens `--index`, and observes every question of the four bundled sets once
(DEMO_SETS: 182 answerable, 104 unanswerable). Then, with evaluate_answerer.held_out:
- seed 0: the threshold chosen on one seeded half (best balanced accuracy), and "I don't know"
  precision and recall with 95% bootstrap CIs on the other half (the README's figures);
- `seeds` splits: how often each threshold is chosen and the spread of the held-out figures, so one
  lucky split is not mistaken for the answer;
- per set, at the answerer's threshold and at the old 0.325 (chosen on all of an older set).
"""

from __future__ import annotations

import statistics
import sys
import tempfile
from collections import Counter
from pathlib import Path

from rag_core.embeddings import DEFAULT_EMBEDDER, create_embedder
from rag_core.evaluation.answerer import (MemoEmbedder, answer_embedder, by_set, held_out, load_answerer_questions,
                                observe)
from rag_core.index.index import Index
from rag_core.llm.extractive import ExtractiveAnswerer
from rag_core.core.paths import DATA_DIR
from rag_core.core.types import ChunkingConfig
from rag_core.ingest.demo import demo_documents

DEMO_SETS = tuple(DATA_DIR / "demo" / name for name in (
    "questions.jsonl", "questions_hard.jsonl", "questions_offcorpus.jsonl", "questions_unanswerable_2026.jsonl"))
OLD_THRESHOLD = 0.325


def demo_index(root: Path) -> Index:
    index = Index.create(root / "demo", create_embedder(DEFAULT_EMBEDDER), "faiss", ChunkingConfig())
    index.ingest(demo_documents())
    index.save()
    return index


def _spread(values: list[float]) -> list[float]:
    """[min, median, max], 3 decimals."""
    return [round(min(values), 3), round(statistics.median(values), 3), round(max(values), 3)]


def _rounded(sets: dict[str, dict[str, float]]) -> dict[str, dict[str, float]]:
    return {name: {k: round(v, 3) for k, v in row.items()} for name, row in sets.items()}


def run(index_dir: str | None = None, seeds: int = 20, progress: bool = True) -> dict:
    log = (lambda *a: print(*a, file=sys.stderr, flush=True)) if progress else (lambda *a: None)
    questions = tuple(q for path in DEMO_SETS for q in load_answerer_questions(path))
    with tempfile.TemporaryDirectory(prefix="rag-idk-") as root:
        log("opening the index ..." if index_dir else "building the demo index ...")
        index = Index.open(index_dir) if index_dir else demo_index(Path(root))
        answerer = ExtractiveAnswerer(embedder=MemoEmbedder(answer_embedder("local", index)))
        log(f"answering {len(questions)} questions ...")
        observations = observe(index, questions, answerer)
    splits = [held_out(observations, seed=s, resamples=1000 if s else 2000) for s in range(seeds)]
    return {
        "index": index_dir or "the demo (built here)",
        "questions": len(questions), "unanswerable": sum(not q.answerable for q in questions),
        "answerer_threshold": answerer.threshold,
        "held_out_seed_0": splits[0],
        f"over_{seeds}_splits": {
            "threshold_chosen": {f"{t:.3f}": n for t, n in sorted(Counter(s["threshold"] for s in splits).items())},
            "idk_precision_min_median_max": _spread([s["idk_precision"] for s in splits]),
            "idk_recall_min_median_max": _spread([s["idk_recall"] for s in splits]),
            "answered_min_median_max": _spread([s["answered"] for s in splits]),
        },
        "by_set_at_threshold": _rounded(by_set(observations, answerer.threshold)),
        f"by_set_at_{OLD_THRESHOLD}": _rounded(by_set(observations, OLD_THRESHOLD)),
    }


__all__ = ["DEMO_SETS", "OLD_THRESHOLD", "demo_index", "run"]
