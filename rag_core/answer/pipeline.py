"""The Pipeline: a Retriever + a prompt + an answerer -> a streamed Turn.

`Pipeline.ask` returns a `Turn`: iterate it for the streamed answer text, then read
`turn.answer` for everything that explains it (hits with labelled scores, the exact prompt,
the Usage line) and `turn.costs` for the one cost record (tokens and dollars per stage, the
API's report beside the tiktoken estimate; `answer.usage` is derived from it). Retrieval
alone (Evaluate, Explore) uses the `Retriever` directly, with no answerer.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Iterator

from rag_core.costs import CostModels, TurnCosts, cost_models_for, count_tokens, encoding_for_model
from rag_core.costs.record import store_stage
from rag_core.core.errors import ConfigError
from rag_core.index.index import Index
from rag_core.answer.prompts import DEFAULT_TEMPLATE, BuiltPrompt, build_prompt, validate_template
from rag_core.retrieval import RERANK_POOL_FACTOR, RERANK_POOL_MIN, RetrievalResult, Retriever
from rag_core.retrieval.rewrite import QueryRewriter, create_rewriter
from rag_core.core.types import LLM, Answer, GenerationRequest, Reranker, RetrievalSettings, TokenUsage

__all__ = ["CostModels", "Pipeline", "Turn", "cost_models_for", "RERANK_POOL_FACTOR", "RERANK_POOL_MIN"]

#: the longest question asked (about 5,000 tokens): typed text is bounded before the tokenizer sees it
MAX_QUESTION_CHARS = 20_000


def _ms(since: float) -> float:
    return (time.perf_counter() - since) * 1000.0


class Pipeline:
    """`Pipeline(index, llm, reranker)` builds its Retriever; pass `retriever=` to share one."""

    def __init__(
        self,
        index: Index,
        llm: LLM,
        reranker: Reranker | None = None,
        template: str = DEFAULT_TEMPLATE,
        cost_models: CostModels = CostModels(),
        *,
        retriever: Retriever | None = None,
    ) -> None:
        validate_template(template)
        self.retriever = retriever or Retriever(index, reranker,
                                                token_encoding=encoding_for_model(cost_models.embedding))
        self.llm = llm
        self.template = template
        self.cost_models = cost_models
        self._rewriters: dict[tuple[str, int], QueryRewriter | None] = {}

    @property
    def index(self) -> Index:
        return self.retriever.index

    @property
    def reranker(self) -> Reranker | None:
        return self.retriever.reranker

    def rewriter(self, settings: RetrievalSettings) -> QueryRewriter | None:
        """The query rewriter `settings` ask for, on this pipeline's answerer (None when off); a
        ConfigError saying what to do when the answerer is extractive or the setting is unknown."""
        if not settings.rewrite:
            return None
        key = (settings.rewrite, settings.rewrites)
        if key not in self._rewriters:
            self._rewriters[key] = create_rewriter(settings.rewrite, self.llm, settings.rewrites,
                                                   encoding=encoding_for_model(self.cost_models.chat))
        return self._rewriters[key]

    def prepare(self, question: str, settings: RetrievalSettings) -> tuple[RetrievalResult, BuiltPrompt, float]:
        """Everything before the answerer (what the chat-turn overhead budget covers); the last
        item is the prompt-building time in ms."""
        if len(question) > MAX_QUESTION_CHARS:
            raise ConfigError(f"the question is {len(question):,} characters; a question is at most "
                              f"{MAX_QUESTION_CHARS:,} characters: shorten it")
        retrieval = self.retriever.retrieve(question, settings, self.rewriter(settings))
        t0 = time.perf_counter()
        prompt = build_prompt(
            question,
            retrieval.for_prompt,  # the hits, with their neighbours when neighbour expansion is on
            template=self.template,
            context_window=self.llm.context_window,
            max_answer_tokens=self.llm.max_answer_tokens,
            encoding=encoding_for_model(self.cost_models.chat),
        )
        return retrieval, prompt, _ms(t0)

    def ask(self, question: str, settings: RetrievalSettings) -> "Turn":
        units = getattr(self.index.store, "units", None)  # a hosted store counts what it is billed
        reads_before = units["read"] if units else 0
        retrieval, prompt, prompt_ms = self.prepare(question, settings)
        return Turn(self, question, settings, retrieval, prompt,
                    latency_ms={**retrieval.latency_ms, "build_prompt": prompt_ms},
                    store_reads=units["read"] - reads_before if units else None)

    def answer(self, question: str, settings: RetrievalSettings) -> Answer:
        turn = self.ask(question, settings)
        for _ in turn:
            pass
        assert turn.answer is not None
        return turn.answer


@dataclass
class Turn:
    """Iterate for text deltas; `answer` and `costs` are set once the stream is exhausted."""

    pipeline: Pipeline
    question: str
    settings: RetrievalSettings
    retrieval: RetrievalResult
    prompt: BuiltPrompt
    latency_ms: dict[str, float] = field(default_factory=dict)
    answer: Answer | None = None
    #: the turn's one cost record (per-stage tokens and dollars, latency); set with `answer`
    costs: TurnCosts | None = None
    #: read units a hosted vector store (Pinecone) reported for this turn's retrieval; None: a local store
    store_reads: int | None = None
    _parts: list[str] = field(default_factory=list)

    def __iter__(self) -> Iterator[str]:
        request = GenerationRequest(prompt=self.prompt.text, question=self.question, hits=self.prompt.hits)
        reported: TokenUsage | None = None
        t0 = time.perf_counter()
        for item in self.pipeline.llm.stream(request):
            if isinstance(item, TokenUsage):
                reported = item
                continue
            if "first_token" not in self.latency_ms:
                self.latency_ms["first_token"] = _ms(t0)
            self._parts.append(item)
            yield item
        self.latency_ms["generate"] = _ms(t0)
        self._finish(reported)

    def _finish(self, reported: TokenUsage | None) -> None:
        """Price every stage into the one record, then the Answer with the Usage derived from it."""
        text = "".join(self._parts)
        models, p = self.pipeline.cost_models, self.pipeline
        stages = [models.embedding_stage(p.index.embedder, self.retrieval.embedding.estimated_tokens,
                                         self.retrieval.embedding.reported_tokens,
                                         refused=self.retrieval.embedding.refused)]
        rw = self.retrieval.rewrite
        if rw is not None:
            stages.append(models.rewrite_stage(p.llm, rw.estimated, rw.reported))
        if self.retrieval.rerank_searches is not None and p.reranker is not None:
            stages.append(models.rerank_stage(p.reranker, self.retrieval.rerank_searches))
        if self.store_reads is not None:
            stages.append(store_stage(self.store_reads, models.prices))
        completion_estimate = count_tokens(text, encoding_for_model(models.chat))
        stages.extend(models.chat_stages(p.llm, self.prompt.prompt_tokens, completion_estimate, reported))
        self.costs = TurnCosts(tuple(stages), self.latency_ms)
        self.answer = Answer(question=self.question, text=text, hits=self.prompt.hits, prompt=self.prompt.text,
                             usage=self.costs.usage(), settings=self.settings,
                             below_threshold=self.retrieval.below_threshold)
