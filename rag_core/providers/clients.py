"""SDK clients built from Credentials: OpenAI (and OpenAI-compatible servers) and Cohere v2.

The SDK is imported here, inside the functions, never at module import. SDK retries are off
(max_retries=0): RetryPolicy is the only retry loop. A missing key is a ConfigError that
says where keys come from, without echoing anything secret.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Callable

from ..errors import ConfigError
from .credentials import Credentials
from .metering import UsageMeter
from .retry import RetryPolicy

OPENAI_DEFAULT_BASE_URL = "https://api.openai.com/v1"
COHERE_DEFAULT_BASE_URL = "https://api.cohere.com"
#: sent to a compatible server that needs no key (the openai SDK insists on one)
NO_KEY = "no-key-needed"


@dataclass(frozen=True)
class Endpoint:
    """Where a provider's calls go, and what to tell the person about its key."""

    provider: str
    base_url: str
    api_key: str = field(repr=False)
    key_hint: str = ""


def openai_endpoint(provider: str, credentials: Credentials | None, base_url: str | None = None) -> Endpoint:
    creds = credentials or Credentials()
    if provider == "openai":
        key = creds.openai_api_key
        if not key:
            raise ConfigError("no OpenAI API key: set OPENAI_API_KEY, add it to .streamlit/secrets.toml, "
                              "or type it in Settings")
        return Endpoint("openai", (base_url or creds.openai_base_url or OPENAI_DEFAULT_BASE_URL).rstrip("/"), key,
                        "OPENAI_API_KEY (or the key typed in Settings)")
    if provider == "compatible":
        url = base_url or creds.compatible_base_url
        if not url:
            raise ConfigError("an OpenAI-compatible server needs a base URL, e.g. http://localhost:11434/v1 "
                              "for Ollama (--base-url, COMPATIBLE_BASE_URL or Settings)")
        return Endpoint("compatible", url.rstrip("/"), creds.compatible_api_key or NO_KEY,
                        "the server's API key (COMPATIBLE_API_KEY or Settings)")
    raise ConfigError(f"unknown OpenAI-style provider {provider!r}; use openai or compatible")


def openai_client(endpoint: Endpoint, policy: RetryPolicy):
    import openai

    return openai.OpenAI(api_key=endpoint.api_key, base_url=endpoint.base_url, max_retries=0,
                         timeout=policy.timeout)


def cohere_endpoint(credentials: Credentials | None, base_url: str | None = None) -> Endpoint:
    creds = credentials or Credentials()
    if not creds.cohere_api_key:
        raise ConfigError("no Cohere API key: set COHERE_API_KEY, add it to .streamlit/secrets.toml, "
                          "or type it in Settings")
    return Endpoint("cohere", (base_url or creds.cohere_base_url or COHERE_DEFAULT_BASE_URL).rstrip("/"),
                    creds.cohere_api_key, "COHERE_API_KEY (or the key typed in Settings)")


def cohere_client(endpoint: Endpoint, policy: RetryPolicy):
    import cohere

    return cohere.ClientV2(api_key=endpoint.api_key, base_url=endpoint.base_url, timeout=policy.timeout,
                           max_retries=0)


class HostedProvider:
    """What every hosted embedder, answerer and reranker shares: where its calls go, the one
    retry policy, a usage meter, a lazily built SDK client (tests inject their own), a repr
    that names the server but never the key, and warnings that reach the caller."""

    #: builds the SDK client from the endpoint (openai_client or cohere_client)
    make_client: Callable[[Endpoint, RetryPolicy], object]

    def _connect(self, endpoint: Endpoint, credentials: Credentials | None, policy: RetryPolicy,
                 client: object | None, on_warning: Callable[[str], None] | None = None) -> None:
        self.endpoint = endpoint
        self.credentials = credentials
        self.policy = policy
        self.meter = UsageMeter()
        self.on_warning = on_warning
        self.warnings: list[str] = []
        self._client = client

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r}, base_url={self.endpoint.base_url!r})"

    def client(self):
        if self._client is None:
            self._client = type(self).make_client(self.endpoint, self.policy)
        return self._client

    def _warn(self, message: str) -> None:
        self.warnings.append(message)
        logging.getLogger(type(self).__module__).warning("%s", message)
        if self.on_warning:
            self.on_warning(message)

