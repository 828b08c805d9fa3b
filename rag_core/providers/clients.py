"""SDK clients built from Credentials: OpenAI (and OpenAI-compatible servers) and Cohere v2.

The SDK is imported here, inside the functions, never at module import. SDK retries are off
(max_retries=0): RetryPolicy is the only retry loop. A missing key is a ConfigError that
says where keys come from, without echoing anything secret. A base URL with user:password in
it is refused (the SDK would send it as Basic auth, and it would be shown in messages).
A base URL typed in the browser (`Credentials.visitor_urls`) gets an HTTP client whose every
connection goes through the crawler's address guard (crawl/safety.py: resolve once, refuse
loopback/private/link-local/metadata addresses, connect to the checked address), so a
visitor cannot point the server at itself or its cloud's metadata service. The operator's
RAG_ALLOW_LOCAL_MODEL_SERVERS lets such URLs reach loopback and private networks (Ollama),
never link-local or metadata addresses.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Callable

from rag_core.core.errors import ConfigError
from rag_core.providers.credentials import DEFAULT_BASE_URLS, ENV_VARS, PROVIDER_FIELDS, Credentials, has_userinfo
from rag_core.providers.metering import UsageMeter
from rag_core.providers.retry import RetryPolicy
from rag_core.core.safety import LOCAL_MODEL_NETWORKS, AddressPolicy
from rag_core.core.transport import SafeTransport

OPENAI_DEFAULT_BASE_URL = DEFAULT_BASE_URLS["openai"]
COHERE_DEFAULT_BASE_URL = DEFAULT_BASE_URLS["cohere"]
#: sent to a compatible server that needs no key (the openai SDK insists on one)
NO_KEY = "no-key-needed"
VISITOR_KEY_RULE = ("a base URL typed in Settings is used only with a key typed in Settings (the server's own "
                    "keys go only to the base URLs configured with them)")


@dataclass(frozen=True)
class Endpoint:
    """Where a provider's calls go, and what to tell the person about its key. `guarded`: the
    base URL was typed in the browser, so connections go through the address guard
    (`allow_local`: the operator lets it reach loopback and private networks)."""

    provider: str
    base_url: str
    api_key: str = field(repr=False)
    key_hint: str = ""
    guarded: bool = False
    allow_local: bool = False


def checked_base_url(url: str, provider: str) -> str:
    """`url` without a trailing /, or a ConfigError for one the SDK must not be given (never echoed:
    it may hold a key)."""
    from urllib.parse import urlsplit

    where = f"the {provider} base URL ({ENV_VARS[PROVIDER_FIELDS[provider][1]]} or Settings)"
    try:
        parts = urlsplit(url.strip())
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError:
        raise ConfigError(f"{where} is not a valid URL; write it like https://host/v1") from None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"{where} must start with http:// or https:// and name a host, "
                          "e.g. http://127.0.0.1:11434/v1")
    if has_userinfo(url) or parts.username is not None:
        raise ConfigError(f"{where} has a user name or password in it (user:key@host): remove it and give the "
                          "key as the API key instead (a key in a URL is sent as Basic auth and shown in logs)")
    return url.strip().rstrip("/")


def _endpoint(provider: str, creds: Credentials, url: str, key: str, key_hint: str, from_caller: bool) -> Endpoint:
    guarded = provider in creds.visitor_urls and not from_caller
    return Endpoint(provider, checked_base_url(url, provider), key, key_hint, guarded,
                    guarded and creds.allow_local_servers)


def _missing_key(provider: str, creds: Credentials, name: str, var: str) -> ConfigError:
    if provider in creds.visitor_urls:
        return ConfigError(f"no {name} API key for the base URL typed in Settings: {VISITOR_KEY_RULE}; "
                           f"type your own {name} key there too, or clear the base URL")
    return ConfigError(f"no {name} API key: set {var} or add it to .streamlit/secrets.toml", kind="no_key",
                       name=name, var=var)  # each entry point words where else a key may come from


def openai_endpoint(provider: str, credentials: Credentials | None, base_url: str | None = None) -> Endpoint:
    """`base_url` from the caller (the CLI's --base-url, an API user) is the operator's choice."""
    creds = credentials or Credentials()
    if provider == "openai":
        key = creds.openai_api_key
        if not key:
            raise _missing_key("openai", creds, "OpenAI", "OPENAI_API_KEY")
        return _endpoint("openai", creds, base_url or creds.openai_base_url or OPENAI_DEFAULT_BASE_URL, key,
                         "OPENAI_API_KEY", bool(base_url))
    if provider == "compatible":
        url = base_url or creds.compatible_base_url
        if not url:
            raise ConfigError("an OpenAI-compatible server needs a base URL, e.g. http://localhost:11434/v1 "
                              "for Ollama (--base-url, COMPATIBLE_BASE_URL or Settings)")
        return _endpoint("compatible", creds, url, creds.compatible_api_key or NO_KEY,
                         "the server's API key (COMPATIBLE_API_KEY or Settings)", bool(base_url))
    raise ConfigError(f"unknown OpenAI-style provider {provider!r}; use openai or compatible")


def guarded_http_client(endpoint: Endpoint, policy: RetryPolicy):
    """An httpx client whose connections go through the crawler's address guard (pinned to the
    checked address), for a base URL typed in the browser; None (the SDK's own) otherwise."""
    if not endpoint.guarded:
        return None
    import httpx

    networks = LOCAL_MODEL_NETWORKS if endpoint.allow_local else ()
    return httpx.Client(transport=SafeTransport(AddressPolicy(allow_networks=networks)), timeout=policy.timeout,
                        trust_env=False, follow_redirects=False)


def openai_client(endpoint: Endpoint, policy: RetryPolicy):
    import openai

    extra = {"http_client": http} if (http := guarded_http_client(endpoint, policy)) is not None else {}
    return openai.OpenAI(api_key=endpoint.api_key, base_url=endpoint.base_url, max_retries=0,
                         timeout=policy.timeout, **extra)


def cohere_endpoint(credentials: Credentials | None, base_url: str | None = None) -> Endpoint:
    creds = credentials or Credentials()
    if not creds.cohere_api_key:
        raise _missing_key("cohere", creds, "Cohere", "COHERE_API_KEY")
    return _endpoint("cohere", creds, base_url or creds.cohere_base_url or COHERE_DEFAULT_BASE_URL,
                     creds.cohere_api_key, "COHERE_API_KEY", bool(base_url))


def cohere_client(endpoint: Endpoint, policy: RetryPolicy):
    import cohere

    extra = {"httpx_client": http} if (http := guarded_http_client(endpoint, policy)) is not None else {}
    return cohere.ClientV2(api_key=endpoint.api_key, base_url=endpoint.base_url, timeout=policy.timeout,
                           max_retries=0, **extra)


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

