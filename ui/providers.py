"""Hosted providers for this browser session: its credentials, and the embedders, answerers
and rerankers built from them.

`credentials()` is `load_credentials(typed=...)`: the operator's keys (environment, then
`.streamlit/secrets.toml`) go only to the base URLs configured beside them; a base URL this
session typed in Settings is used only with a key it typed too, and its connections go
through the address guard (rag_core/providers/clients.py). Typed keys live only in
st.session_state (`typed_creds`), never in a widget's value after they are entered, on disk
or in a log. Hosted objects are per session (keys differ per session, and their usage meters
must not mix sessions): they are kept in st.session_state keyed by (kind, name, options,
a hash of the credentials). Local models stay in ui/cache.py's shared st.cache_resource.
"""

from __future__ import annotations

import contextlib
import hashlib
from dataclasses import fields, replace
from typing import Any

import streamlit as st

from rag_core.core import catalog
from rag_core.core.catalog import is_hosted
from rag_core.core.errors import ConfigError
from rag_core.providers import Credentials, load_credentials
from rag_core.providers.connection import ConnectionReport
from rag_core.providers.credentials import ENV_VARS, PROVIDER_FIELDS, mask
from rag_core.stores import pinecone_store
from rag_core.core.types import LLM, Embedder, Reranker

from ui import cache
from ui.state import NO_RERANKER
from rag_core.core.safety import AddressPolicy
from rag_core.core.safety import LOCAL_MODEL_NETWORKS
from rag_core.llm import create_llm
from rag_core.rerank import create_reranker
from rag_core.providers.connection import test_connection
from ui.answer_limits import options

#: Settings page rows: provider -> (key field, base-URL field)
PROVIDERS: dict[str, tuple[str, str]] = {
    "openai": ("openai_api_key", "openai_base_url"),
    "cohere": ("cohere_api_key", "cohere_base_url"),
    "compatible": ("compatible_api_key", "compatible_base_url"),
}
COMPATIBLE = "compatible:"  # the choice that takes a typed model name

# The choices come from the registries: each provider declared them where it registered.
EMBEDDER_CHOICES: tuple[str, ...] = tuple(catalog.choices("embedder"))
STORE_CHOICES: tuple[str, ...] = tuple(catalog.choices("store"))
LLM_CHOICES: tuple[str, ...] = tuple(catalog.choices("llm"))
RERANKER_CHOICES: tuple[str, ...] = (NO_RERANKER, *catalog.choices("reranker"))

_TYPED = "typed_creds"
_OBJECTS = "hosted_objects"
_MAX_OBJECTS = 16


def choice_label(choice: str) -> str:
    """`compatible:` reads `compatible:<model> (OpenAI-compatible server)`: its model is typed beside it."""
    if not catalog.takes_typed_model(choice):
        return choice
    return f"{choice}<model> (OpenAI-compatible server)" if choice == COMPATIBLE else f"{choice}<model>"


def store_choices() -> list[str]:
    """The stores the Index page offers: Pinecone only when the operator configured a key and an index."""
    return [s for s in STORE_CHOICES if s != "pinecone" or pinecone_needs() is None]


def pinecone_needs() -> str | None:
    """What Pinecone still needs on this server (None when it is offered)."""
    try:
        settings = pinecone_store.configured()
    except ConfigError as exc:  # a RAG_PINECONE_TIMEOUT_S that is not a number
        return f"{exc} (Pinecone is not offered)"
    return None if settings.configured else settings.needs()


def help_text(kind: str) -> str:
    """A selectbox's help: one line per provider of `kind`, each its registered description."""
    lines = [f"- **{r.example}**: {r.description}" for r in catalog.registry(kind).registrations()]
    if kind == "reranker":
        lines.insert(0, f"- **{NO_RERANKER}**: keep the first-stage order.")
    return "\n".join(lines)


# ---- credentials ------------------------------------------------------------------------


def typed_values() -> dict[str, str]:
    """Field name -> what this session typed (keys and base URLs)."""
    return st.session_state.setdefault(_TYPED, {})


def set_typed(field: str, value: str | None) -> None:
    values = typed_values()
    value = (value or "").strip()
    if value:
        values[field] = value
    else:
        values.pop(field, None)


def typed() -> Credentials:
    """What this session typed; a DSN only as `keys.database_row` checked and pinned it."""
    return replace(Credentials.from_mapping(typed_values()), pg_dsn=typed_values().get("pg_dsn"))


def credentials() -> Credentials:
    return load_credentials(typed=typed())


def fingerprint(creds: Credentials) -> str:
    """A short hash of every credential field: an object key that never holds a key itself."""
    digest = hashlib.sha256()
    for f in fields(creds):
        digest.update(f"{f.name}={getattr(creds, f.name) or ''}\x1f".encode())
    return digest.hexdigest()[:16]


def key_origin(field: str) -> str:
    """Where this session's value of a key field comes from, and a masked hint; never the key."""
    provider = next(p for p, (key_field, _) in PROVIDER_FIELDS.items() if key_field == field)
    if field in typed_values():
        origin = "typed in for this session"
    elif provider in credentials().visitor_urls:
        return ("none: a base URL typed here is used only with a key typed here (the server's own key "
                "goes only to its configured base URL)")
    elif getattr(Credentials.from_env(), field):
        origin = f"environment ({ENV_VARS[field]})"
    elif getattr(load_credentials(environ={}), field):
        origin = ".streamlit/secrets.toml"
    else:
        return "not set"
    return f"{origin} · {mask(getattr(credentials(), field))}"


def typed_url_refusal(provider: str) -> str | None:
    """Why this session's typed base URL will be refused, when its host is an IP address the guard
    refuses (169.254.169.254, 10.x, ...): said at once, not first at Test connection. A host name is
    only checked when it is resolved, at connection time."""
    import ipaddress
    from urllib.parse import urlsplit

    creds = credentials()
    if provider not in creds.visitor_urls:
        return None
    try:
        host = urlsplit(getattr(creds, PROVIDER_FIELDS[provider][1]) or "").hostname or ""
        ip = ipaddress.ip_address(host)
    except ValueError:
        return None
    policy = AddressPolicy(allow_networks=LOCAL_MODEL_NETWORKS if creds.allow_local_servers else ())
    return policy.why_refused(str(ip))


def url_note(provider: str) -> str:
    """What happens to this session's base URL for `provider`: the operator's, or typed here
    (address-guarded: public servers only, unless the operator allows local model servers)."""
    creds = credentials()
    refused = typed_url_refusal(provider)
    if refused is not None:
        return (f"refused, nothing will be sent to it: {refused.removeprefix('private address: ')}. "
                "A base URL typed here must be a public server"
                + ("." if "link-local" in refused or creds.allow_local_servers else
                   " (the operator can allow local model servers such as Ollama with "
                   "RAG_ALLOW_LOCAL_MODEL_SERVERS=1)."))
    if provider not in creds.visitor_urls:
        return "the server's configured base URL" if getattr(creds, PROVIDER_FIELDS[provider][1]) else \
            ("the official endpoint" if provider != "compatible" else "none")
    if creds.allow_local_servers:
        return ("typed here; the operator allows model servers on this machine and private networks "
                "(never link-local or cloud metadata addresses)")
    return ("typed here; it must be a public server (the operator can allow local model servers such as "
            "Ollama with RAG_ALLOW_LOCAL_MODEL_SERVERS=1)")




# ---- per-session hosted objects -----------------------------------------------------------


def _objects() -> dict[tuple, Any]:
    return st.session_state.setdefault(_OBJECTS, {})


def _session_object(kind: str, name: str, options: dict, make) -> Any:
    creds = credentials()
    key = (kind, name, tuple(sorted(options.items())), fingerprint(creds))
    objects = _objects()
    if key not in objects:
        if len(objects) >= _MAX_OBJECTS:
            objects.pop(next(iter(objects)))
        objects[key] = make(creds)
    return objects[key]


def warnings() -> list[str]:
    """Truncation and similar warnings from this session's hosted embedders, not yet shown."""
    return st.session_state.setdefault("provider_warnings", [])


def drain_warnings() -> list[str]:
    out = list(warnings())
    warnings().clear()
    return out


def on_warning(message: str) -> None:
    # Runs in this session's script thread (the build happens there); outside a script run
    # there is no session to tell, and the core has already logged the warning.
    with contextlib.suppress(Exception):
        warnings().append(message)


def embedder(name: str, **options: Any) -> Embedder:
    """The embedder `name`: shared from the cache if local, this session's own if hosted."""
    if not is_hosted(name):
        return cache.embedder(name)

    return _session_object("embedder", name, options,
                           lambda creds: cache.session_embedder(name, creds, on_warning, **options))


def llm(name: str) -> LLM:
    if not is_hosted(name):
        return cache.answerer(name)

    limits = options()  # Settings → Answers: part of the key, so a change makes a new answerer
    return _session_object("llm", name, limits, lambda creds: create_llm(name, credentials=creds, **limits))


def reranker(name: str | None) -> Reranker | None:
    if not name or name == NO_RERANKER or not is_hosted(name):
        return create_reranker(name)
    return _session_object("reranker", name, {}, lambda creds: create_reranker(name, credentials=creds))


def test(kind: str, model: str | None = None) -> ConnectionReport:
    return test_connection(kind, credentials(), model or None)
