import sys
from pathlib import Path

import pytest

from rag_core.core.settings import configure

TESTS = Path(__file__).resolve().parent
#: a test's kind is its folder: unit (the core's logic, fast), app (AppTest and the real browser),
#: integration (embedded PostgreSQL, local HTTP servers speaking the providers' wire formats,
#: subprocesses, installs); `pytest -m unit` is the same as `pytest tests/unit`
KINDS = ("unit", "app", "integration")
for kind in KINDS:  # shared makers (make_pdf, app_env, ...) import across folders
    sys.path.insert(0, str(TESTS / kind))


def pytest_collection_modifyitems(items):
    for item in items:
        folder = Path(str(item.fspath)).parent.name
        if folder in KINDS:
            item.add_marker(getattr(pytest.mark, folder))


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path_factory, monkeypatch):
    """Every test gets its own cache dir, so no test sees another's embeddings."""
    monkeypatch.setenv("RAG_PLAYGROUND_HOME", str(tmp_path_factory.mktemp("home")))
    configure(None)  # the app's start configures the operator settings: each test reads its own
    yield
    configure(None)


# Provider tests: a local server speaking the OpenAI and Cohere wire formats, credentials
# pointed at it, and a retry policy whose sleeps are recorded instead of slept.
from fake_provider_server import creds, policy, server, sleeps  # noqa: E402,F401
from fake_pinecone import pinecone_env, pinecone_fake  # noqa: E402,F401  (Pinecone's wire, served locally)
from pg_fixtures import pg_data_dir, pg_dsn, pg_env  # noqa: E402,F401  (the embedded PostgreSQL for pgvector tests)


@pytest.fixture
def app_root(tmp_path, monkeypatch):
    """For AppTests: an empty index root, the project as working directory, fresh caches."""
    import streamlit as st

    root = tmp_path / "indexes"
    monkeypatch.setenv("RAG_PLAYGROUND_INDEXES", str(root))
    monkeypatch.chdir(Path(__file__).resolve().parents[1])
    st.cache_resource.clear()
    yield root
    st.cache_resource.clear()
