"""A chat session as a file a person can keep or send: Markdown to read, JSON to process.

Each turn carries what explains it: the question and answer, the settings it used (index,
retrieval settings, answerer, template), every hit with all its labelled scores and its source,
the exact prompt, and tokens and dollars per stage from its cost record. `session_json` and
`session_markdown` take any records shaped like `TurnRecord` (the app's chat entries are).
Every string passes through `redact` with the session's credentials, so a key that reached a
prompt or an answer never reaches the file.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict
from datetime import datetime, timezone
from typing import Any, Mapping, Protocol, Sequence

from rag_core.costs import TurnCosts, format_usd
from rag_core.providers import Credentials, redact
from rag_core.core.types import Answer, Hit

FORMAT = "rag-playground-session"
VERSION = 1


class TurnRecord(Protocol):
    """One finished chat turn (ui.state.ChatEntry has these attributes)."""

    answer: Answer
    costs: TurnCosts
    index: str
    llm: str
    custom_template: bool


class ComparisonRecord(Protocol):
    """One compare turn (ui.compare.CompareEntry): both sides' turns and what each side was."""

    question: str
    a: TurnRecord
    b: TurnRecord
    config_a: str
    config_b: str
    blind: bool
    swapped: bool


def _hit(hit: Hit) -> dict[str, Any]:
    return {
        "rank": hit.rank, "score": hit.score, "score_kind": hit.score_kind,
        "scores": [{"kind": s.kind, "value": s.value, "rank": s.rank} for s in hit.all_scores],
        "retrieval_rank": hit.retrieval_rank, "retrieval_score": hit.retrieval_score,
        "retrieval_score_kind": hit.retrieval_score_kind,
        "source": hit.chunk.source, "section": hit.chunk.section, "chunk_id": hit.chunk.chunk_id,
        "text": hit.chunk.text,
    }


def _settings(record: TurnRecord) -> dict[str, Any]:
    retrieval = asdict(record.answer.settings)
    return {"index": record.index, "answerer": record.llm,
            "template": "custom" if record.custom_template else "default", "retrieval": retrieval}


def _costs(costs: TurnCosts) -> dict[str, Any]:
    usage = costs.usage()
    return {
        "embedding_tokens": usage.embedding_tokens, "prompt_tokens": usage.prompt_tokens,
        "completion_tokens": usage.completion_tokens, "total_tokens": usage.total_tokens,
        "cost_usd": costs.total_usd, "cost_model": usage.cost_model,
        "stages": [asdict(s) for s in costs.stages],
        "latency_ms": dict(costs.latency_ms),
    }


def turn_dict(record: TurnRecord) -> dict[str, Any]:
    answer = record.answer
    return {"question": answer.question, "answer": answer.text, "settings": _settings(record),
            "hits": [_hit(h) for h in answer.hits],
            "below_threshold": [_hit(h) for h in answer.below_threshold],
            "prompt": answer.prompt, "costs": _costs(record.costs)}


def comparison_dict(record: ComparisonRecord, vote: str | None = None) -> dict[str, Any]:
    """A compare turn: each side as a turn, what it was, and the blind vote ("A", "B", "tie")."""
    return {"question": record.question, "blind": record.blind, "vote": vote,
            "a": {"configuration": record.config_a, **turn_dict(record.a)},
            "b": {"configuration": record.config_b, **turn_dict(record.b)}}


def _total(records: Sequence[TurnRecord], comparisons: Sequence[ComparisonRecord] = ()) -> TurnCosts:
    """What the app's session totals add up: every chat turn and both sides of every comparison."""
    total = TurnCosts()
    for record in [*records, *(side for c in comparisons for side in (c.a, c.b))]:
        total = total + record.costs
    return total


def redact_tree(value: Any, credentials: Credentials | None) -> Any:
    if isinstance(value, str):
        return redact(value, credentials)
    if isinstance(value, dict):
        return {k: redact_tree(v, credentials) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [redact_tree(v, credentials) for v in value]
    return value


def session_dict(records: Sequence[TurnRecord], credentials: Credentials | None = None,
                 exported_at: datetime | None = None, comparisons: Sequence[ComparisonRecord] = (),
                 votes: Mapping[int, str] | None = None) -> dict[str, Any]:
    """The whole session, every string redacted: chat turns, comparisons (with their blind votes,
    by comparison number) and totals over both, which are the app's session totals."""
    when = (exported_at or datetime.now(timezone.utc)).isoformat(timespec="seconds")
    votes = votes or {}
    data = {"format": FORMAT, "version": VERSION, "exported_at": when,
            "turn_count": len(records) + len(comparisons), "turns": [turn_dict(r) for r in records],
            "comparisons": [comparison_dict(c, votes.get(n)) for n, c in enumerate(comparisons)],
            "totals": _costs(_total(records, comparisons))}
    return redact_tree(data, credentials)


def session_json(records: Sequence[TurnRecord], credentials: Credentials | None = None,
                 exported_at: datetime | None = None, comparisons: Sequence[ComparisonRecord] = (),
                 votes: Mapping[int, str] | None = None) -> str:
    data = session_dict(records, credentials, exported_at, comparisons, votes)
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


# ---- Markdown --------------------------------------------------------------------------------


def _fence(text: str) -> str:
    """A fenced block longer than any backtick run inside, so document text cannot close it."""
    longest, run = 0, 0
    for ch in text:
        run = run + 1 if ch == "`" else 0
        longest = max(longest, run)
    fence = "`" * max(3, longest + 1)
    return f"{fence}text\n{text}\n{fence}"


#: every ASCII punctuation character: CommonMark lets each be backslash-escaped, and an escaped
#: one is always literal text (no link, image, emphasis, HTML tag, entity or table cell)
_MARKUP = re.compile(r"([!-/:-@\[-`{-~])")


def _inert(text: object) -> str:
    """Untrusted text (a question, answer line, source name, setting) that renders as itself in
    any CommonMark renderer: `![x](https://host/p.png)`, `[a](javascript:...)` and `<img onerror>`
    stay visible characters, never an image, a link or HTML."""
    return _MARKUP.sub(r"\\\1", str(text))


def _cell(text: object) -> str:
    """Inert, on one line (a table cell or a heading)."""
    return _inert(" ".join(str(text).splitlines()))


def _plain(text: str) -> str:
    """Inert, line by line (the answer's quote keeps its lines)."""
    return "\n".join(_inert(line) for line in text.splitlines())


def _quote(text: str) -> str:
    lines = _plain(text or "(empty answer)").splitlines() or [""]
    return "\n".join("> " + line if line else ">" for line in lines)


def _hit_lines(n: int, hit: dict[str, Any]) -> list[str]:
    scores = ", ".join(f"{s['kind']} {s['value']:.3f} (#{s['rank']})" for s in hit["scores"])
    where = hit["source"] + (f" — {hit['section']}" if hit["section"] else "")
    return [f"{n}. **#{hit['rank']}** {_cell(hit['score_kind'])} {hit['score']:.3f} · all scores: {_cell(scores)} · "
            f"source: {_cell(where)}", "", _indent(_fence(hit["text"])), ""]


def _indent(text: str) -> str:
    return "\n".join("   " + line if line else "" for line in text.splitlines())


def _cost_lines(costs: dict[str, Any]) -> list[str]:
    rows = ["| stage | model | tokens | source | $ |", "|---|---|---:|---|---:|"]
    for s in costs["stages"]:
        tokens = f"{s['searches']} search unit(s)" if s["stage"] == "rerank" else (
            s["reported_tokens"] if s["reported_tokens"] is not None else s["estimated_tokens"])
        source = "reported by API" if s["reported_tokens"] is not None else "tiktoken estimate"
        model = s["model"] + (" (would cost)" if s["would_cost"] else "")
        rows.append(f"| {_cell(s['stage'])} | {_cell(model)} | {tokens} | {source} | {format_usd(s['cost_usd'])} |")
    rows.append(f"| total | {_cell(costs['cost_model'])} | {costs['total_tokens']} | | {format_usd(costs['cost_usd'])} |")
    return rows


def _turn_lines(n: int, turn: dict[str, Any]) -> list[str]:
    s, r = turn["settings"], turn["settings"]["retrieval"]
    retrieval = ", ".join(f"{k} {v}" for k, v in r.items() if v is not None)
    lines = [f"## {n}. {_cell(turn['question'])}", "", "**Answer**", "", _quote(turn["answer"]), "",
             f"**Settings:** index {_cell(s['index'])} · {_cell(retrieval)} · answerer {_cell(s['answerer'])} · "
             f"{_cell(s['template'])} template", "", f"**Retrieved chunks ({len(turn['hits'])})**", ""]
    for k, hit in enumerate(turn["hits"], 1):
        lines += _hit_lines(k, hit)
    if not turn["hits"]:
        lines += ["No chunk was sent (no context).", ""]
    lines += ["**Tokens and dollars**", "", *_cost_lines(turn["costs"]), "",
              "<details><summary>Prompt sent to the answerer</summary>", "", _fence(turn["prompt"]), "",
              "</details>", ""]
    return lines


def _comparison_lines(n: int, comparison: dict[str, Any]) -> list[str]:
    vote = {"A": "A", "B": "B", "tie": "a tie"}.get(comparison["vote"] or "", "no vote")
    lines = [f"## Comparison {n}. {_cell(comparison['question'])}", "",
             f"{'Blind' if comparison['blind'] else 'Side by side'} · preferred: {vote}", ""]
    for side in ("a", "b"):
        turn = comparison[side]
        lines += [f"### {side.upper()}: {_cell(turn['configuration'])}", ""]
        lines += [line.replace("## ", "#### ", 1) if line.startswith("## ") else line
                  for line in _turn_lines(n, turn)]
    return lines


def session_markdown(records: Sequence[TurnRecord], credentials: Credentials | None = None,
                     exported_at: datetime | None = None, comparisons: Sequence[ComparisonRecord] = (),
                     votes: Mapping[int, str] | None = None) -> str:
    data = session_dict(records, credentials, exported_at, comparisons, votes)
    totals = data["totals"]
    lines = ["# RAG Playground chat session", "",
             f"Exported {data['exported_at']} · {data['turn_count']} turn(s) ({len(data['turns'])} chat, "
             f"{len(data['comparisons'])} compared) · {totals['total_tokens']:,} tokens · "
             f"{format_usd(totals['cost_usd'])}" + (f" on {_cell(totals['cost_model'])}" if totals['cost_model'] else ""),
             ""]
    for n, turn in enumerate(data["turns"], 1):
        lines += _turn_lines(n, turn)
    for n, comparison in enumerate(data["comparisons"], 1):
        lines += _comparison_lines(n, comparison)
    lines += ["## Session totals", "", *_cost_lines(totals), ""]
    return redact("\n".join(lines), credentials)
