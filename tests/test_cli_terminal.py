"""Nothing the CLI prints can drive the terminal: questions, sources and errors carry text from
untrusted files (issue 16, item 18: `eval --show-misses` printed a screen clear and an OSC title)."""

from __future__ import annotations

import json

from helpers import hashing_index, run_cli
from hypothesis import given
from hypothesis import strategies as st

from rag_core.cli.common import terminal_safe

CLEAR, TITLE, CSI8 = "\x1b[2J\x1b[H", "\x1b]0;pwned\x07", "\x9b31m"


def test_show_misses_prints_control_sequences_inert(tmp_path):
    hashing_index(tmp_path / "idx")
    questions = tmp_path / "q.jsonl"
    rows = [{"question": f"Nairobi capital of Kenya{CLEAR} savannah{TITLE} lions{CSI8}", "relevant_sources": ["japan.md"]},
            {"question": "Tokyo capital of Japan", "relevant_sources": ["japan.md"]}]
    questions.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    result = run_cli("eval", "--index", str(tmp_path / "idx"), "--questions", str(questions), "--top-k", "1",
                     "--show-misses", check=False)
    out = result.stdout + result.stderr
    assert "\x1b" not in out and "\x07" not in out and "\x9b" not in out, repr(out[-400:])
    assert "missed:" in result.stdout and "\\x1b[2J" in result.stdout


@given(st.text())
def test_terminal_safe_leaves_no_control_but_tab_and_newline(text):
    safe = terminal_safe(text)
    assert not any((ord(c) < 32 and c not in "\t\n") or 0x7F <= ord(c) <= 0x9F for c in safe)
    if not any((ord(c) < 32 and c not in "\t\n") or 0x7F <= ord(c) <= 0x9F for c in text):
        assert safe == text
