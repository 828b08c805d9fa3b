"""Small builders shared by tests: documents and a hashing-embedder index."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from rag_core.costs import TurnCosts
from rag_core.embeddings import create_embedder
from rag_core.index.index import Index
from rag_core.core.types import Answer, ChunkingConfig, Document

FACTS = {
    "kenya.md": "Nairobi is the capital and largest city of Kenya. Kenya lies on the equator in East Africa, "
    "with coastline on the Indian Ocean and savannah grasslands that host lions, elephants and rhinos.",
    "japan.md": "Tokyo is the capital of Japan. Japan is an island country in East Asia, in the Pacific Ocean, "
    "made of four main islands; Mount Fuji is its highest peak and a famous volcano.",
    "photosynthesis.md": "Photosynthesis is the process by which green plants use sunlight, water and carbon "
    "dioxide to make glucose and release oxygen. Chlorophyll in the chloroplasts absorbs the light.",
    "einstein.md": "Albert Einstein was a German-born theoretical physicist who developed the theory of relativity. "
    "He received the Nobel Prize in Physics in 1921 for the photoelectric effect.",
}


def fact_documents(facts: dict[str, str] = FACTS) -> list[Document]:
    return [Document(source=name, section=Path(name).stem, text=text) for name, text in facts.items()]


def hashing_index(directory, store: str = "numpy", documents=None, chunking=ChunkingConfig(size=300, overlap=30)) -> Index:
    index = Index.create(directory, create_embedder("hashing"), store, chunking)
    index.ingest(documents if documents is not None else fact_documents())
    index.save()
    return index


def app_errors(at) -> list[str]:
    """Every exception and st.error an AppTest run rendered."""
    return [e.value for e in at.exception] + [e.value for e in at.error]


ROOT = Path(__file__).resolve().parents[1]


def run_cli(*args, check=True) -> subprocess.CompletedProcess:
    """`python -m rag_core ARGS` from the project root, as a user runs it."""
    result = subprocess.run([sys.executable, "-m", "rag_core", *args], cwd=ROOT, capture_output=True,
                            text=True, env=dict(os.environ), timeout=240)
    if check:
        assert result.returncode == 0, result.stderr
    return result


def write_fact_docs(folder: Path) -> Path:
    """The FACTS as one markdown file each in `folder` (created)."""
    folder.mkdir()
    for name, text in FACTS.items():
        (folder / name).write_text(f"# {Path(name).stem}\n\n{text}\n")
    return folder


@dataclass(frozen=True)
class Record:
    """A chat turn as the session export reads it (session_export.TurnRecord)."""

    answer: Answer
    costs: TurnCosts
    index: str
    llm: str
    custom_template: bool

