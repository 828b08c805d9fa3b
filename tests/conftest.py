import pytest


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path_factory, monkeypatch):
    """Every test gets its own cache dir, so no test sees another's embeddings."""
    monkeypatch.setenv("RAG_PLAYGROUND_HOME", str(tmp_path_factory.mktemp("home")))
