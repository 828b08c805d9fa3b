"""Chat completions, streamed, from OpenAI or any OpenAI-compatible server (`compatible:<model>`).

`stream` yields text deltas, then one TokenUsage taken from the final usage chunk the API
sends when asked (`stream_options={"include_usage": True}`). A compatible server that reports
no usage yields none, and the pipeline falls back to its tiktoken estimate. Only opening the
stream is retried (RetryPolicy): once text has been shown, a failure is reported, not replayed.
"""

from __future__ import annotations

from typing import Iterator

from ..errors import ConfigError, ProviderError
from ..providers.clients import HostedProvider, openai_client, openai_endpoint
from ..providers.credentials import Credentials
from ..providers.retry import DEFAULT_POLICY, RetryPolicy, classify, describe
from ..types import GenerationRequest, TokenUsage

#: model prefix -> context window (tokens); the longest matching prefix wins
CONTEXT_WINDOWS: dict[str, int] = {
    "gpt-4o": 128_000, "gpt-4o-mini": 128_000, "gpt-4.1": 1_047_576, "gpt-4-turbo": 128_000,
    "gpt-3.5-turbo": 16_385, "gpt-5": 400_000, "o1": 200_000, "o3": 200_000, "o4-mini": 200_000,
}
DEFAULT_COMPATIBLE_CONTEXT = 8192


def context_window_for(model: str, provider: str) -> int:
    matches = [p for p in CONTEXT_WINDOWS if model.startswith(p)]
    if matches:
        return CONTEXT_WINDOWS[max(matches, key=len)]
    return 128_000 if provider == "openai" else DEFAULT_COMPATIBLE_CONTEXT


class OpenAIChat(HostedProvider):
    """Implements the LLM protocol. `provider` is `openai` or `compatible`."""

    make_client = staticmethod(openai_client)

    def __init__(
        self,
        model: str | None,
        *,
        provider: str = "openai",
        credentials: Credentials | None = None,
        base_url: str | None = None,
        policy: RetryPolicy = DEFAULT_POLICY,
        context_window: int | None = None,
        max_answer_tokens: int = 512,
        temperature: float | None = 0.0,
        system: str | None = None,
        client: object | None = None,
    ) -> None:
        if not model:
            example = "openai:gpt-4o-mini" if provider == "openai" else "compatible:llama3.2"
            raise ConfigError(f"name the chat model, e.g. {example}")
        self.provider = provider
        self.model = model
        self.name = f"{provider}:{model}"
        self.cost_model = self.name
        self._connect(openai_endpoint(provider, credentials, base_url), credentials, policy, client)
        self.context_window = context_window or context_window_for(model, provider)
        self.max_answer_tokens = max_answer_tokens
        self.temperature = temperature
        self.system = system

    def _request(self, request: GenerationRequest) -> dict:
        messages = [{"role": "system", "content": self.system}] if self.system else []
        messages.append({"role": "user", "content": request.prompt})
        kwargs: dict = {"model": self.model, "messages": messages, "stream": True,
                        "stream_options": {"include_usage": True}}
        # OpenAI's newer models take max_completion_tokens; most compatible servers know max_tokens
        kwargs["max_completion_tokens" if self.provider == "openai" else "max_tokens"] = self.max_answer_tokens
        if self.temperature is not None:
            kwargs["temperature"] = self.temperature
        return kwargs

    def stream(self, request: GenerationRequest) -> Iterator[str | TokenUsage]:
        kwargs = self._request(request)
        where = dict(provider=self.provider, model=self.model, where=self.endpoint.base_url,
                     key_hint=self.endpoint.key_hint, credentials=self.credentials)
        chunks = self.policy.call(lambda: self.client().chat.completions.create(**kwargs), **where)
        usage: TokenUsage | None = None
        try:
            for chunk in chunks:
                if getattr(chunk, "usage", None):
                    usage = TokenUsage(prompt_tokens=chunk.usage.prompt_tokens or 0,
                                       completion_tokens=chunk.usage.completion_tokens or 0)
                for choice in chunk.choices or ():
                    text = getattr(choice.delta, "content", None) if choice.delta else None
                    if text:
                        yield text
        except ProviderError:
            raise
        except Exception as exc:  # noqa: BLE001 - a failure mid-stream: say so, redacted
            raise describe(classify(exc), attempts=1, timeout=self.policy.timeout, **where) from None
        finally:
            close = getattr(chunks, "close", None)
            if close:
                close()
        self.meter.add(tokens=usage.prompt_tokens if usage else None,
                       completion_tokens=usage.completion_tokens if usage else None)
        if usage is not None:
            yield usage
