"""Every numeric option of every subcommand is finite and in range, or exit 2 with one
`error:` line naming the option (issue 9, hostile item 11: `--max-file-mb nan`,
`--threshold nan`, `--timeout inf`, `--top-k 0` were accepted or crashed)."""

from __future__ import annotations

import argparse

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rag_core.cli import args as cli_args
from rag_core.cli import build_parser

POSITIONALS = {
    "demo": ["--index", "i"], "ingest": ["docs", "--index", "i"], "crawl": ["http://example.com", "--index", "i"],
    "query": ["question", "--index", "i"], "info": ["--index", "i"], "estimate": ["docs"], "bench": [],
    "eval": ["--index", "i"], "experiment": ["--demo", "--base", "b", "--chunking", "recursive-500-50"],
}
#: subcommands whose --top-k and --threshold take comma-separated lists
LISTS = ("eval", "experiment")
#: options where 0 is meaningful (keep everything, seeds only, no delay, no overlap, any score)
ZERO_OK = {"--min-words", "--min-chars", "--depth", "--delay", "--chunk-overlap", "--threshold", "--rounds",
           "--alpha", "--rrf-k", "--mmr", "--neighbours"}  # bm25 only, plain 1/rank, diversity only, no neighbours
#: checked options that take words, not numbers (the retrieval mode, fusion and normaliser)
WORDS = {"--retriever", "--fusion", "--normalise", "--rewrite"}
#: options whose smallest ordinary value is not 1 (pgvector's HNSW limits: m >= 2, ef_construction >= 4)
#: and an answer of at least 16 tokens
ORDINARY = {"--hnsw-m": "16", "--ef-construction": "64", "--max-answer-tokens": "512"}
ALWAYS_BAD = ["nan", "NaN", "inf", "-inf", "1e400", "abc", "", "-2", "1e30"]


def _subparsers() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


def _numeric_options() -> list[tuple[str, str]]:
    """(command, option) for every option that takes a value and is not free text."""
    out = []
    for command, sub in _subparsers().items():
        for action in sub._actions:
            if action.option_strings and action.type is not None and action.option_strings[-1] not in WORDS:
                out.append((command, action.option_strings[-1]))
    return out


def test_every_numeric_option_uses_a_shared_checked_type():
    """A new option declared with type=int or type=float would accept nan or -5 again."""
    for command, sub in _subparsers().items():
        for action in sub._actions:
            if not action.option_strings:
                continue
            numeric_default = isinstance(action.default, (int, float)) and not isinstance(action.default, bool)
            if action.type is not None or numeric_default:
                assert getattr(action.type, "__module__", "") == "rag_core.cli.args", (command, action.option_strings)
    assert len(_numeric_options()) >= 20


def _parse_error(capsys, argv) -> list[str]:
    with pytest.raises(SystemExit) as caught:
        build_parser().parse_args(argv)
    assert caught.value.code == 2, argv
    return [line for line in capsys.readouterr().err.splitlines() if line.strip()]


@pytest.mark.parametrize("command,option", _numeric_options())
def test_non_finite_and_out_of_range_values_are_refused(capsys, command, option):
    bad = ALWAYS_BAD + ([] if option in ZERO_OK else ["0"])
    if command in LISTS and option == "--threshold":
        bad.remove("")  # an empty item means "none" in an eval threshold list
    for value in bad:
        err = _parse_error(capsys, [command, *POSITIONALS[command], f"{option}={value}"])
        assert len(err) == 1 and err[0].startswith(f"error: {option} must be"), (value, err)
        assert "--help" in err[0]


@pytest.mark.parametrize("command,option", _numeric_options())
def test_the_defaults_and_ordinary_values_still_parse(command, option):
    build_parser().parse_args([command, *POSITIONALS[command]])
    value = "1,3" if command in LISTS and option == "--top-k" else ORDINARY.get(option, "1")
    if option == "--threshold":
        value = "none,0.3" if command in LISTS else "0.3"
    build_parser().parse_args([command, *POSITIONALS[command], option, value])


def test_eval_lists_are_checked_item_by_item(capsys):
    for option, value in (("--top-k", "1,0"), ("--top-k", "5,nan"), ("--threshold", "none,nan"),
                          ("--threshold", "0.2,inf")):
        err = _parse_error(capsys, ["eval", "--index", "i", option, value])
        assert len(err) == 1 and err[0].startswith(f"error: {option} must be")
    args = build_parser().parse_args(["eval", "--index", "i", "--top-k", "1,5", "--threshold", "none,0.25"])
    assert (args.top_k, args.threshold) == ("1,5", "none,0.25")  # cli.eval.parse_grid splits them


def test_any_other_argparse_error_is_one_line_too(capsys):
    err = _parse_error(capsys, ["ingest", "--index", "i"])  # the paths are missing
    assert len(err) == 1 and err[0].startswith("error: ")


@given(st.floats(allow_nan=True, allow_infinity=True))
def test_real_accepts_exactly_the_finite_values_in_range(value):
    parse = cli_args.real(0, 10, low_open=True)
    ok = value == value and 0 < value <= 10
    try:
        assert parse(repr(value)) == value and ok
    except argparse.ArgumentTypeError:
        assert not ok


def test_word_options_take_only_their_words(capsys):
    for argv in (["query", "q", "--index", "i", "--retriever", "sparse"], ["eval", "--index", "i", "--fusion", "rrf,sum"],
                 ["query", "q", "--index", "i", "--normalise", "nan"]):
        err = _parse_error(capsys, argv)
        assert len(err) == 1 and " must be one of " in err[0], err
    args = build_parser().parse_args(["query", "q", "--index", "i", "--retriever", "BM25", "--mmr", "off"])
    assert (args.retriever, args.mmr) == ("bm25", "off")
