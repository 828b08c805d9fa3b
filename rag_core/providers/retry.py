"""The single retry policy for every hosted call, and the one place SDK failures become
clear, redacted `ProviderCallError`s.

The SDKs' own retries are switched off (max_retries=0) so this is the only, tested policy:
exponential backoff with full jitter; a server's Retry-After (or retry-after-ms) is honoured,
capped at `max_retry_after`; only 408/409/429/5xx, timeouts and connection errors are
retried — a 400/401/403/404/422 cannot succeed on a second try and fails at once.
`sleep` and `rng` are injectable so tests run in milliseconds. SDK exceptions are read by
duck typing (status_code, headers, body), so this module imports no SDK.
"""

from __future__ import annotations

import email.utils
import logging
import random
import time
from dataclasses import dataclass, field
from typing import Callable, TypeVar

from rag_core.core.errors import ProviderError
from rag_core.providers.credentials import Credentials, redact

log = logging.getLogger(__name__)
T = TypeVar("T")

RETRYABLE_STATUS = frozenset({408, 409, 429, 500, 502, 503, 504}) | frozenset(range(520, 530))
_CONNECTION_ERROR_NAMES = frozenset({"APIConnectionError", "APITimeoutError", "TransportError", "TimeoutException",
                                     "ConnectError", "RemoteProtocolError", "ReadError", "ConnectionError"})
_TIMEOUT_NAMES = frozenset({"APITimeoutError", "TimeoutException", "ReadTimeout", "ConnectTimeout", "TimeoutError"})


class ProviderCallError(ProviderError):
    """A hosted call failed. `reason` is one of: unreachable, timeout, auth, forbidden,
    not_found, bad_request, rate_limited, server, bad_response (an answer of the wrong shape),
    refused (the address guard refused a base URL
    typed in the browser; nothing was sent). The message is already redacted."""

    def __init__(self, message: str, *, reason: str, status: int | None = None, attempts: int = 1,
                 **values) -> None:
        super().__init__(message, kind=f"provider_{reason}", **values)  # worded per entry point by kind
        self.reason = reason
        self.status = status
        self.attempts = attempts

    def __repr__(self) -> str:
        return f"ProviderCallError({str(self)!r}, reason={self.reason!r}, status={self.status!r})"


@dataclass(frozen=True)
class Failure:
    """What a caught exception means for retrying."""

    status: int | None
    retryable: bool
    retry_after: float | None
    reason: str
    detail: str


def _headers_of(exc: BaseException):
    headers = getattr(exc, "headers", None)
    if headers is None:
        response = getattr(exc, "response", None)
        headers = getattr(response, "headers", None)
    return headers or {}


def parse_retry_after(headers) -> float | None:
    """Seconds from `retry-after-ms`, `retry-after` (seconds or an HTTP date); None if absent/bad."""
    try:
        lowered = {str(k).lower(): v for k, v in headers.items()}
    except AttributeError:
        return None
    get = lowered.get
    ms = get("retry-after-ms")
    if ms:
        try:
            return max(0.0, float(ms) / 1000.0)
        except ValueError:
            pass
    value = get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        return max(0.0, when.timestamp() - time.time())


def _body_message(exc: BaseException) -> str:
    """The server's own error text: OpenAI {"error": {"message"}}, Cohere {"message"}."""
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict) and inner.get("message"):
            return str(inner["message"])
        if isinstance(inner, str):
            return inner
        if body.get("message"):
            return str(body["message"])
    message = getattr(exc, "message", None)
    return str(message) if message else ""


def _refusal(exc: BaseException) -> BaseException | None:
    """The address guard's AddressRefused, raised as is or wrapped by an SDK (read by name: no import)."""
    seen = 0
    while exc is not None and seen < 8:
        if any(cls.__name__ == "AddressRefused" for cls in type(exc).__mro__):
            return exc
        exc, seen = exc.__cause__ or exc.__context__, seen + 1
    return None


def classify(exc: BaseException) -> Failure:
    refused = _refusal(exc)
    if refused is not None:
        return Failure(None, False, None, "refused", str(refused).partition(";")[0])
    names = {cls.__name__ for cls in type(exc).__mro__}
    status = getattr(exc, "status_code", None)
    if not isinstance(status, int):
        status = None
    if status is None:
        if names & _TIMEOUT_NAMES:
            return Failure(None, True, None, "timeout", "the request timed out")
        if names & _CONNECTION_ERROR_NAMES or isinstance(exc, (ConnectionError, OSError)):
            return Failure(None, True, None, "unreachable", "could not connect")
        return Failure(None, False, None, "bad_response", f"{type(exc).__name__}: {str(exc)[:300]}")
    retry_after = parse_retry_after(_headers_of(exc))
    reason = {401: "auth", 403: "forbidden", 404: "not_found", 429: "rate_limited"}.get(status)
    if reason is None:
        reason = "server" if status >= 500 else "bad_request"
    return Failure(status, status in RETRYABLE_STATUS, retry_after, reason, _body_message(exc))


_ADVICE = {
    "auth": "the server rejected the API key (401): check {key_hint}",
    "forbidden": "the API key may not use this (403): check the key's permissions or project",
    "not_found": "not found (404): the model {model!r} is unknown to this server, or the base URL is wrong",
    "bad_request": "the server refused the request ({status})",
    "rate_limited": "rate limited (429) after {tries}: wait a minute, or lower the batch size",
    "server": "the server failed ({status}) after {tries}: try again later",
    "bad_response": "the server's answer could not be read: is {where} the right kind of server (OpenAI-compatible "
                    "URLs usually end in /v1)?",
    "timeout": "timed out after {tries} ({timeout:g} s each): the server is slow or overloaded",
    "unreachable": "could not reach {where} after {tries}: is the server running and the base URL "
                   "right (OpenAI-compatible URLs usually end in /v1)?",
    "refused_never": "refused to connect to {where} ({detail}): such an address is never a model server. "
                 "Nothing was sent. Use the address of the server that runs the model",
    "refused": "refused to connect to {where} ({detail}): a base URL typed in Settings must be a public server. "
               "Nothing was sent. To use a model server on this machine or a private network (e.g. Ollama), "
               "the operator sets RAG_ALLOW_LOCAL_MODEL_SERVERS=1 (environment or .streamlit/secrets.toml) or "
               "configures the base URL (OPENAI_BASE_URL, COHERE_BASE_URL, COMPATIBLE_BASE_URL)",
}


def describe(failure: Failure, *, provider: str, model: str | None, where: str, key_hint: str,
             attempts: int, timeout: float, credentials: Credentials | None) -> ProviderCallError:
    tries = f"{attempts} attempt{'s' if attempts != 1 else ''}"
    template = _ADVICE[failure.reason]
    if failure.reason == "refused" and any(w in str(failure.detail) for w in ("link-local", "cloud")):
        template = _ADVICE["refused_never"]  # no operator setting opens these: do not suggest one
    advice = template.format(status=failure.status, model=model, tries=tries, where=where,
                             key_hint=key_hint, timeout=timeout, detail=failure.detail)
    quiet = ("unreachable", "timeout", "refused")  # no server spoke (refused: its reason is in the advice)
    detail = f" — server said: {failure.detail}" if failure.detail and failure.reason not in quiet else ""
    message = redact(f"{provider}: {advice}{detail}", credentials)
    return ProviderCallError(message, reason=failure.reason, status=failure.status, attempts=attempts,
                             key_hint=key_hint)


@dataclass(frozen=True)
class RetryPolicy:
    """Backoff `min(max_delay, base_delay * 2**n)` with full jitter; Retry-After wins (capped)."""

    max_attempts: int = 5
    base_delay: float = 0.5
    max_delay: float = 20.0
    max_retry_after: float = 60.0
    timeout: float = 60.0
    sleep: Callable[[float], None] = field(default=time.sleep, compare=False)
    rng: random.Random = field(default_factory=random.Random, compare=False)

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        """Seconds to wait after failed attempt number `attempt` (0-based)."""
        if retry_after is not None:
            return min(retry_after, self.max_retry_after)
        ceiling = min(self.max_delay, self.base_delay * (2 ** attempt))
        return self.rng.uniform(0, ceiling)

    def call(self, fn: Callable[[], T], *, provider: str, model: str | None = None, where: str = "the server",
             key_hint: str = "the API key", credentials: Credentials | None = None) -> T:
        """Run `fn` until it succeeds, fails for good, or attempts run out; raise ProviderCallError."""
        attempt = 0
        while True:
            try:
                return fn()
            except ProviderError:
                raise
            except Exception as exc:  # noqa: BLE001 - every SDK failure is classified here
                failure = classify(exc)
                attempt += 1
                if not failure.retryable or attempt >= self.max_attempts:
                    raise describe(failure, provider=provider, model=model, where=where, key_hint=key_hint,
                                   attempts=attempt, timeout=self.timeout, credentials=credentials) from None
                wait = self.delay(attempt - 1, failure.retry_after)
                log.info("%s: %s (status %s); retry %d/%d in %.2f s", provider, failure.reason, failure.status,
                         attempt, self.max_attempts - 1, wait)
                self.sleep(wait)


DEFAULT_POLICY = RetryPolicy()
