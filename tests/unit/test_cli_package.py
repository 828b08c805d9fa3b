"""The CLI is one package (issue 10, item 6): one main, one progress bar, option help declared
once, the app's index catalog, and the spend estimate shared with the app."""

from __future__ import annotations

import json

from rag_core import costs
from rag_core.cli import build_parser, main


def _subparsers() -> dict:
    parser = build_parser()
    action = next(a for a in parser._actions if a.dest == "command")
    return dict(action.choices)


def test_each_shared_option_has_one_help_text():
    """--base-url, --min-words, --json ...: the same words wherever a subcommand takes them."""
    helps: dict[str, set] = {}
    for sub in _subparsers().values():
        for action in sub._actions:
            for option in action.option_strings:
                helps.setdefault(option, set()).add(action.help)
    for option in ("--base-url", "--min-words", "--min-chars", "--quiet", "--strategy", "--chunk-size"):
        assert len(helps[option]) == 1, (option, helps[option])
    assert sum(1 for sub in _subparsers().values()
               if any("--base-url" in a.option_strings for a in sub._actions)) >= 5


def test_bad_arguments_return_two_and_help_returns_zero(capsys):
    assert main(["eval", "--index", "x", "--top-k", "0"]) == 2
    assert capsys.readouterr().err.strip().startswith("error: --top-k")
    assert main(["info", "--help"]) == 0


def test_info_without_index_lists_the_apps_catalog(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("RAG_PLAYGROUND_INDEXES", str(tmp_path))
    (tmp_path / "a.md").write_text("Nairobi is the capital of Kenya. " * 5)
    assert main(["ingest", str(tmp_path / "a.md"), "--index", str(tmp_path / "notes"), "--embedder", "hashing",
                 "--store", "numpy", "--quiet"]) == 0
    capsys.readouterr()
    assert main(["info", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["root"] == str(tmp_path.resolve())
    names = [row["name"] for row in out["indexes"]]
    assert "notes" in names
    notes = next(row for row in out["indexes"] if row["name"] == "notes")
    assert notes["embedder"] == "hashing" and notes["chunks"] >= 1
    assert main(["info"]) == 0
    assert "notes: " in capsys.readouterr().out


def test_spend_estimate_is_priced_or_unknown_never_free():
    texts = ["Nairobi is the capital of Kenya."] * 3
    priced = costs.estimate_spend(texts, "openai:text-embedding-3-small")
    assert priced.priced and priced.n_texts == 3 and priced.tokens > 0 and priced.cost_usd > 0
    same = costs.estimate_ingest_cost(texts, "openai:text-embedding-3-small")
    assert (priced.tokens, priced.cost_usd) == (same.tokens, same.cost_usd)
    unknown = costs.estimate_spend(texts, "compatible:nomic-embed-text")
    assert not unknown.priced and unknown.cost_usd is None and unknown.tokens == priced.tokens
