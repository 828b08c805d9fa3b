"""Retrieval settings in words, one way everywhere: Evaluate's rows and CSV, experiments, the CLI's
tables and JSON (`retriever`), Chat's "Settings used" line and the Compare columns."""

from __future__ import annotations

from rag_core.core.types import RetrievalSettings
from rag_core.retrieval.modes import NORMALISE_LABEL


def retriever_label(s: RetrievalSettings) -> str:
    """The retrieval method in words: "dense", "bm25", "hybrid rrf k=10", "hybrid z-score α=0.5",
    plus depth, MMR, neighbours and query rewriting when they differ from off / the default."""

    if s.mode != "hybrid":
        text = s.mode
    elif s.fusion == "rrf":
        text = f"hybrid rrf k={s.rrf_k:g}"
    else:
        text = f"hybrid {NORMALISE_LABEL.get(s.normalise, s.normalise)} α={s.alpha:g}"
    if s.mode == "hybrid" and s.depth != RetrievalSettings().depth:
        text += f" depth {s.depth}"
    if s.mmr_lambda is not None:
        text += f" + mmr λ={s.mmr_lambda:g}"
    if s.neighbours:
        text += f" + neighbours {s.neighbours}"
    if s.rewrite:
        text += " + hyde" if s.rewrite == "hyde" else f" + multi-query ×{s.rewrites}"
    return text


def setting_label(settings: RetrievalSettings) -> str:
    threshold = "none" if settings.score_threshold is None else f"{settings.score_threshold:g}"
    return (f"{retriever_label(settings)} · k={settings.top_k} · rerank {settings.reranker or 'none'} · "
            f"threshold {threshold}")


__all__ = ["retriever_label", "setting_label"]
