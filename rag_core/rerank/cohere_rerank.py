"""Cohere rerank (v2 API, e.g. `cohere:rerank-v3.5`): a hosted cross-encoder.

Each returned Hit carries Cohere's relevance score (score_kind `rerank relevance`, 0..1) and,
via Hit.reranked, its original retrieval score, kind and rank. Cohere bills by search unit
(one query with up to 100 documents; longer documents count as several); the units it reports
go to `meter`, else an estimate of ceil(documents / 100).
"""

from __future__ import annotations

import math
from typing import Sequence

from rag_core.core.errors import ConfigError, ProviderError
from rag_core.providers.clients import HostedProvider, cohere_client, cohere_endpoint
from rag_core.providers.credentials import Credentials
from rag_core.providers.metering import count_from_float
from rag_core.providers.retry import DEFAULT_POLICY, RetryPolicy
from rag_core.core.types import Hit

MAX_DOCUMENTS = 1000
DOCS_PER_SEARCH_UNIT = 100
SCORE_KIND = "rerank relevance"


class CohereReranker(HostedProvider):
    make_client = staticmethod(cohere_client)
    score_kind = SCORE_KIND

    def __init__(
        self,
        model: str | None = None,
        *,
        credentials: Credentials | None = None,
        base_url: str | None = None,
        policy: RetryPolicy = DEFAULT_POLICY,
        max_tokens_per_doc: int | None = None,
        client: object | None = None,
        **_: object,
    ) -> None:
        self.model = model or "rerank-v3.5"
        if not self.model.startswith("rerank"):
            raise ConfigError(f"{self.model!r} is not a Cohere rerank model; try cohere:rerank-v3.5")
        self.name = f"cohere:{self.model}"
        self.cost_model = self.name
        self._connect(cohere_endpoint(credentials, base_url), credentials, policy, client)
        self.max_tokens_per_doc = max_tokens_per_doc

    def rerank(self, query: str, hits: Sequence[Hit], top_n: int) -> list[Hit]:
        hits = list(hits)[:MAX_DOCUMENTS]
        if not hits:
            return []
        kwargs: dict = {"model": self.model, "query": query, "documents": [h.chunk.text for h in hits],
                        "top_n": min(top_n, len(hits))}
        if self.max_tokens_per_doc:
            kwargs["max_tokens_per_doc"] = self.max_tokens_per_doc
        response = self.policy.call(
            lambda: self.client().rerank(**kwargs), provider="cohere", model=self.model,
            where=self.endpoint.base_url, key_hint=self.endpoint.key_hint, credentials=self.credentials,
        )
        billed = getattr(getattr(response, "meta", None), "billed_units", None)
        units = getattr(billed, "search_units", None) if billed else None
        units = count_from_float(units)  # junk (inf, 1e30, 2.5, -5) -> the estimate below
        self.meter.add(search_units=units or math.ceil(len(hits) / DOCS_PER_SEARCH_UNIT))
        return [hits[index].reranked(score, SCORE_KIND, rank)
                for rank, (index, score) in enumerate(self._results(response, len(hits), kwargs["top_n"]), 1)]

    def _results(self, response: object, n_docs: int, top_n: int) -> list[tuple[int, float]]:
        """(document index, relevance score) pairs, checked: a response of another shape is a
        clear ProviderError, never a TypeError or a NaN score."""
        what = (f"{self.name}: the server's rerank answer is not a list of results with a document index "
                f"and a relevance score; is {self.endpoint.base_url} Cohere's v2 API?")
        results = getattr(response, "results", None)
        if not isinstance(results, (list, tuple)) or len(results) > top_n:
            raise ProviderError(what)
        out: list[tuple[int, float]] = []
        for result in results:
            index = getattr(result, "index", None)
            score = getattr(result, "relevance_score", None)
            if isinstance(result, dict):
                index, score = result.get("index"), result.get("relevance_score")
            if not isinstance(index, int) or isinstance(index, bool) or not isinstance(score, (int, float)) \
                    or isinstance(score, bool) or not math.isfinite(score):
                raise ProviderError(what)
            if not 0 <= index < n_docs or any(index == seen for seen, _ in out):
                raise ProviderError(f"{self.name}: the server returned document index {index} for {n_docs} "
                                    "documents (out of range or repeated)")
            out.append((index, float(score)))
        return out
