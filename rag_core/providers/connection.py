"""The Settings page's "Test connection": list a server's models, or say plainly what is wrong.

`test_connection("openai" | "cohere" | "compatible", credentials, model=None, base_url=None)`
returns a ConnectionReport and never raises for a provider failure: `ok`, a one-line
`message` (unreachable / 401 bad key / 404 unknown model / timeout...; keys redacted), the
`models` the server lists, and `reason` (a ProviderCallError reason such as "refused" for a
base URL typed in the browser that the address guard refused, "missing_model", "config",
or "" when ok). One attempt with a short timeout: a button should answer fast.
"""

from __future__ import annotations

from dataclasses import dataclass

from rag_core.core.errors import ConfigError, ProviderError
from rag_core.providers.clients import cohere_client, cohere_endpoint, openai_client, openai_endpoint
from rag_core.providers.credentials import Credentials, redact
from rag_core.providers.retry import ProviderCallError, RetryPolicy

CONNECTION_POLICY = RetryPolicy(max_attempts=1, timeout=10.0)


@dataclass(frozen=True)
class ConnectionReport:
    ok: bool
    message: str
    models: tuple[str, ...] = ()
    reason: str = ""


def _bare(model: str | None) -> str | None:
    """`openai:text-embedding-3-large@256` -> `text-embedding-3-large`; `llama3.2:1b` stays."""
    if not model:
        return None
    provider, colon, rest = model.partition(":")
    if colon and provider in ("openai", "cohere", "compatible"):
        model = rest
    return model.partition("@")[0] or None


def _names(page: object, items: str, attr: str) -> tuple[str, ...]:
    """The model names in a list-models answer; a ProviderError for an answer of another shape."""
    try:
        return tuple(sorted(str(getattr(m, attr)) for m in (getattr(page, items) or ()) if getattr(m, attr, None)))
    except (AttributeError, TypeError):
        raise ProviderError("the server's answer is not a list of models: is the base URL right (OpenAI-compatible "
                            "URLs usually end in /v1)?") from None


def test_connection(kind: str, credentials: Credentials | None, model: str | None = None, *,
                    base_url: str | None = None, policy: RetryPolicy = CONNECTION_POLICY) -> ConnectionReport:
    model = _bare(model)
    try:
        if kind in ("openai", "compatible"):
            endpoint = openai_endpoint(kind, credentials, base_url)
            client = openai_client(endpoint, policy)
            page = policy.call(lambda: client.models.list(), provider=kind, model=model, where=endpoint.base_url,
                               key_hint=endpoint.key_hint, credentials=credentials)
            models = _names(page, "data", "id")
        elif kind == "cohere":
            endpoint = cohere_endpoint(credentials, base_url)
            client = cohere_client(endpoint, policy)
            listed = policy.call(lambda: client.models.list(page_size=1000), provider=kind, model=model,
                                 where=endpoint.base_url, key_hint=endpoint.key_hint, credentials=credentials)
            models = _names(listed, "models", "name")
        else:
            raise ConfigError(f"unknown provider {kind!r}; test openai, cohere or compatible")
    except ProviderCallError as exc:
        return ConnectionReport(False, str(exc), (), exc.reason)
    except ConfigError as exc:
        return ConnectionReport(False, redact(exc, credentials), (), "config")
    except ProviderError as exc:
        return ConnectionReport(False, redact(exc, credentials), (), "server")
    where = endpoint.base_url
    if model and model not in models:
        shown = ", ".join(models[:20]) + (" …" if len(models) > 20 else "")
        return ConnectionReport(False, f"{kind}: connected to {where}, but it has no model {model!r} "
                                       f"(404 unknown model); it lists: {shown or 'none'}", models, "missing_model")
    note = f"; {model} is available" if model else ""
    return ConnectionReport(True, f"{kind}: connected to {where}: {len(models)} models{note}", models, "")


test_connection.__test__ = False  # not a pytest test, despite its name
