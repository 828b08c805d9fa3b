"""Cohere rerank (v2 API, e.g. `cohere:rerank-v3.5`): a hosted cross-encoder.

Each returned Hit carries Cohere's relevance score (score_kind `rerank relevance`, 0..1) and,
via Hit.reranked, its original retrieval score, kind and rank. Cohere bills by search unit
(one query with up to 100 documents; longer documents count as several); the units it reports
go to `meter`, else an estimate of ceil(documents / 100).
"""

from __future__ import annotations

import math
from typing import Sequence

from ..errors import ConfigError, ProviderError
from ..providers.clients import HostedProvider, cohere_client, cohere_endpoint
from ..providers.credentials import Credentials
from ..providers.retry import DEFAULT_POLICY, RetryPolicy
from ..types import Hit

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
        self.meter.add(search_units=int(units) if units else math.ceil(len(hits) / DOCS_PER_SEARCH_UNIT))
        out = []
        for rank, result in enumerate(response.results, 1):
            if not 0 <= result.index < len(hits):
                raise ProviderError(f"cohere rerank returned document index {result.index} of {len(hits)}")
            out.append(hits[result.index].reranked(float(result.relevance_score), SCORE_KIND, rank))
        return out
