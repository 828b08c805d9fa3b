"""Retrieval flags shared by `query` and `eval`: --retriever, --fusion, --normalise, --alpha,
--rrf-k, --candidates, --mmr, --neighbours, --rewrite, --rewrites. A flag left out takes the --config file's value, else
RetrievalSettings' default (the one source: the app's Chat and Evaluate pages start from it too).

`query` takes one value per flag; `eval` takes comma lists for --retriever, --fusion and
--alpha and sweeps them like --top-k and --reranker. A bad value is one `error:` line, exit 2.
"""

from __future__ import annotations

import argparse

from rag_core.core.types import RetrievalSettings
from rag_core.cli import args as args_t

DEFAULTS = RetrievalSettings()
MODES = ("dense", "bm25", "hybrid")
FUSIONS = ("weighted", "rrf")
NORMALISERS = ("zscore", "minmax")
OFF_WORDS = args_t.OFF_WORDS
alpha = args_t.alpha
rrf_k = args_t.rrf_k
candidates = args_t.candidates
neighbours = args_t.neighbours
choice = args_t.choice
mmr = args_t.mmr
rewrites = args_t.rewrites
rewrite = args_t.rewrite


def add_retrieval_flags(p: argparse.ArgumentParser, sweep: bool = False) -> None:
    """The flags on `p` (default None: not given); with `sweep`, --retriever, --fusion and
    --alpha are comma lists."""
    many = (lambda item: args_t.listing(item)) if sweep else (lambda item: item)
    lists = " (comma list, swept)" if sweep else ""
    d = DEFAULTS
    p.add_argument("--retriever", type=many(choice(MODES)),
                   help=f"dense, bm25 (whole index) or hybrid (both, fused){lists}; default {d.mode}")
    p.add_argument("--fusion", type=many(choice(FUSIONS)),
                   help=f"hybrid fusion: weighted (normalised scores, --alpha) or rrf (--rrf-k){lists}; default {d.fusion}")
    p.add_argument("--normalise", type=choice(NORMALISERS),
                   help=f"score normalisation for weighted fusion: zscore or minmax; default {d.normalise}")
    p.add_argument("--alpha", type=many(alpha),
                   help=f"weight of the dense score in weighted fusion, 0..1{lists}; default {d.alpha:g}")
    p.add_argument("--rrf-k", type=rrf_k, help=f"RRF constant k; default {d.rrf_k:g}")
    p.add_argument("--candidates", type=candidates, help=f"candidates taken from each list before fusing; default {d.depth}")
    p.add_argument("--mmr", type=mmr, metavar="LAMBDA",
                   help="MMR diversification with this lambda (0..1; 1 = relevance only; off); default off")
    p.add_argument("--neighbours", type=neighbours, metavar="N",
                   help="add N chunks either side of each hit to the answer's context (0..5); default 0")
    calls = (" In eval this makes one model call per question and setting (tokens and dollars)."
             if sweep else "")
    p.add_argument("--rewrite", type=rewrite, metavar="multi-query|hyde|off",
                   help="query rewriting with the generative answerer (--llm): multi-query (N paraphrases, "
                        "fused) or hyde (a hypothetical passage); needs a chat model, not extractive; "
                        f"default off.{calls}")
    p.add_argument("--rewrites", type=rewrites, metavar="N",
                   help=f"how many paraphrases multi-query asks for (1..5); default {d.rewrites}")


_FIELDS = {"retriever": "mode", "fusion": "fusion", "normalise": "normalise", "alpha": "alpha", "rrf_k": "rrf_k",
           "candidates": "depth", "mmr": "mmr_lambda", "neighbours": "neighbours",
           "rewrite": "rewrite", "rewrites": "rewrites"}
_SWEPT = ("retriever", "fusion", "alpha")


def retrieval_overrides(args: argparse.Namespace, sweep: bool = False) -> dict:
    """RetrievalSettings fields for the flags that were given (swept ones left out with `sweep`);
    `--mmr off` turns MMR off."""
    out = {}
    for flag, name in _FIELDS.items():
        value = getattr(args, flag, None)
        if sweep and flag in _SWEPT:
            continue
        if value is not None:
            out[name] = None if value == "off" else float(value) if flag == "alpha" else value
    return out


def split(text: str) -> list[str]:
    return list(dict.fromkeys(p.strip().lower() for p in str(text).split(",") if p.strip()))


__all__ = ["DEFAULTS", "add_retrieval_flags", "retrieval_overrides", "split"]
