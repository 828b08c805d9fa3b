"""Nothing the CLI prints can drive the terminal: questions, sources and errors carry text from
untrusted files (issue 16, item 18: `eval --show-misses` printed a screen clear and an OSC title)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from helpers import hashing_index, run_cli
from hypothesis import given
from hypothesis import strategies as st

from rag_core.cli.common import terminal_safe

ROOT = Path(__file__).resolve().parents[2]
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
    assert "missed:" in result.stdout and "\\u001b[2J" in result.stdout


def _control(c: str) -> bool:
    return (ord(c) < 32 and c not in "\t\n") or 0x7F <= ord(c) <= 0x9F or c in "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"


@given(st.text())
def test_terminal_safe_leaves_no_control_but_tab_and_newline(text):
    safe = terminal_safe(text)
    assert not any(_control(c) for c in safe)
    if not any(_control(c) for c in text):
        assert safe == text


def _cli_bytes(*args) -> subprocess.CompletedProcess:
    """run_cli, but bytes: text mode would turn a carriage return into a newline."""
    return subprocess.run([sys.executable, "-m", "rag_core", *args], cwd=ROOT, capture_output=True,
                          env=dict(os.environ), timeout=240)


def test_json_output_stays_valid_json_with_del_c1_and_bidi_characters(tmp_path):
    """Escaping DEL, C1 (NEL, CSI) and bidi controls as \\xNN made `query --json` invalid JSON;
    as \\uNNNN the JSON is valid and reads back the very same text."""
    hashing_index(tmp_path / "idx")
    question = "Nairobi\x85 capital\x7f of Kenya\x9b31m \u202eevil\u202c"
    result = _cli_bytes("query", "--index", str(tmp_path / "idx"), "--json", "--quiet", question)
    out = result.stdout.decode()
    assert not any(c in out for c in "\x85\x7f\x9b\u202e"), repr(out[-300:])
    assert question in json.loads(out)["prompt"]  # the prompt quotes the question


def test_a_carriage_return_in_untrusted_text_cannot_rewrite_a_stderr_line(tmp_path):
    hashing_index(tmp_path / "idx")
    questions = tmp_path / "q.jsonl"
    questions.write_text(json.dumps({"question": "Tokyo capital of Japan",
                                     "relevant_sources": ["gone.md\rall good, nothing missing"]}) + "\n")
    result = _cli_bytes("eval", "--index", str(tmp_path / "idx"), "--questions", str(questions), "--top-k", "1")
    assert b"\rall good" not in result.stderr and b"\\u000dall good" in result.stderr, result.stderr[-300:]
