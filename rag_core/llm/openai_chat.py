"""Chat completions, streamed, from OpenAI or any OpenAI-compatible server (`compatible:<model>`).

`stream` yields text deltas, then one TokenUsage taken from the final usage chunk the API
sends when asked (`stream_options={"include_usage": True}`). A compatible server that reports
no usage yields none, and the pipeline falls back to its tiktoken estimate. Only opening the
stream is retried (RetryPolicy): once text has been shown, a failure is reported, not replayed.
A server that answers with one JSON completion instead of a stream is accepted; garbage, or
an empty answer, is a ProviderError. Every configured key is masked in the answer's text.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from typing import Iterator

from rag_core.core.errors import ConfigError, ProviderError
from rag_core.providers.clients import HostedProvider, openai_client, openai_endpoint
from rag_core.providers.credentials import Credentials, StreamRedactor, configured_secrets, redact
from rag_core.providers.retry import DEFAULT_POLICY, RetryPolicy, classify, describe
from rag_core.core.types import GenerationRequest, TokenUsage
from rag_core.llm.limits import (DEFAULT_ANSWER_DEADLINE_S, DEFAULT_ANSWER_TOKENS, WHERE_DEADLINE, WHERE_TOKENS, check_deadline,
                     check_tokens, max_answer_chars)

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
        max_answer_tokens: int = DEFAULT_ANSWER_TOKENS,
        temperature: float | None = 0.0,
        system: str | None = None,
        client: object | None = None,
        answer_deadline_s: float = DEFAULT_ANSWER_DEADLINE_S,
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
        self.max_answer_tokens = check_tokens(max_answer_tokens)
        self.temperature = temperature
        self.system = system
        self.answer_deadline_s = check_deadline(answer_deadline_s)

    @property
    def max_answer_chars(self) -> int:
        """The most text one answer may stream: MAX_CHARS_PER_TOKEN per requested token (a server
        that ignores max_tokens, or streams forever, is cut off there)."""
        return max_answer_chars(self.max_answer_tokens)

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
        """Text deltas (redacted: a key in the model's answer is masked), then the usage if reported.
        A server that answers a stream request with one JSON completion is accepted; anything else
        that is not a chat completion, or an empty answer, is a ProviderError."""
        kwargs = self._request(request)
        where = dict(provider=self.provider, model=self.model, where=self.endpoint.base_url,
                     key_hint=self.endpoint.key_hint, credentials=self.credentials)
        raw = self.policy.call(lambda: self.client().chat.completions.with_raw_response.create(**kwargs), **where)
        redactor = StreamRedactor([*(self.credentials.secrets() if self.credentials else ()), *configured_secrets()])
        state = _Answer()
        # The whole answer has a deadline: a timer closes the connection, which ends even a read
        # that a 1-byte-per-second drip keeps alive (no per-read timeout ever fires on it).
        watchdog = threading.Timer(self.answer_deadline_s, _close, (raw,))
        watchdog.daemon = True
        watchdog.start()
        started = time.monotonic()
        try:
            content_type = str(raw.headers.get("content-type") or "").lower()
            pieces = self._events(raw, state) if "event-stream" in content_type else self._whole(raw, state)
            for piece in pieces:
                state.chars += len(piece)
                if state.chars > self.max_answer_chars:
                    raise ProviderError(self._too_long())
                if time.monotonic() - started > self.answer_deadline_s:
                    raise ProviderError(self._too_slow())
                if shown := redactor.feed(piece):
                    yield shown
        except ProviderError:
            raise
        except Exception as exc:  # noqa: BLE001 - a failure mid-stream: say so, redacted
            if time.monotonic() - started >= self.answer_deadline_s:
                raise ProviderError(self._too_slow()) from None
            failure = classify(exc)
            if failure.reason == "bad_response":
                raise ProviderError(redact(f"{self.provider}: {self._not_chat()} ({type(exc).__name__})",
                                           self.credentials)) from None
            raise describe(failure, attempts=1, timeout=self.policy.timeout, **where) from None
        finally:
            watchdog.cancel()
            _close(raw)
        if tail := redactor.flush():
            yield tail
        self._check_answer(state)
        usage = state.usage
        self.meter.add(tokens=usage.prompt_tokens if usage else None,
                       completion_tokens=usage.completion_tokens if usage else None)
        if usage is not None:
            yield usage

    def _too_slow(self) -> str:
        return (f"{self.provider}: {self.model} did not finish its answer within {self.answer_deadline_s:g} s "
                f"(the answer deadline); the stream was closed. Ask again, choose a faster model, or raise "
                f"the deadline ({WHERE_DEADLINE})")

    def _too_long(self) -> str:
        return (f"{self.provider}: {self.model} streamed more than {self.max_answer_chars:,} characters for an "
                f"answer of at most {self.max_answer_tokens} tokens (the answer length cap); the stream was "
                f"closed. The server may ignore max_tokens; or raise the longest answer ({WHERE_TOKENS})")

    def _not_chat(self) -> str:
        return (f"the server's answer is not a chat completion; is {self.endpoint.base_url} an OpenAI-compatible "
                f"/v1 URL serving the chat model {self.model!r}?")

    def _events(self, raw, state: "_Answer") -> Iterator[str]:
        """The text of an SSE chat completion stream (chunks with choices[].delta.content), read
        with our own bounded reader: one event is at most MAX_EVENT_BYTES, so a server that sends
        one endless line cannot grow the process (the SDK's reader would buffer it whole)."""
        for data in _sse_data(raw.http_response.iter_bytes(), MAX_EVENT_BYTES, self.provider):
            if data.strip() == "[DONE]":
                break
            try:
                chunk = json.loads(data)
            except ValueError:
                raise ProviderError(f"{self.provider}: {self._not_chat()}") from None
            if not isinstance(chunk, dict):
                raise ProviderError(f"{self.provider}: {self._not_chat()}")
            if chunk.get("error"):
                said = chunk["error"].get("message", chunk["error"]) if isinstance(chunk["error"], dict) else chunk["error"]
                raise ProviderError(redact(f"{self.provider}: the server reported an error mid-answer: "
                                           f"{str(said)[:500]}", self.credentials))
            state.events += 1
            usage = chunk.get("usage")
            if isinstance(usage, dict):
                state.usage = TokenUsage(prompt_tokens=_count(usage.get("prompt_tokens")),
                                         completion_tokens=_count(usage.get("completion_tokens")))
            for choice in chunk.get("choices") or ():
                if not isinstance(choice, dict):
                    continue
                state.finish = choice.get("finish_reason") if isinstance(choice.get("finish_reason"), str) \
                    else state.finish
                delta = choice.get("delta")
                text = delta.get("content") if isinstance(delta, dict) else None
                if isinstance(text, str) and text:
                    state.text = True
                    yield text

    def _whole(self, raw, state: "_Answer") -> Iterator[str]:
        """One JSON chat completion (a server that does not stream), read within MAX_JSON_BYTES."""
        body = bytearray()
        for part in raw.http_response.iter_bytes():
            body += part
            if len(body) > MAX_JSON_BYTES:
                raise ProviderError(f"{self.provider}: the server's answer is over {MAX_JSON_BYTES // 1_000_000} MB "
                                    f"and not a stream; {self._not_chat()}")
        try:
            data = json.loads(bytes(body))
        except ValueError:
            raise ProviderError(f"{self.provider}: {self._not_chat()} (it sent neither a stream nor JSON)") from None
        completion = _completion(data)
        if completion is None:
            error = data.get("error") if isinstance(data, dict) else None
            said = error.get("message", error) if isinstance(error, dict) else error
            raise ProviderError(redact(f"{self.provider}: {self._not_chat()}"
                                       + (f" — server said: {str(said)[:500]}" if said else ""), self.credentials))
        text, state.finish, usage = completion
        state.events = 1
        if isinstance(usage, dict):
            state.usage = TokenUsage(prompt_tokens=_count(usage.get("prompt_tokens")),
                                     completion_tokens=_count(usage.get("completion_tokens")))
        if text:
            state.text = True
            yield text

    def _check_answer(self, state: "_Answer") -> None:
        if state.text:
            return
        if not state.events:
            raise ProviderError(f"{self.provider}: the server sent no chat completion events; {self._not_chat()}")
        why = {"length": f"it ran out of tokens (max {self.max_answer_tokens}) before writing any text",
               "content_filter": "the server's content filter removed it"}.get(str(state.finish), "")
        raise ProviderError(f"{self.provider}: {self.model} returned an empty answer"
                            + (f": {why}" if why else f" (finish_reason {state.finish!r})") + "; ask again or try "
                            "another model")


MAX_JSON_BYTES = 8_000_000


@dataclass
class _Answer:
    """What one answer's stream showed: events seen, any text, the finish reason, the usage."""

    events: int = 0
    text: bool = False
    finish: str | None = None
    usage: TokenUsage | None = None
    chars: int = 0


def _completion(data: object) -> tuple[str | None, str | None, object] | None:
    """(content, finish_reason, usage) of a chat.completion JSON object, or None if it is not one."""
    choices = data.get("choices") if isinstance(data, dict) else None
    first = choices[0] if isinstance(choices, list) and choices else None
    message = first.get("message") if isinstance(first, dict) else None
    if not isinstance(message, dict) or not isinstance(message.get("content"), (str, type(None))):
        return None
    finish = first.get("finish_reason")
    return message.get("content"), finish if isinstance(finish, str) else None, data.get("usage")


#: stands for a usage field that is missing or not a whole number: the cost record refuses it
#: (costs.believable_count) and prices the tiktoken estimate instead, saying so
NOT_A_COUNT = -1


#: one server-sent event's data, at most (a chat chunk is a few hundred bytes)
MAX_EVENT_BYTES = 1_000_000


def _sse_data(parts: Iterator[bytes], limit: int, provider: str) -> Iterator[str]:
    """The `data:` payload of each server-sent event in a byte stream, each at most `limit` bytes
    (other fields and comments are skipped). Worked example: b"data: a\\n\\ndata: b\\n\\n" -> "a", "b"."""
    buffer, lines, size = bytearray(), [], 0
    for part in parts:
        buffer += part
        while (end := buffer.find(b"\n")) >= 0:
            line = bytes(buffer[:end]).rstrip(b"\r")
            del buffer[:end + 1]
            if not line:
                if lines:
                    yield "\n".join(lines)
                lines, size = [], 0
            elif line.startswith(b"data:"):
                lines.append(line[5:].removeprefix(b" ").decode("utf-8", "replace"))
                size += len(line)
        if size + len(buffer) > limit:
            raise ProviderError(f"{provider}: one event of the server's stream is over {limit:,} bytes; a chat "
                                "chunk is a few hundred. The stream was closed")
    if lines:
        yield "\n".join(lines)


def _count(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else NOT_A_COUNT


def _close(raw) -> None:
    close = getattr(getattr(raw, "http_response", None), "close", None)
    if close:
        close()
