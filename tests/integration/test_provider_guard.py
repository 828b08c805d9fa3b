"""Hostile item 1 (issue 9): a base URL typed in the browser never receives the operator's keys
and goes through the crawler's address guard (loopback, private, link-local/metadata refused
with zero requests) unless the operator allows local model servers; the operator's keys go
only to the base URLs configured beside them. Driven through the real SDKs against the local
fake server, which records every Authorization header it receives."""

from __future__ import annotations

import pytest

from rag_core.embeddings import create_embedder
from rag_core.core.errors import ConfigError
from rag_core.llm import create_llm
from rag_core.providers import Credentials, load_credentials
from rag_core.providers.connection import test_connection as check_connection
from rag_core.providers.retry import ProviderCallError
from rag_core.rerank import create_reranker
from rag_core.core.types import Chunk, GenerationRequest, Hit

OPERATOR_COMPATIBLE_KEY = "compat-OPERATOR-key-0123456789"
VISITOR_KEY = "sk-visitor-typed-0123456789abcdef"


def _hits():
    return [Hit(Chunk("s", "s", "text about Kenya", 0, 16, "d"), 0.5, "cosine", 1)]


def operator_env(server, **extra) -> dict:
    """The operator's environment: real keys, configured beside the official endpoints."""
    return {"OPENAI_API_KEY": server.openai_key, "COHERE_API_KEY": server.cohere_key,
            "COMPATIBLE_API_KEY": OPERATOR_COMPATIBLE_KEY, **extra}


def visitor(server, env: dict, **typed) -> Credentials:
    """What a browser session gets when it typed `typed` in Settings."""
    return load_credentials(env, None, Credentials(**typed))


def every_call(creds: Credentials, policy):
    """Test connection and each real call (embedding, chat, rerank) for the three providers."""
    return {
        "test openai": lambda: check_connection("openai", creds),
        "test compatible": lambda: check_connection("compatible", creds),
        "test cohere": lambda: check_connection("cohere", creds),
        "embed openai": lambda: create_embedder("openai:text-embedding-3-small", credentials=creds, cached=False,
                                                policy=policy).embed_query("x"),
        "embed compatible": lambda: create_embedder("compatible:nomic-embed-text", credentials=creds, cached=False,
                                                    policy=policy, dim=768).embed_query("x"),
        "embed cohere": lambda: create_embedder("cohere:embed-english-v3.0", credentials=creds, cached=False,
                                                policy=policy).embed_query("x"),
        "chat openai": lambda: list(create_llm("openai:gpt-4o-mini", credentials=creds, policy=policy).stream(
            GenerationRequest("p", "q", ()))),
        "chat compatible": lambda: list(create_llm("compatible:llama3.2", credentials=creds, policy=policy).stream(
            GenerationRequest("p", "q", ()))),
        "rerank cohere": lambda: create_reranker("cohere:rerank-v3.5", credentials=creds, policy=policy).rerank(
            "q", _hits(), 1),
    }


def test_session_view_keeps_operator_keys_to_their_configured_urls():
    from rag_core.providers.credentials import session_view

    op = Credentials(openai_api_key="sk-OPERATOR-0123456789", cohere_api_key="co-OPERATOR-0123456789",
                     compatible_api_key=OPERATOR_COMPATIBLE_KEY, compatible_base_url="http://10.1.2.3:8000/v1")
    # a typed base URL without a typed key: no key at all (never the operator's)
    view = session_view(op, Credentials(openai_base_url="https://evil.example/v1",
                                        compatible_base_url="https://evil.example/v1",
                                        cohere_base_url="https://evil.example"))
    assert (view.openai_api_key, view.cohere_api_key, view.compatible_api_key) == (None, None, None)
    assert set(view.visitor_urls) == {"openai", "cohere", "compatible"}
    assert set(view.secrets()) >= {"sk-OPERATOR-0123456789", "co-OPERATOR-0123456789", OPERATOR_COMPATIBLE_KEY}
    for secret in ("sk-OPERATOR-0123456789", OPERATOR_COMPATIBLE_KEY):
        assert secret not in repr(view)
    # the configured (or official) base URL typed again is not a visitor URL: the operator's key is used
    same = session_view(op, Credentials(openai_base_url="https://API.openai.com/v1/",
                                        compatible_base_url="http://10.1.2.3:8000/v1/"))
    assert same.visitor_urls == () and same.openai_api_key == "sk-OPERATOR-0123456789"
    assert same.compatible_api_key == OPERATOR_COMPATIBLE_KEY
    # a typed key alone goes to the operator's base URL
    keyed = session_view(op, Credentials(openai_api_key=VISITOR_KEY))
    assert keyed.openai_api_key == VISITOR_KEY and keyed.openai_base_url is None and keyed.visitor_urls == ()
    # the visitor cannot switch the guard off: only the operator's setting counts
    assert not session_view(op, Credentials(allow_local_servers=True)).allow_local_servers
    assert session_view(Credentials(allow_local_servers=True), Credentials()).allow_local_servers


def test_allow_local_servers_is_read_from_the_environment_and_secrets(tmp_path):
    assert load_credentials({"RAG_ALLOW_LOCAL_MODEL_SERVERS": "1"}, None).allow_local_servers
    assert not load_credentials({"RAG_ALLOW_LOCAL_MODEL_SERVERS": "0"}, None).allow_local_servers
    secrets = tmp_path / "secrets.toml"
    secrets.write_text("RAG_ALLOW_LOCAL_MODEL_SERVERS = true\n")
    assert load_credentials({}, secrets).allow_local_servers
    assert load_credentials({}, secrets, Credentials(openai_base_url="http://x/v1")).allow_local_servers


@pytest.mark.parametrize("where", ["fake", "metadata", "localhost", "ipv6-loopback", "mapped", "private"])
def test_visitor_base_url_to_this_machine_or_metadata_is_refused_with_zero_requests(server, policy, where):
    port = server.url.rsplit(":", 1)[1]
    url = {"fake": server.openai_url, "metadata": "http://169.254.169.254/latest/v1",
           "localhost": f"http://localhost:{port}/v1", "ipv6-loopback": f"http://[::1]:{port}/v1",
           "mapped": f"http://[::ffff:127.0.0.1]:{port}/v1", "private": "http://10.0.0.5:11434/v1"}[where]
    creds = visitor(server, operator_env(server), openai_base_url=url, compatible_base_url=url,
                    cohere_base_url=url.removesuffix("/v1"), openai_api_key=VISITOR_KEY,
                    cohere_api_key=VISITOR_KEY)
    for name, call in every_call(creds, policy).items():
        if name.startswith("test"):
            report = call()
            assert not report.ok and report.reason == "refused", (name, report)
            message = report.message
        else:
            with pytest.raises(ProviderCallError) as info:
                call()
            assert info.value.reason == "refused", name
            message = str(info.value)
        assert "Nothing was sent" in message, message
        # the operator's setting is named only where it could help (never for a metadata address)
        assert ("RAG_ALLOW_LOCAL_MODEL_SERVERS" in message) == (where != "metadata"), message
    assert server.requests == []
    assert policy.sleep.waits == []  # refused at once, never retried


def test_operator_allowing_local_servers_opens_loopback_but_never_metadata(server, policy):
    env = operator_env(server, RAG_ALLOW_LOCAL_MODEL_SERVERS="1")
    creds = visitor(server, env, openai_base_url=server.openai_url, compatible_base_url=server.openai_url,
                    cohere_base_url=server.cohere_url, openai_api_key=VISITOR_KEY, cohere_api_key=server.cohere_key)
    server.openai_keys.add(VISITOR_KEY)
    for name, call in every_call(creds, policy).items():
        result = call()
        assert getattr(result, "ok", True), (name, result)
    metadata = visitor(server, env, openai_base_url="http://169.254.169.254/latest/v1", openai_api_key=VISITOR_KEY)
    report = check_connection("openai", metadata)
    assert report.reason == "refused"
    # no setting opens a metadata address, so the advice does not suggest one (the QA run found it did)
    assert "RAG_ALLOW_LOCAL_MODEL_SERVERS" not in report.message and "never a model server" in report.message
    # the operator's keys never reached the visitor's base URL: only typed keys or no key at all
    sent = set(server.authorizations())
    assert sent == {f"Bearer {VISITOR_KEY}", "Bearer no-key-needed", f"Bearer {server.cohere_key}"}
    assert f"Bearer {server.openai_key}" not in sent and f"Bearer {OPERATOR_COMPATIBLE_KEY}" not in sent


def test_a_visitor_base_url_without_a_typed_key_sends_no_operator_key(server, policy):
    env = operator_env(server, RAG_ALLOW_LOCAL_MODEL_SERVERS="1")
    creds = visitor(server, env, openai_base_url=server.openai_url, compatible_base_url=server.openai_url,
                    cohere_base_url=server.cohere_url)
    for kind in ("openai", "cohere"):
        report = check_connection(kind, creds)
        assert not report.ok and report.reason == "config" and "typed in Settings" in report.message
    with pytest.raises(ConfigError, match="type your own OpenAI key"):
        create_llm("openai:gpt-4o-mini", credentials=creds)
    assert check_connection("compatible", creds).ok  # a compatible server may need no key: none is sent
    assert server.authorizations() == ["Bearer no-key-needed"]


def test_a_host_name_is_checked_by_the_address_it_resolves_to_and_pinned(server, policy, monkeypatch):
    """The guard resolves once and connects to the checked address: a name that resolves to
    loopback is refused; when allowed, the connection goes to that very address."""
    from rag_core.core import safety

    port = server.url.rsplit(":", 1)[1]
    lookups: list[str] = []

    def resolver(host, port_):
        lookups.append(host)
        return ["127.0.0.1"]

    monkeypatch.setattr(safety, "system_resolver", resolver)
    url = f"http://models.example.test:{port}/v1"
    refused = visitor(server, operator_env(server), compatible_base_url=url)
    assert check_connection("compatible", refused).reason == "refused"
    assert server.requests == [] and lookups == ["models.example.test"]
    allowed = visitor(server, operator_env(server, RAG_ALLOW_LOCAL_MODEL_SERVERS="1"), compatible_base_url=url)
    assert check_connection("compatible", allowed).ok  # the name does not exist: the pinned address was used
    assert server.requests[0].header("Host") == f"models.example.test:{port}"


def test_operator_configured_base_urls_and_the_cli_are_not_guarded(server, policy):
    """The operator's own base URL (environment, secrets.toml, the CLI's --base-url) is trusted,
    with the operator's key; a visitor's typed key goes there too."""
    env = operator_env(server, OPENAI_BASE_URL=server.openai_url, COMPATIBLE_BASE_URL=server.openai_url)
    server.openai_keys |= {OPERATOR_COMPATIBLE_KEY, VISITOR_KEY}
    assert check_connection("openai", load_credentials(env, None)).ok
    assert check_connection("compatible", visitor(server, env, compatible_base_url=server.openai_url + "/")).ok
    assert check_connection("openai", visitor(server, env, openai_api_key=VISITOR_KEY)).ok
    assert server.authorizations() == [f"Bearer {server.openai_key}", f"Bearer {OPERATOR_COMPATIBLE_KEY}",
                                       f"Bearer {VISITOR_KEY}"]
