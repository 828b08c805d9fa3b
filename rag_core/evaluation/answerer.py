"""Measure when the offline (extractive) answerer should say "I don't know".

The answerer quotes sentences only when the best one's combined score (cosine + share of
question words) reaches a threshold. This module measures that threshold on questions with an
answer in the corpus and questions without one, so the number in extractive.MIN_SCORES is
measured, not guessed:

1. `load_answerer_questions` reads .jsonl rows `{"question", "relevant_sources", "answerable"}`
   (`answerable` defaults to true; unanswerable rows may have no sources).
2. `observe` retrieves top-k for each question once (`Retriever.retrieve`) and records the best
   sentence score, whether the question names something the hits never mention (then the answer
   is "I don't know" at any threshold), and whether a relevant source was retrieved.
3. `threshold_rows` sweeps thresholds over those scores: precision and recall of "I don't know"
   (positive = the corpus has no answer), and how often an answerable question still gets a
   cited answer. `choose_threshold` takes the best balanced accuracy.
4. `cited_rate` answers at one threshold and checks that the citations point at relevant hits.

Run it: `python -m rag_core.evaluation.answerer --index DIR --questions FILE [--questions FILE ...]
[--embedder local|hashing|none] [--top-k 5] [--json]` (build the index first, e.g.
`python -m rag_core demo --index /tmp/demo`). `python -m rag_core bench --answerer` does it all on the
demo's four bundled sets in one command (rag_core/bench/answerer.py).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np

from rag_core.core.errors import ConfigError, RagError
from rag_core.index.index import Index
from rag_core.llm.extractive import NOT_RELEVANT, ExtractiveAnswerer, unknown_names
from rag_core.core.paths import DATA_DIR
from rag_core.retrieval import Retriever
from rag_core.core.types import Embedder, Hit, RetrievalSettings
from rag_core.embeddings import DEFAULT_EMBEDDER, HashingEmbedder, create_embedder

OFF_CORPUS_QUESTIONS = DATA_DIR / "demo" / "questions_offcorpus.jsonl"
MAX_FILE_BYTES = 16 * 1024 * 1024
THRESHOLDS = tuple(round(0.025 * i, 3) for i in range(4, 33))  # 0.100 .. 0.800
_CITATION = re.compile(r"\[(\d{1,4})\]")
_CITED_KEYS = ("answered_when_retrieved", "first_citation_relevant", "all_citations_relevant")


@dataclass(frozen=True)
class AnswererQuestion:
    question: str
    relevant_sources: tuple[str, ...]
    answerable: bool
    #: which question set it came from (the file's stem), so each set is reported on its own
    set_name: str = ""


@dataclass(frozen=True)
class Observation:
    """One question's retrieval and the answerer's best sentence score on it."""

    question: AnswererQuestion
    hits: tuple[Hit, ...]
    best_score: float
    #: the question names something the hits never mention: "I don't know" at any threshold
    unknown_names: bool = False

    @property
    def retrieved_relevant(self) -> bool:
        return any(h.chunk.source in self.question.relevant_sources for h in self.hits)

    def says_idk(self, threshold: float) -> bool:
        return self.unknown_names or self.best_score < threshold


@dataclass(frozen=True)
class ThresholdRow:
    """At `threshold`: "I don't know" precision/recall (positive = no answer in the corpus),
    answered = share of answerable questions that still get a cited answer (and of those whose
    relevant source was retrieved)."""

    threshold: float
    idk_precision: float
    idk_recall: float
    answered: float
    answered_when_retrieved: float

    @property
    def balanced(self) -> float:
        return (self.idk_recall + self.answered) / 2


def load_answerer_questions(path: str | Path) -> tuple[AnswererQuestion, ...]:
    """Rows of a .jsonl question set, keeping `answerable` (missing: true)."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"no question set at {path}: check the path")
    if path.stat().st_size > MAX_FILE_BYTES:
        raise ConfigError(f"{path} is over {MAX_FILE_BYTES // 2**20} MB; split it")
    out = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            text, sources = row["question"], row.get("relevant_sources") or []
            answerable = bool(row.get("answerable", True))
        except (json.JSONDecodeError, KeyError, TypeError, AttributeError):
            raise ConfigError(f"{path} line {number}: expected an object with \"question\" (text), "
                              "\"relevant_sources\" (a list) and optionally \"answerable\"") from None
        if not isinstance(text, str) or not text.strip() or (answerable and not sources):
            raise ConfigError(f"{path} line {number}: an answerable question needs its text and "
                              "relevant_sources; mark it \"answerable\": false otherwise")
        out.append(AnswererQuestion(text.strip(), tuple(sources), answerable, path.stem))
    return tuple(out)


class MemoEmbedder:
    """Remembers vectors in memory: a sweep embeds each sentence once, however often it is scored."""

    def __init__(self, inner: Embedder) -> None:
        self.inner, self.name, self.dim = inner, inner.name, inner.dim
        self._memo: dict[str, np.ndarray] = {}
        self._queries: dict[str, np.ndarray] = {}

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        missing = list(dict.fromkeys(t for t in texts if t not in self._memo))
        if missing:
            for text, vec in zip(missing, self.inner.embed_documents(missing)):
                self._memo[text] = vec
        return np.stack([self._memo[t] for t in texts]) if texts else np.empty((0, self.dim), np.float32)

    def embed_query(self, text: str) -> np.ndarray:
        if text not in self._queries:
            self._queries[text] = self.inner.embed_query(text)
        return self._queries[text]

    def count_tokens(self, texts: Sequence[str]) -> int:
        return self.inner.count_tokens(texts)


def observe(index: Index, questions: Iterable[AnswererQuestion], answerer: ExtractiveAnswerer,
            top_k: int = 5) -> list[Observation]:
    """Retrieve once per question (dense top-k, as the chat does) and score its sentences."""
    retriever = Retriever(index)
    settings = RetrievalSettings(top_k=top_k)
    out = []
    for q in questions:
        hits = retriever.retrieve(q.question, settings).hits
        out.append(Observation(q, hits, answerer.best_score(q.question, hits), bool(unknown_names(q.question, hits))))
    return out


def _share(part: int, whole: int) -> float:
    return part / whole if whole else 0.0


def threshold_rows(observations: Sequence[Observation], thresholds: Iterable[float] = THRESHOLDS) -> list[ThresholdRow]:
    rows = []
    answerable = [o for o in observations if o.question.answerable]
    retrieved = [o for o in answerable if o.retrieved_relevant]
    missing = [o for o in observations if not o.question.answerable]
    for t in thresholds:
        idk = [o for o in observations if o.says_idk(t)]
        true_idk = sum(not o.question.answerable for o in idk)
        rows.append(ThresholdRow(
            threshold=t,
            idk_precision=_share(true_idk, len(idk)) if idk else 1.0,
            idk_recall=_share(true_idk, len(missing)),
            answered=_share(sum(not o.says_idk(t) for o in answerable), len(answerable)),
            answered_when_retrieved=_share(sum(not o.says_idk(t) for o in retrieved), len(retrieved)),
        ))
    return rows


def choose_threshold(rows: Sequence[ThresholdRow]) -> ThresholdRow:
    """Best balanced accuracy (mean of "I don't know" recall and answered share); ties: lower."""
    return max(rows, key=lambda r: (round(r.balanced, 6), -r.threshold))


def cited_rate(observations: Sequence[Observation], answerer: ExtractiveAnswerer) -> tuple[float, float, float]:
    """Over answerable questions whose relevant source was retrieved, answering at the answerer's
    threshold: (answered share, share of answers whose first citation is a relevant hit, share
    whose every citation is)."""
    pool = [o for o in observations if o.question.answerable and o.retrieved_relevant]
    answered = first_ok = all_ok = 0
    for o in pool:
        text = answerer.answer(o.question.question, o.hits)
        if text.startswith(NOT_RELEVANT):
            continue
        answered += 1
        cited = [int(n) for n in _CITATION.findall(text)]
        relevant = [o.hits[n - 1].chunk.source in o.question.relevant_sources for n in cited]
        first_ok += bool(relevant) and relevant[0]
        all_ok += bool(relevant) and all(relevant)
    return _share(answered, len(pool)), _share(first_ok, answered), _share(all_ok, answered)


def by_set(observations: Sequence[Observation], threshold: float) -> dict[str, dict[str, float]]:
    """Per question set at `threshold`: "I don't know" recall on its unanswerable questions and the
    answered share of its answerable ones (one set must not carry the other)."""
    out: dict[str, dict[str, float]] = {}
    for name in dict.fromkeys(o.question.set_name for o in observations):
        mine = [o for o in observations if o.question.set_name == name]
        missing = [o for o in mine if not o.question.answerable]
        answerable = [o for o in mine if o.question.answerable]
        out[name] = {"unanswerable": len(missing),
                     "idk_recall": _share(sum(o.says_idk(threshold) for o in missing), len(missing)),
                     "answerable": len(answerable),
                     "answered": _share(sum(not o.says_idk(threshold) for o in answerable), len(answerable))}
    return out


def answer_embedder(kind: str, index: Index) -> Embedder | None:
    """The answerer's embedder for a sweep: the index's own when it is the local one."""

    if kind == "none":
        return None
    if kind == "hashing":
        return HashingEmbedder()
    if kind != "local":
        raise ConfigError(f"--embedder must be local, hashing or none, not {kind!r}")
    return index.embedder if index.embedder.name == DEFAULT_EMBEDDER else create_embedder(DEFAULT_EMBEDDER)


def _idk_rates(observations: Sequence[Observation], threshold: float) -> tuple[float, float, float]:
    """("I don't know" precision, its recall, the answered share of answerable questions) at `threshold`."""
    row = threshold_rows(observations, [threshold])[0]
    return row.idk_precision, row.idk_recall, row.answered


def held_out(observations: Sequence[Observation], seed: int = 0, resamples: int = 2000) -> dict:
    """Choose the threshold on one half (seeded, split within answerable and unanswerable), and
    report "I don't know" precision and recall on the other half with 95% bootstrap CIs (the
    held-out questions resampled), so the figure is not the one the threshold was chosen on; and
    its cost, the share of answerable held-out questions still answered, with its CI too."""
    rng = np.random.default_rng(seed)
    halves: tuple[list, list] = ([], [])
    for answerable in (True, False):
        group = [o for o in observations if o.question.answerable == answerable]
        for n, i in enumerate(rng.permutation(len(group))):
            halves[n % 2].append(group[i])
    tune, test = halves
    chosen = choose_threshold(threshold_rows(tune))
    precision, recall, answered = _idk_rates(test, chosen.threshold)
    draws = np.array([_idk_rates([test[i] for i in rng.integers(0, len(test), len(test))], chosen.threshold)
                      for _ in range(resamples)])
    low, high = np.percentile(draws, [2.5, 97.5], axis=0)
    return {"seed": seed, "tuned_on": len(tune), "tested_on": len(test),
            "tested_unanswerable": sum(not o.question.answerable for o in test), "threshold": chosen.threshold,
            "idk_precision": round(precision, 3), "idk_precision_ci95": [round(float(low[0]), 3), round(float(high[0]), 3)],
            "idk_recall": round(recall, 3), "idk_recall_ci95": [round(float(low[1]), 3), round(float(high[1]), 3)],
            "answered": round(answered, 3), "answered_ci95": [round(float(low[2]), 3), round(float(high[2]), 3)]}


def report(index: Index, questions: Sequence[AnswererQuestion], embedder: Embedder | None,
           top_k: int = 5) -> dict:
    """The whole measurement: threshold table, the chosen threshold, and cited answers at it."""
    answerer = ExtractiveAnswerer(embedder=MemoEmbedder(embedder) if embedder is not None else None)
    observations = observe(index, questions, answerer, top_k)
    rows = threshold_rows(observations)
    chosen = choose_threshold(rows)
    at_chosen = cited_rate(observations, replace(answerer, min_score=chosen.threshold))
    at_default = cited_rate(observations, answerer)
    return {
        "embedder": embedder.name if embedder is not None else "none (words only)",
        "questions": len(questions),
        "answerable": sum(q.answerable for q in questions),
        "top_k": top_k,
        "rows": [dict(asdict(r), balanced=r.balanced) for r in rows],
        "chosen": dict(asdict(chosen), balanced=chosen.balanced),
        "at_chosen": dict(zip(_CITED_KEYS, at_chosen)),
        "default_threshold": answerer.threshold,
        "at_default": dict(zip(_CITED_KEYS, at_default)),
        "by_set_at_default": by_set(observations, answerer.threshold),
        "held_out": held_out(observations),
    }


def _table(out: dict) -> str:
    lines = [f"answerer embedder: {out['embedder']}; {out['questions']} questions "
             f"({out['answerable']} answerable), top-k {out['top_k']}",
             "threshold  idk_precision  idk_recall  answered  answered|retrieved  balanced"]
    for r in out["rows"]:
        mark = "  <- chosen" if r["threshold"] == out["chosen"]["threshold"] else ""
        lines.append(f"{r['threshold']:>9.3f}  {r['idk_precision']:>13.3f}  {r['idk_recall']:>10.3f}  "
                     f"{r['answered']:>8.3f}  {r['answered_when_retrieved']:>18.3f}  {r['balanced']:>8.3f}{mark}")
    for label, key, t in (("chosen", "at_chosen", out["chosen"]["threshold"]),
                          ("default", "at_default", out["default_threshold"])):
        c = out[key]
        lines.append(f"at {label} {t:.3f}: answered|retrieved {c['answered_when_retrieved']:.3f}; of those answers, "
                     f"first citation relevant {c['first_citation_relevant']:.3f}, all citations relevant "
                     f"{c['all_citations_relevant']:.3f}")
    for name, row in out["by_set_at_default"].items():
        lines.append(f"  {name}: idk recall {row['idk_recall']:.3f} of {row['unanswerable']} unanswerable, "
                     f"answered {row['answered']:.3f} of {row['answerable']} answerable")
    h = out["held_out"]
    lines.append(f"held out (threshold {h['threshold']:.3f} chosen on {h['tuned_on']} questions, tested on the other "
                 f"{h['tested_on']}, {h['tested_unanswerable']} unanswerable): idk precision {h['idk_precision']:.3f} "
                 f"{h['idk_precision_ci95']}, idk recall {h['idk_recall']:.3f} {h['idk_recall_ci95']}, answerable still "
                 f"answered {h['answered']:.3f} {h['answered_ci95']} (95% bootstrap CIs)")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m rag_core.evaluation.answerer", description=__doc__.split("\n\n")[0])
    parser.add_argument("--index", required=True, help="index directory (e.g. built by `python -m rag_core demo`)")
    parser.add_argument("--questions", action="append", help=".jsonl question set(s); repeatable "
                        f"(default: the bundled off-corpus set {OFF_CORPUS_QUESTIONS.name} only)")
    parser.add_argument("--embedder", default="local", help="the answerer's embedder: local, hashing or none")
    parser.add_argument("--top-k", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    try:
        questions = tuple(q for path in (args.questions or [OFF_CORPUS_QUESTIONS])
                          for q in load_answerer_questions(path))
        index = Index.open(args.index)
        out = report(index, questions, answer_embedder(args.embedder, index), args.top_k)
    except RagError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(out, indent=2) if args.json else _table(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
