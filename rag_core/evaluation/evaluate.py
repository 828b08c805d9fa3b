"""Measure retrieval settings against a question set, so tuning is measured, not guessed.

Read it in four parts:

1. A `QuestionSet` is questions, each with the sources (file paths or URLs) whose chunks answer
   it. `load_question_set` reads .jsonl, .json or .csv; `demo_question_set()` is the bundled set
   for the demo corpus, `demo_hard_question_set()` the paraphrased one. A question with no answer
   in the corpus has no sources and `"answerable": false`: it is run, but left out of the metrics.
2. Metrics on one ranked list of hits, with binary relevance: a hit is relevant when its chunk's
   source is one of the question's relevant sources. Hits are deduplicated by source, so a
   relevant source counts once (a second chunk of it earns nothing, but still takes its slot).
   hit@k (any relevant source in the top k), recall@k (share of the relevant sources found),
   MRR (1 / rank of the first relevant hit, 0 if none in the top k) and nDCG@k.
3. `evaluate` runs every question through the `Retriever` (retrieval only, no answerer)
   with one `RetrievalSettings`, and averages the metrics; k is `settings.top_k`.
4. `sweep` tries a grid of settings (top-k x reranker x threshold) on one index;
   `compare_indexes` tries the same settings on several indexes (different chunking or
   embedders need different indexes). Both return one `EvalResult` per row.

Latency: `latency_ms` is search + rerank per question (what these settings change);
`embed_ms` is the query embedding, measured once per index before a sweep so that every row
of one index shows the same cost. A vector served by the embedder's query cache costs nothing
and is not a measurement: `embed_cached` counts those, `embed_ms` averages the others only, and
`embed_text` says "cached" when there were no others (never a misleading 0).
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import math
import time
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from rag_core.core.errors import ConfigError
from rag_core.index.index import Index
from rag_core.ingest.loaders.sources import match_sources
from rag_core.core.paths import DATA_DIR
from rag_core.retrieval import Retriever
from rag_core.evaluation.significance import ALPHA, Difference, questions_needed
from rag_core.evaluation.significance import compare as compare_paired
from rag_core.core.types import Hit, Reranker, RetrievalSettings
from rag_core.retrieval.labels import retriever_label, setting_label
from rag_core.rerank import create_reranker
from rag_core.rerank import canonical_reranker

ProgressFn = Callable[[int, int, str], None]
DEMO_QUESTIONS = DATA_DIR / "demo" / "questions.jsonl"
#: paraphrased questions (no title words) incl. some the corpus cannot answer: settings differ on it
DEMO_HARD_QUESTIONS = DATA_DIR / "demo" / "questions_hard.jsonl"
SUFFIXES = (".jsonl", ".json", ".csv")
SOURCE_SEPARATOR = "|"
#: bounds on an untrusted question set: its bytes, its questions, one question's length. A
#: question is a search query (embedded, BM25-scored): 10 MB of it took 46 s for one question.
MAX_QUESTION_SET_BYTES = 16 * 1024 * 1024
MAX_QUESTIONS = 20_000
MAX_QUESTION_CHARS = 4_000
#: the metrics every result carries, in table order, with a short label for tables and charts
METRICS = {"hit_rate": "hit@k", "recall": "recall@k", "mrr": "MRR", "ndcg": "nDCG@k"}
_FORMAT_HELP = (
    'each question needs "question" (text) and "relevant_sources" (the source paths or URLs '
    'that answer it: a list in JSON, or separated by "|" in CSV)'
)


# ---- question sets -----------------------------------------------------------------------------


@dataclass(frozen=True)
class EvalQuestion:
    """A question, and the sources (Document.source) whose chunks count as a correct hit.
    No sources: the corpus has no answer (retrieval metrics skip it; an answerer should say
    "I don't know")."""

    question: str
    relevant_sources: tuple[str, ...]

    @property
    def answerable(self) -> bool:
        return bool(self.relevant_sources)


@dataclass(frozen=True)
class QuestionSet:
    name: str
    questions: tuple[EvalQuestion, ...]

    def __len__(self) -> int:
        return len(self.questions)

    @property
    def sources(self) -> set[str]:
        return {s for q in self.questions for s in q.relevant_sources}


def _question(raw: Any, where: str) -> EvalQuestion:
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{where}: expected an object with question and relevant_sources, "
                          f"got {type(raw).__name__}; {_FORMAT_HELP}")
    missing = [k for k in ("question", "relevant_sources") if k not in raw]
    if missing:
        raise ConfigError(f"{where}: missing {' and '.join(missing)}; {_FORMAT_HELP}")
    text = raw["question"]
    if not isinstance(text, str):
        raise ConfigError(f"{where}: the question must be text, not {type(text).__name__}; write it in quotes")
    if not text.strip():
        raise ConfigError(f"{where}: the question is empty; write the question text, or delete the entry")
    if len(text) > MAX_QUESTION_CHARS:
        raise ConfigError(f"{where}: the question is {len(text)} characters long, over the limit of "
                          f"{MAX_QUESTION_CHARS}; write it as a short question")
    sources = raw["relevant_sources"]
    if isinstance(sources, str):
        sources = sources.split(SOURCE_SEPARATOR)
    if not isinstance(sources, (list, tuple)) or not all(isinstance(s, str) for s in sources):
        raise ConfigError(f"{where}: relevant_sources must be a list of strings (or one string "
                          f'separated by "|"), not {sources!r}')
    cleaned = tuple(dict.fromkeys(s.strip() for s in sources if s.strip()))
    if not cleaned and raw.get("answerable") is False:
        return EvalQuestion(text.strip(), ())  # no answer in the corpus: kept for "I don't know"
    if not cleaned:
        raise ConfigError(f"{where}: no relevant_sources for {text.strip()[:60]!r}; list the source "
                          "path(s) or URL(s) whose chunks answer it (as shown in the hits on Chat), "
                          'or mark a question the corpus cannot answer with "answerable": false')
    return EvalQuestion(text.strip(), cleaned)


_TOO_DEEP = ("JSON nested too deeply to be a question set; each question is one flat object like "
             '{"question": "...", "relevant_sources": ["..."]}')


def _rows_jsonl(text: str, label: str) -> Iterator[tuple[Any, str]]:
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"{label} line {number} is not valid JSON ({exc.msg}); each line must be one "
                              'object like {"question": "...", "relevant_sources": ["..."]}') from None
        except RecursionError:
            raise ConfigError(f"{label} line {number}: {_TOO_DEEP}") from None
        yield row, f"{label} line {number}"


def _rows_json(text: str, label: str) -> Iterator[tuple[Any, str]]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{label} is not valid JSON ({exc.msg} at line {exc.lineno}); fix it, or use "
                          ".jsonl with one question object per line") from None
    except RecursionError:
        raise ConfigError(f"{label}: {_TOO_DEEP}") from None
    if isinstance(data, Mapping) and isinstance(data.get("questions"), list):
        data = data["questions"]
    if not isinstance(data, list):
        raise ConfigError(f'{label}: expected a list of question objects (or {{"questions": [...]}}); '
                          f"{_FORMAT_HELP}")
    for number, raw in enumerate(data, start=1):
        yield raw, f"{label} question {number}"


def _rows_csv(text: str, label: str) -> Iterator[tuple[Any, str]]:
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip() for h in (reader.fieldnames or [])]
    reader.fieldnames = header
    missing = [c for c in ("question", "relevant_sources") if c not in header]
    if missing:
        raise ConfigError(f"{label}: the header has no {' or '.join(missing)} column (found: "
                          f"{', '.join(header) or 'nothing'}); the first row must name the columns "
                          'question,relevant_sources, with sources separated by "|"')
    for number, row in _csv_rows(reader, label):
        if not any((v or "").strip() for v in row.values() if isinstance(v, str)):
            continue
        yield {"question": row.get("question") or "", "relevant_sources": row.get("relevant_sources") or ""}, \
            f"{label} row {number}"


def _csv_rows(reader: csv.DictReader, label: str) -> Iterator[tuple[int, dict]]:
    """Numbered rows; a malformed row (a cell over csv's field limit, a NUL) is a ConfigError."""
    number = 1
    try:
        for number, row in enumerate(reader, start=2):
            yield number, row
    except csv.Error as exc:
        raise ConfigError(f"{label} row {number + 1} is not valid CSV ({exc}); check its quoting, or use "
                          ".jsonl with one question object per line") from None


_READERS = {".jsonl": _rows_jsonl, ".json": _rows_json, ".csv": _rows_csv}


def parse_question_set(text: str | bytes, filename: str, name: str | None = None) -> QuestionSet:
    """A question set from file contents (an upload); the format comes from `filename`'s suffix."""
    suffix = Path(filename).suffix.lower()
    if suffix not in _READERS:
        raise ConfigError(f"{filename}: unsupported question-set format {suffix or '(no suffix)'!r}; "
                          f"use one of {', '.join(SUFFIXES)}")
    if len(text) > MAX_QUESTION_SET_BYTES:
        raise ConfigError(f"{filename} is over {MAX_QUESTION_SET_BYTES // 1024 // 1024} MB: too large for a question "
                          "set; split it into smaller sets")
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise ConfigError(f"{filename} is not UTF-8 text; save it as UTF-8 and try again") from None
    text = text.lstrip("\ufeff")
    questions = []
    for raw, where in _READERS[suffix](text, filename):
        if len(questions) == MAX_QUESTIONS:
            raise ConfigError(f"{filename} has more than {MAX_QUESTIONS} questions; split it into smaller sets")
        questions.append(_question(raw, where))
    if not questions:
        raise ConfigError(f"{filename} has no questions; {_FORMAT_HELP}")
    return QuestionSet(name or Path(filename).stem, tuple(questions))


def load_question_set(path: str | Path, name: str | None = None) -> QuestionSet:
    """Read a .jsonl, .json or .csv question set (see `parse_question_set`)."""
    path = Path(path)
    if path.suffix.lower() not in _READERS:
        raise ConfigError(f"{path}: unsupported question-set format {path.suffix or '(no suffix)'!r}; "
                          f"use one of {', '.join(SUFFIXES)}")
    if not path.is_file():
        raise ConfigError(f"no question set at {path}: check the path")
    try:
        with path.open("rb") as handle:  # is_file: a regular file, so the read ends
            data = handle.read(MAX_QUESTION_SET_BYTES + 1)
    except OSError as exc:
        raise ConfigError(f"could not read the question set {path} ({exc.strerror or exc}); check its permissions") \
            from None
    if len(data) > MAX_QUESTION_SET_BYTES:
        raise ConfigError(f"{path.name} is over {MAX_QUESTION_SET_BYTES // 1024 // 1024} MB: too large for a question "
                          "set; split it into smaller sets")
    return parse_question_set(data, path.name, name or path.stem)


def demo_question_set() -> QuestionSet:
    """48 questions about the bundled demo corpus, each answered by named Wikipedia summaries."""
    return load_question_set(DEMO_QUESTIONS, name="demo questions")


def demo_hard_question_set() -> QuestionSet:
    """The harder demo set: worded without the articles' titles or rare words, plus questions the
    demo corpus cannot answer (for the answerer's "I don't know")."""
    return load_question_set(DEMO_HARD_QUESTIONS, name="demo questions (hard)")


#: the bundled question sets by the name the CLI and the app use
BUNDLED_SETS: dict[str, Callable[[], QuestionSet]] = {"demo": demo_question_set, "demo-hard": demo_hard_question_set}


def bundled_question_set(name: str) -> QuestionSet:
    """A bundled set by name (`demo`, `demo-hard`); an unknown name lists the known ones."""
    if name not in BUNDLED_SETS:
        raise ConfigError(f"no bundled question set {name!r}; known: {', '.join(BUNDLED_SETS)} "
                          "(or give the path of a .jsonl, .json or .csv file)")
    return BUNDLED_SETS[name]()


def question_set_from(spec: str | None) -> QuestionSet:
    """A bundled set by name (`demo`, `demo-hard`), else a file path; None is the demo set."""
    if not spec:
        return demo_question_set()
    return bundled_question_set(spec) if spec in BUNDLED_SETS else load_question_set(spec)


# ---- metrics -----------------------------------------------------------------------------------


def relevance_gains(sources: Sequence[str], relevant: Collection[str]) -> list[int]:
    """1 at each rank whose source is relevant and not seen at an earlier rank, else 0."""
    seen: set[str] = set()
    gains = []
    for source in sources:
        gains.append(1 if source in relevant and source not in seen else 0)
        seen.add(source)
    return gains


def hit_at_k(sources: Sequence[str], relevant: Collection[str], k: int) -> float:
    return 1.0 if any(relevance_gains(sources[:k], relevant)) else 0.0


def recall_at_k(sources: Sequence[str], relevant: Collection[str], k: int) -> float:
    relevant = set(relevant)
    if not relevant:
        return 0.0
    return sum(relevance_gains(sources[:k], relevant)) / len(relevant)


def reciprocal_rank(sources: Sequence[str], relevant: Collection[str], k: int | None = None) -> float:
    for rank, gain in enumerate(relevance_gains(sources[:k], relevant), start=1):
        if gain:
            return 1.0 / rank
    return 0.0


def ndcg_at_k(sources: Sequence[str], relevant: Collection[str], k: int) -> float:
    """Binary-gain nDCG: DCG of the deduplicated gains over the ideal (all relevant first)."""
    relevant = set(relevant)
    if not relevant or k < 1:
        return 0.0
    dcg = sum(g / math.log2(rank + 1) for rank, g in enumerate(relevance_gains(sources[:k], relevant), start=1))
    ideal = sum(1.0 / math.log2(rank + 1) for rank in range(1, min(len(relevant), k) + 1))
    return dcg / ideal


# ---- evaluation --------------------------------------------------------------------------------


@dataclass(frozen=True)
class QuestionResult:
    """One question under one setting: its hits, metrics, and where the first relevant hit was."""

    question: str
    relevant_sources: tuple[str, ...]
    hits: tuple[Hit, ...]
    hit: float
    recall: float
    reciprocal_rank: float
    ndcg: float
    latency_ms: float
    embed_ms: float
    #: hits that ranked in the top k but fell under the score threshold (not returned)
    below_threshold: tuple[Hit, ...] = ()

    @property
    def first_relevant_rank(self) -> int | None:
        return round(1 / self.reciprocal_rank) if self.reciprocal_rank else None

    def is_relevant(self, hit: Hit) -> bool:
        return hit.chunk.source in self.relevant_sources


@dataclass(frozen=True)
class EvalResult:
    """Mean metrics of one setting on one index over a question set, plus every question's row."""

    index: str
    question_set: str
    settings: RetrievalSettings
    questions: tuple[QuestionResult, ...]
    hit_rate: float
    recall: float
    mrr: float
    ndcg: float
    latency_ms: float
    embed_ms: float
    #: relevant sources named by the question set that this index does not contain
    missing_sources: tuple[str, ...] = ()
    #: questions whose query vector came from the embedder's cache when embed_ms was measured
    embed_cached: int = 0

    @property
    def embed_text(self) -> str:
        """The query-embedding time as a person should read it: ms, or "cached"."""
        if self.embed_cached and self.embed_cached >= len(self.questions):
            return "cached"
        text = f"{self.embed_ms:.2f}"
        return f"{text} ({self.embed_cached} cached)" if self.embed_cached else text

    @property
    def k(self) -> int:
        return self.settings.top_k

    @property
    def label(self) -> str:
        return setting_label(self.settings)

    @property
    def misses(self) -> tuple[QuestionResult, ...]:
        return tuple(q for q in self.questions if q.relevant_sources and not q.hit)

    @property
    def no_answer(self) -> int:
        """Questions with no answer in the corpus: run, but not in the retrieval metrics."""
        return sum(1 for q in self.questions if not q.relevant_sources)

    def row(self) -> dict[str, Any]:
        s = self.settings
        return {
            "index": self.index,
            "setting": self.label,
            "retriever": retriever_label(s),
            "top_k": s.top_k,
            "reranker": s.reranker or "none",
            "threshold": s.score_threshold,
            "hit@k": round(self.hit_rate, 4),
            "recall@k": round(self.recall, 4),
            "MRR": round(self.mrr, 4),
            "nDCG@k": round(self.ndcg, 4),
            "latency_ms": round(self.latency_ms, 2),
            "embed_ms": round(self.embed_ms, 2),
            **({"embed_cached": self.embed_cached} if self.embed_cached else {}),
            "questions": len(self.questions),
            "misses": len(self.misses),
            **({"no_answer": self.no_answer} if self.no_answer else {}),
        }


def _mean(values: Iterable[float]) -> float:
    values = list(values)
    return sum(values) / len(values) if values else 0.0


def _index_name(index: Index) -> str:
    return index.directory.name or str(index.directory)


def check_coverage(index: Index, question_set: QuestionSet) -> tuple[str, ...]:
    """The question set's sources missing from the index; an error if none of them is there
    (every question would miss: the set was written for another corpus). Sources match as
    `match_sources` says ("faq.md" names "docs/faq.md" when nothing else fits)."""
    known = set(index.manifest.sources) or {c.source for c in index.store.chunks()}
    matched = match_sources(question_set.sources, known)
    missing = matched.missing(question_set.sources)
    if missing and len(missing) == len(question_set.sources):
        sample = ", ".join(missing[:3])
        have = ", ".join(sorted(known)[:5]) + (", …" if len(known) > 5 else "")
        unclear = next(iter(matched.ambiguous.items()), None)
        hint = (f"; {unclear[0]!r} fits {len(unclear[1])} sources ({', '.join(unclear[1][:3])}): write more of "
                "its path" if unclear else "")
        raise ConfigError(
            f"none of the {len(missing)} relevant sources of question set {question_set.name!r} is in index "
            f"{_index_name(index)!r} (e.g. {sample}): the questions were written for another corpus? "
            f"The index has {len(known)} sources, e.g. {have}{hint}. "
            "Choose the index they were written for, or name this index's sources in relevant_sources",
            kind="unknown_sources", index=_index_name(index)
        )
    return missing


def resolve_sources(index: Index, question_set: QuestionSet) -> QuestionSet:
    """The set with each relevant source renamed to the index source it names (`match_sources`),
    so one question set scores an index built from uploads, a folder or an older absolute path."""
    known = set(index.manifest.sources) or {c.source for c in index.store.chunks()}
    found = match_sources(question_set.sources, known).found
    return QuestionSet(question_set.name, tuple(
        EvalQuestion(q.question, tuple(dict.fromkeys(found.get(s, s) for s in q.relevant_sources)))
        for q in question_set.questions))


def _resolve_reranker(settings: RetrievalSettings, reranker: Reranker | None, credentials: object) -> Reranker | None:
    if reranker is not None or not settings.reranker:
        return reranker

    return create_reranker(settings.reranker, credentials=credentials)


def evaluate(
    index: Index,
    question_set: QuestionSet,
    settings: RetrievalSettings,
    reranker: Reranker | None = None,
    progress: ProgressFn | None = None,
    *,
    credentials: object = None,
    index_name: str | None = None,
    embed_ms: float | None = None,
    search_cache: dict | None = None, rewriter: object = None,
) -> EvalResult:
    """Retrieve for every question with `settings` and score the hits at k = settings.top_k.

    `reranker` defaults to the one `settings.reranker` names. `embed_ms`, when given (a sweep
    measures it once per index), replaces the per-run query-embedding time. `search_cache`
    (shared by a sweep's settings on one index): each question's dense search runs once.
    `rewriter` (a QueryRewriter) is required when `settings.rewrite` is on (a model call per question)."""
    if not question_set.questions:
        raise ConfigError(f"question set {question_set.name!r} has no questions")
    missing = check_coverage(index, question_set)
    question_set = resolve_sources(index, question_set)
    retriever = Retriever(index, _resolve_reranker(settings, reranker, credentials), search_cache=search_cache)
    k = settings.top_k
    rows = []
    total = len(question_set.questions)
    if progress:
        progress(0, total, "")
    for done, q in enumerate(question_set.questions, start=1):
        retrieval = retriever.retrieve(q.question, settings, rewriter if settings.rewrite else None)
        sources = [h.chunk.source for h in retrieval.hits]
        stages = retrieval.latency_ms
        rows.append(QuestionResult(
            question=q.question,
            relevant_sources=q.relevant_sources,
            hits=retrieval.hits,
            hit=hit_at_k(sources, q.relevant_sources, k),
            recall=recall_at_k(sources, q.relevant_sources, k),
            reciprocal_rank=reciprocal_rank(sources, q.relevant_sources, k),
            ndcg=ndcg_at_k(sources, q.relevant_sources, k),
            latency_ms=sum(v for stage, v in stages.items() if stage != "embed_query"),
            embed_ms=stages.get("embed_query", 0.0),
            below_threshold=retrieval.below_threshold,
        ))
        if progress:
            progress(done, total, q.question)
    scored = [r for r in rows if r.relevant_sources]
    return EvalResult(
        index=index_name or _index_name(index),
        question_set=question_set.name,
        settings=settings,
        questions=tuple(rows),
        hit_rate=_mean(r.hit for r in scored),
        recall=_mean(r.recall for r in scored),
        mrr=_mean(r.reciprocal_rank for r in scored),
        ndcg=_mean(r.ndcg for r in scored),
        latency_ms=_mean(r.latency_ms for r in rows),
        embed_ms=_mean(r.embed_ms for r in rows) if embed_ms is None else embed_ms,
        missing_sources=missing,
    )


def settings_grid(
    top_ks: Sequence[int] = (5,),
    rerankers: Sequence[str | None] = (None,),
    thresholds: Sequence[float | None] = (None,),
    *,
    retrievers: Sequence[str] | None = None,
    fusions: Sequence[str] | None = None,
    alphas: Sequence[float] | None = None,
    base: RetrievalSettings = RetrievalSettings(),
) -> list[RetrievalSettings]:
    """Every combination, in (retriever, fusion, alpha, reranker, threshold, top-k) order; "none"
    means no reranker. `base` gives the other retrieval settings (rrf k, depth, MMR, neighbours);
    a fusion or alpha that does not apply to a mode (alpha for rrf, fusion for dense) is not repeated."""

    if not top_ks or not rerankers or not thresholds:
        raise ConfigError("the settings grid is empty: choose at least one top-k, reranker and threshold")
    bad = [k for k in top_ks if int(k) < 1]
    if bad:
        raise ConfigError(f"top-k must be at least 1, not {bad[0]}")
    names = [canonical_reranker(r) for r in rerankers]
    methods = dict.fromkeys(
        (mode, fusion if mode == "hybrid" else base.fusion,
         alpha if mode == "hybrid" and fusion == "weighted" else base.alpha)
        for mode in (retrievers or (base.mode,)) for fusion in (fusions or (base.fusion,))
        for alpha in (alphas or (base.alpha,)))
    return [
        replace(base, top_k=int(k), score_threshold=t, reranker=r, mode=m, fusion=f, alpha=float(a))
        for m, f, a in methods
        for r in dict.fromkeys(names)
        for t in dict.fromkeys(thresholds)
        for k in sorted(dict.fromkeys(int(k) for k in top_ks))
    ]


def warm_up(index: Index, question_set: QuestionSet) -> float:
    """Embed every question once (the embedder's query cache keeps them); mean ms per question."""
    return measure_query_embedding(index, question_set)[0]


def measure_query_embedding(index: Index, question_set: QuestionSet) -> tuple[float, int]:
    """Embed every question once (warming the query cache for the sweep): the mean ms over the
    questions really embedded, and how many came from the cache instead (an embedder without
    cache stats counts none as cached)."""
    stats = getattr(index.embedder, "stats", None)
    cached = 0
    spent, embedded = 0.0, 0
    for q in question_set.questions:
        hits_before = getattr(stats, "query_hits", 0)
        started = time.perf_counter()
        index.embedder.embed_query(q.question)
        elapsed = (time.perf_counter() - started) * 1000.0
        if getattr(stats, "query_hits", 0) > hits_before:
            cached += 1
        else:
            spent, embedded = spent + elapsed, embedded + 1
    return (spent / embedded if embedded else 0.0), cached


def _run_all(jobs: list[tuple[str, Index, RetrievalSettings]], question_set: QuestionSet,
             progress: ProgressFn | None, credentials: object, rewriter: object = None) -> list[EvalResult]:
    # every reranker name and every index is checked before the first question is asked
    rerankers = {s.reranker or "none": _resolve_reranker(s, None, credentials) for _, _, s in jobs}
    for name, index, _ in jobs:
        check_coverage(index, question_set)
    embed: dict[str, tuple[float, int]] = {}
    caches: dict[str, dict] = {}
    per = len(question_set.questions)
    total = per * len(jobs)
    results = []
    for n, (name, index, settings) in enumerate(jobs):
        if name not in embed:
            embed[name] = measure_query_embedding(index, question_set)
        key = settings.reranker or "none"

        def step(done: int, _total: int, _label: str, base: int = n * per,
                 what: str = f"{name} · {setting_label(settings)}") -> None:
            if progress:
                progress(base + done, total, what)

        result = evaluate(index, question_set, settings, rerankers[key], step, index_name=name,
                          embed_ms=embed[name][0], search_cache=caches.setdefault(name, {}), rewriter=rewriter)
        results.append(dataclasses.replace(result, embed_cached=embed[name][1]))
    return results


def sweep(
    index: Index,
    question_set: QuestionSet,
    settings: Sequence[RetrievalSettings] | None = None,
    *,
    top_ks: Sequence[int] = (1, 3, 5, 10),
    rerankers: Sequence[str | None] = (None,),
    thresholds: Sequence[float | None] = (None,),
    progress: ProgressFn | None = None,
    credentials: object = None,
    index_name: str | None = None,
) -> list[EvalResult]:
    """One EvalResult per setting on one index: `settings`, or the grid of top_ks x rerankers x
    thresholds. Progress counts questions over the whole sweep."""
    grid = list(settings) if settings is not None else settings_grid(top_ks, rerankers, thresholds)
    if not grid:
        raise ConfigError("no settings to evaluate: choose at least one")
    name = index_name or _index_name(index)
    return _run_all([(name, index, s) for s in grid], question_set, progress, credentials)


def compare_indexes(
    indexes: Mapping[str, Index],
    question_set: QuestionSet,
    settings: RetrievalSettings | Sequence[RetrievalSettings],
    *,
    progress: ProgressFn | None = None,
    credentials: object = None,
    rewriter: object = None,
) -> list[EvalResult]:
    """The same setting(s) on several indexes (e.g. chunking or embedder variants of one corpus):
    one EvalResult per (index, setting), labelled with the index's name."""
    if not indexes:
        raise ConfigError("choose at least one index to evaluate")
    grid = [settings] if isinstance(settings, RetrievalSettings) else list(settings)
    if not grid:
        raise ConfigError("no settings to evaluate: choose at least one")
    jobs = [(name, index, s) for name, index in indexes.items() for s in grid]
    return _run_all(jobs, question_set, progress, credentials, rewriter)


def best(results: Sequence[EvalResult], metric: str = "mrr") -> EvalResult:
    """The best row by `metric` (hit_rate, recall, mrr or ndcg); ties go to the other metrics,
    then to the earliest row (a grid lists smaller k, no reranker and no threshold first), so
    latency noise never decides."""
    if metric not in METRICS:
        raise ConfigError(f"unknown metric {metric!r}; known: {', '.join(METRICS)}")
    if not results:
        raise ConfigError("no results to compare")
    others = [m for m in METRICS if m != metric]
    return max(results, key=lambda r: (getattr(r, metric), *(getattr(r, m) for m in others)))


#: metric -> the per-question value it is the mean of
PER_QUESTION = {"hit_rate": "hit", "recall": "recall", "mrr": "reciprocal_rank", "ndcg": "ndcg"}


def per_question(result: EvalResult, metric: str = "mrr") -> tuple[list[str], list[float]]:
    """The scored questions (those with an answer in the corpus) and each one's `metric` value."""
    scored = [q for q in result.questions if q.relevant_sources]
    return [q.question for q in scored], [float(getattr(q, PER_QUESTION[metric])) for q in scored]


#: the metrics `eval --json` compares with the best row in `vs_best_by_metric`
COMPARED_METRICS = ("mrr", "hit_rate", "ndcg")
#: the difference `questions_to_resolve` sizes a question set for, and the power it assumes
RESOLVE_EFFECT, RESOLVE_POWER = 0.02, 0.8


def against_best(results: Sequence[EvalResult], metric: str = "mrr", seed: int = 0,
                 by: str | None = None) -> list[Difference | None]:
    """Each row's paired difference in `metric` to the best row by `by` (default: `metric`), as
    row - best, with its bootstrap CI and randomisation p-value; None for the best row itself and
    for a row evaluated on other questions."""
    top = best(results, by or metric)
    keys, base = per_question(top, metric)
    out: list[Difference | None] = []
    for r in results:
        questions, values = per_question(r, metric)
        out.append(None if r is top or questions != keys or not values else compare_paired(values, base, seed=seed))
    return out


def questions_to_resolve(results: Sequence[EvalResult], differences: Sequence[Difference | None],
                         metric: str = "mrr", effect: float = RESOLVE_EFFECT) -> int | None:
    """How many questions would resolve a difference of `effect` (two-sided, at significance.ALPHA,
    with RESOLVE_POWER = 80% power) at the variance seen here: the median SD of the rows' paired
    differences to the best, in the normal approximation of `significance.questions_needed`."""
    top = best(results, metric)
    _, base = per_question(top, metric)
    sds = [float(np.std(np.asarray(per_question(r, metric)[1]) - base, ddof=1))
           for r, d in zip(results, differences) if d is not None and d.n > 1]
    return questions_needed(float(np.median(sds)), effect, RESOLVE_POWER) if sds else None


def resolve_json(needed: int | None) -> dict[str, Any]:
    """What `questions_to_resolve` assumed, with its answer (None: no variance to go on)."""
    return {"difference": RESOLVE_EFFECT, "alpha": ALPHA, "power": RESOLVE_POWER, "questions": needed}


def vs_best_json(results: Sequence[EvalResult], metric: str = "mrr", by: str | None = None,
                 differences: Sequence[Difference | None] | None = None) -> list[dict[str, Any]]:
    """Each row's `vs_best` object (difference_to_json) against the best row by `by` (default:
    `metric`); a row that is not the best but was scored on other questions says `compared: false`."""
    top = best(results, by or metric)
    diffs = against_best(results, metric, by=by) if differences is None else differences
    return [difference_to_json(d, metric) if d is not None or r is top
            else {"metric": metric, "is_best": False, "compared": False} for r, d in zip(results, diffs)]


def vs_best_by_metric(results: Sequence[EvalResult], by: str = "mrr",
                      metrics: Sequence[str] = COMPARED_METRICS) -> list[dict[str, dict[str, Any]]]:
    """Per row, {metric: vs_best object} for each of `metrics`, all against the one best row by `by`."""
    per = {m: vs_best_json(results, m, by=by) for m in metrics}
    return [{m: per[m][i] for m in metrics} for i in range(len(results))]


def results_rows(results: Sequence[EvalResult]) -> list[dict[str, Any]]:
    return [r.row() for r in results]


def difference_to_json(difference: Difference | None, metric: str = "mrr") -> dict[str, Any]:
    """The `vs_best` object of `eval --json`: null fields for the best row itself."""
    if difference is None:
        return {"metric": metric, "is_best": True}
    return {"metric": metric, "is_best": False, "difference": round(difference.mean, 4),
            "ci95": [round(difference.low, 4), round(difference.high, 4)], "p_value": round(difference.p_value, 4),
            "questions": difference.n, "tied_with_best": not difference.resolved}


def result_to_json(result: EvalResult, per_question: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = result.row()
    out["question_set"] = result.question_set
    out["embed"] = result.embed_text
    if result.missing_sources:
        out["missing_sources"] = list(result.missing_sources)
    if per_question:
        out["per_question"] = [
            {"question": q.question, "relevant_sources": list(q.relevant_sources), "hit": q.hit,
             "first_relevant_rank": q.first_relevant_rank, "ndcg": round(q.ndcg, 4),
             "hits": [{"rank": h.rank, "score": round(h.score, 6), "score_kind": h.score_kind,
                       "source": h.chunk.source, "relevant": q.is_relevant(h)} for h in q.hits]}
            for q in result.questions
        ]
    return out


__all__ = [
    "BUNDLED_SETS",
    "DEMO_QUESTIONS",
    "METRICS",
    "EvalQuestion",
    "EvalResult",
    "QuestionResult",
    "QuestionSet",
    "COMPARED_METRICS",
    "against_best",
    "best",
    "difference_to_json",
    "per_question",
    "questions_to_resolve",
    "resolve_json",
    "vs_best_by_metric",
    "vs_best_json",
    "bundled_question_set",
    "check_coverage",
    "compare_indexes",
    "demo_hard_question_set",
    "demo_question_set",
    "evaluate",
    "hit_at_k",
    "load_question_set",
    "measure_query_embedding",
    "ndcg_at_k",
    "parse_question_set",
    "question_set_from",
    "recall_at_k",
    "reciprocal_rank",
    "relevance_gains",
    "result_to_json",
    "results_rows",
    "setting_label",
    "settings_grid",
    "sweep",
    "warm_up",
]
