"""The playground configuration file: round trips (TOML and JSON), validation that lists every
problem, bounded size, and the CLI's --config with explicit flags winning."""

from __future__ import annotations

import json
import typing
from dataclasses import fields, replace

import pytest
from helpers import hashing_index
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rag_core.answer import config as cfg
from rag_core.ingest.chunking import STRATEGIES
from rag_core.cli import main
from rag_core.core.errors import ConfigError
from rag_core.answer.prompts import DEFAULT_TEMPLATE
from rag_core.providers import redact
from rag_core.retrieval import MODES
from rag_core.core.types import ChunkingConfig, RetrievalSettings

NAME = st.from_regex(r"\A[A-Za-z0-9][A-Za-z0-9._:/@+\-]{0,30}\Z").filter(lambda s: s != "none" and redact(s) == s)
LINE = st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=40).filter(
    lambda s: s != "none" and redact(s) == s)
NAMES = ("embedder", "store", "answerer", "reranker", "mode", "strategy", "encoding")


def _for(section: str, f, hint) -> st.SearchStrategy:
    """A valid value for any field, from its type (so fields added to the dataclasses are covered)."""
    optional, inner = cfg._optional(hint)
    if optional:
        return st.none() | _for(section, f, inner)
    if f.name == "mode":
        return st.sampled_from(sorted(MODES))
    if f.name == "rewrite":
        return st.sampled_from(("multi_query", "hyde"))
    if f.name == "fusion":
        return st.sampled_from(("weighted", "rrf"))
    if f.name == "normalise":
        return st.sampled_from(("zscore", "minmax"))
    low, high = cfg.BOUNDS.get((section, f.name), cfg.DEFAULT_BOUND)
    if inner is bool:
        return st.booleans()
    if inner is int:
        return st.integers(int(low), int(high))
    if inner is float:
        return st.floats(low, high, allow_nan=False, allow_infinity=False)
    if typing.get_origin(inner) is tuple:
        return st.lists(LINE, max_size=4).map(tuple)
    return NAME if f.name in NAMES else LINE


def _section(section: str, cls: type, **special) -> st.SearchStrategy:
    hints = cfg._hints(cls)
    parts = {f.name: special.get(f.name, _for(section, f, hints[f.name])) for f in fields(cls)}
    return st.builds(cls, **parts)


TEMPLATE = st.tuples(*[st.text(st.characters(blacklist_characters="{}", blacklist_categories=("Cs",)), max_size=30)
                       for _ in range(3)]).map(lambda p: f"{p[0]}{{context}}{p[1]}{{question}}{p[2]}").filter(
    lambda t: redact(t) == t)
CHUNKING = st.integers(1, 5000).flatmap(lambda size: st.builds(
    ChunkingConfig, strategy=st.sampled_from(sorted(STRATEGIES)), size=st.just(size),
    overlap=st.integers(0, size - 1), encoding=NAME))
CONFIGS = st.builds(
    cfg.PlaygroundConfig,
    index=_section("index", cfg.IndexConfig, name=st.from_regex(r"\A[A-Za-z0-9][A-Za-z0-9._-]{0,20}\Z")),
    chunking=CHUNKING,
    retrieval=_section("retrieval", RetrievalSettings),
    answer=_section("answer", cfg.AnswerConfig, template=TEMPLATE),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(CONFIGS)
def test_any_valid_config_round_trips_through_toml_and_json(config):
    assert cfg.loads(cfg.dumps_toml(config), "toml") == config
    assert cfg.loads(cfg.dumps_json(config), "json") == config


def test_every_retrieval_field_is_in_the_file():
    """Fields are read from RetrievalSettings itself: a new one needs no change in config.py."""
    data = cfg.to_dict(cfg.PlaygroundConfig(retrieval=RetrievalSettings(sources=("a",), score_threshold=0.1,
                                                                        reranker="pool-bm25", mmr_lambda=0.7,
                                                                        rewrite="hyde")))
    assert set(data["retrieval"]) == {f.name for f in fields(RetrievalSettings)}
    assert set(data["chunking"]) == {f.name for f in fields(ChunkingConfig)}


def test_a_bad_file_lists_every_problem():
    text = """
version = 1
[retrieval]
top_k = "five"
score_threshold = 1e300
colour = "blue"
[chunking]
size = 0
[answer]
answerer = "openai:gpt-4o-mini"
template = "sk-abcdefghijklmnop {context} {question}"
[keys]
openai_api_key = "x"
"""
    with pytest.raises(ConfigError) as caught:
        cfg.loads(text, "toml")
    message = str(caught.value)
    for expected in ("keys: unknown section", "retrieval.colour: unknown setting", "retrieval.top_k must be a whole number",
                     "retrieval.score_threshold is 1e+300", "chunking.size is 0", "answer.template looks like an API key"):
        assert expected in message, message
    assert "sk-abcdef" not in message


@pytest.mark.parametrize("text, expected", [
    ('{"retrieval": {"top_k": true}}', "must be a whole number"),
    ('{"retrieval": {"sources": "a.md"}}', "must be a list"),
    ('{"retrieval": {"mode": "psychic"}}', "retrieval.mode 'psychic' is unknown"),
    ('{"chunking": {"size": 100, "overlap": 100}}', "overlap must be >= 0 and < size"),
    ('{"answer": {"template": "no placeholders"}}', "missing {context}, {question}"),
    ('{"index": {"name": "../etc"}}', "index name '../etc' is not allowed"),
    ('{"index": {"embedder": "bad name\\nsecond line"}}', "must be one line"),
    ('{"version": 2}', "version: 2 is not supported"),
    ('[1, 2]', "must be a table of sections"),
    ('{"retrieval": ', "not valid JSON"),
])
def test_validation_messages(text, expected):
    with pytest.raises(ConfigError) as caught:
        cfg.loads(text, "json")
    assert expected in str(caught.value)


def test_size_is_bounded_before_parsing(tmp_path):
    big = tmp_path / "big.toml"
    big.write_text("# " + "x" * cfg.MAX_BYTES + "\n")
    with pytest.raises(ConfigError, match="at most 262,144"):
        cfg.load(big)


def test_none_is_omitted_or_spelled_none():
    config = cfg.PlaygroundConfig(retrieval=RetrievalSettings(score_threshold=None))
    assert "score_threshold" not in cfg.dumps_toml(config)
    assert cfg.loads('[retrieval]\nscore_threshold = "none"\n', "toml").retrieval.score_threshold is None
    assert cfg.loads('{"retrieval": {"score_threshold": null}}').retrieval.score_threshold is None


# ---- the CLI ---------------------------------------------------------------------------------


@pytest.fixture
def index_dir(tmp_path):
    hashing_index(tmp_path / "idx")
    return tmp_path / "idx"


def _write(tmp_path, config: cfg.PlaygroundConfig, fmt: str = "toml"):
    path = tmp_path / f"setup.{fmt}"
    path.write_text(cfg.dumps(config, fmt))
    return path


def test_cli_query_takes_the_file_and_an_explicit_flag_overrides_it(tmp_path, index_dir, capsys):
    template = "Context first:\n{context}\n\nQ: {question}\nA:"
    config = cfg.PlaygroundConfig(index=cfg.IndexConfig(dir=str(index_dir)),
                                  retrieval=RetrievalSettings(top_k=3, reranker="pool-bm25"),
                                  answer=cfg.AnswerConfig(template_name="custom", template=template))
    path = _write(tmp_path, config)
    assert main(["query", "What is the capital of Kenya?", "--config", str(path), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert len(out["hits"]) == 3 and out["hits"][0]["score_kind"] != "cosine"  # bm25 reranked, from the file
    assert out["prompt"].startswith("Context first:")  # the file's template

    assert main(["query", "What is the capital of Kenya?", "--config", str(path), "--top-k", "1",
                 "--reranker", "none", "--retriever", "dense", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert len(out["hits"]) == 1 and out["hits"][0]["score_kind"] == "cosine"  # the flags won


def test_cli_flag_before_config_still_wins(tmp_path, index_dir, capsys):
    path = _write(tmp_path, cfg.PlaygroundConfig(index=cfg.IndexConfig(dir=str(index_dir)),
                                                 retrieval=RetrievalSettings(top_k=4)), "json")
    assert main(["query", "--top-k=2", "Who developed relativity?", "--config", str(path), "--json"]) == 0
    assert len(json.loads(capsys.readouterr().out)["hits"]) == 2


def test_cli_eval_takes_the_file(tmp_path, index_dir, capsys):
    path = _write(tmp_path, cfg.PlaygroundConfig(index=cfg.IndexConfig(dir=str(index_dir)),
                                                 retrieval=RetrievalSettings(top_k=2)))
    questions = tmp_path / "q.jsonl"
    questions.write_text(json.dumps({"question": "capital of Kenya", "relevant_sources": ["kenya.md"]}) + "\n")
    assert main(["eval", "--config", str(path), "--questions", str(questions), "--json", "--quiet"]) == 0
    results = json.loads(capsys.readouterr().out)["results"]
    assert len(results) == 1 and "k=2" in json.dumps(results[0])


def test_cli_ingest_takes_the_chunking_and_a_flag_overrides_it(tmp_path, capsys):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.md").write_text("# A\n\n" + "Lions and elephants live on the savannah of Kenya. " * 30)
    path = _write(tmp_path, cfg.PlaygroundConfig(
        index=cfg.IndexConfig(dir=str(tmp_path / "built"), embedder="hashing", store="numpy"),
        chunking=ChunkingConfig(strategy="chars", size=300, overlap=30, encoding="o200k_base")))
    assert main(["ingest", str(docs), "--config", str(path), "--chunk-overlap", "0", "--json", "--quiet"]) == 0
    capsys.readouterr()
    assert main(["info", "--index", str(tmp_path / "built"), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["embedder"] == "hashing" and info["store"] == "numpy"
    assert info["chunking"]["strategy"] == "chars" and info["chunking"]["size"] == 300
    assert info["chunking"]["overlap"] == 0 and info["chunking"]["encoding"] == "o200k_base"


def test_cli_bad_config_is_one_error_line_exit_2(tmp_path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text('[retrieval]\ntop_k = 0\n')
    assert main(["query", "q", "--index", str(tmp_path), "--config", str(bad)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error:") and "retrieval.top_k is 0" in err[0]


def test_round_trip_keeps_default_template_label():
    config = cfg.PlaygroundConfig()
    assert cfg.loads(cfg.dumps_toml(config)).answer.template == DEFAULT_TEMPLATE
    assert replace(config, answer=cfg.AnswerConfig(template="{context}{question}")) != config


def test_a_json_key_given_twice_is_refused_like_toml():
    """Issue 16 item 20: the last value used to win silently."""
    text = '{"version": 1, "retrieval": {"top_k": 3, "top_k": 9}}'
    with pytest.raises(ConfigError, match="top_k.*appears twice"):
        cfg.loads(text, "json")
    with pytest.raises(ConfigError, match="Cannot overwrite"):
        cfg.loads('version = 1\n[retrieval]\ntop_k = 3\ntop_k = 9\n', "toml")
