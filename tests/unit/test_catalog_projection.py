"""The index catalog and the PCA map live in rag_core (no streamlit), so the CLI can use them."""

import numpy as np
import pytest
from helpers import hashing_index

from rag_core.index import saved
from rag_core.core.errors import ConfigError
from rag_core.evaluation.projection import project_index


def test_projection_places_a_stored_vector_on_its_own_point(tmp_path):
    index = hashing_index(tmp_path / "idx", store="numpy")
    proj = project_index(index)
    assert proj.coords.shape == (index.store.count(), 2) and len(proj.chunks) == index.store.count()
    assert np.allclose(proj.project(index.store.vectors()[0]), proj.coords[0], atol=1e-4)
    assert 0 < proj.explained[1] <= proj.explained[0] <= 1


def test_catalog_lists_renames_and_deletes(tmp_path, monkeypatch):
    monkeypatch.setenv("RAG_PLAYGROUND_INDEXES", str(tmp_path))
    hashing_index(tmp_path / "small", store="numpy")
    assert saved.index_names() == ["small"]
    saved.rename_index("small", "renamed")
    assert saved.index_names() == ["renamed"]
    with pytest.raises(ConfigError, match="not allowed"):
        saved.index_dir("../escape")
    saved.delete_index("renamed")
    assert saved.index_names() == []
