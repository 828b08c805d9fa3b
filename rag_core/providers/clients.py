"""SDK clients built from Credentials: OpenAI (and OpenAI-compatible servers) and Cohere v2.

The SDK is imported here, inside the functions, never at module import. SDK retries are off
(max_retries=0): RetryPolicy is the only retry loop. A missing key is a ConfigError that
says where keys come from, without echoing anything secret.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..errors import ConfigError
from .credentials import Credentials
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
