"""A key never appears in an exception's str/repr, a log record, CLI output, the index
manifest or any saved file — even when a misbehaving server echoes it back."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import pytest

from rag_core.cli import main
from rag_core.embeddings import create_embedder
from rag_core.llm import create_llm
from rag_core.providers import Credentials, load_credentials, redact
from rag_core.providers.connection import test_connection as check_connection
from rag_core.providers.retry import ProviderCallError
from rag_core.rerank import create_reranker
from rag_core.types import GenerationRequest

WRONG_OPENAI = "sk-proj-WRONGKEY-abcdefghijklmnop1234"
WRONG_COHERE = "co-WRONGKEY-abcdefghijklmnop5678"


def test_credentials_repr_masks_keys():
    c = Credentials(openai_api_key=WRONG_OPENAI, cohere_api_key=WRONG_COHERE, compatible_base_url="http://x/v1")
    for text in (repr(c), str(c), f"{c}", str([c])):
        assert WRONG_OPENAI not in text and WRONG_COHERE not in text and "http://x/v1" in text
    assert c.status() == {"OPENAI_API_KEY": "set (…1234)", "COHERE_API_KEY": "set (…5678)",
                          "COMPATIBLE_API_KEY": "not set"}


def test_redact_removes_known_and_key_shaped_secrets():
    c = Credentials(cohere_api_key=WRONG_COHERE)
    assert redact(f"bad {WRONG_COHERE}!", c) == "bad ***!"
    assert redact("Authorization: Bearer abcdefghijkl", None) == "Authorization: ***"
    assert redact("key sk-abcdefghijklmnop", None) == "key ***"


def test_load_credentials_precedence(tmp_path):
    secrets = tmp_path / "secrets.toml"
    secrets.write_text('OPENAI_API_KEY = "from-file"\nCOHERE_API_KEY = "co-from-file"\n')
    c = load_credentials({"OPENAI_API_KEY": "from-env"}, secrets, Credentials(cohere_api_key="typed"))
    assert (c.openai_api_key, c.cohere_api_key) == ("from-env", "typed")
    assert load_credentials({}, tmp_path / "missing.toml").openai_api_key is None
    secrets.write_text(f'OPENAI_API_KEY = "{WRONG_OPENAI}\n')  # broken TOML: the error must not quote it
    with pytest.raises(Exception) as info:
        load_credentials({}, secrets)
    assert WRONG_OPENAI not in str(info.value)


def _no_key(text: str, *keys: str) -> None:
    for key in keys:
        assert key not in text
        assert key[-12:] not in text  # not even a long tail of it


@pytest.mark.parametrize("echo", [False, True])
def test_failures_never_show_the_key(server, creds, policy, caplog, echo):
    server.echo_key_in_errors = echo
    caplog.set_level(logging.DEBUG)
    bad = creds.with_values(openai_api_key=WRONG_OPENAI, cohere_api_key=WRONG_COHERE,
                            compatible_api_key=WRONG_OPENAI)
    calls = [
        lambda: create_embedder("openai:text-embedding-3-small", credentials=bad, cached=False, policy=policy).embed_query("x"),
        lambda: create_embedder("compatible:nomic-embed-text", credentials=bad, cached=False, policy=policy, dim=768).embed_query("x"),
        lambda: create_embedder("cohere:embed-english-v3.0", credentials=bad, cached=False, policy=policy).embed_query("x"),
        lambda: create_reranker("cohere:rerank-v3.5", credentials=bad, policy=policy).rerank("q", _one_hit(), 1),
        lambda: list(create_llm("openai:gpt-4o-mini", credentials=bad, policy=policy).stream(
            GenerationRequest("p", "q", ()))),
    ]
    shown = []
    for call in calls:
        with pytest.raises(ProviderCallError) as info:
            call()
        assert info.value.reason == "auth" and info.value.status == 401
        assert info.value.__cause__ is None and info.value.__suppress_context__  # the SDK error is not chained
        shown += [str(info.value), repr(info.value), "".join(__import__("traceback").format_exception(info.value))]
    for kind in ("openai", "compatible", "cohere"):
        report = check_connection(kind, bad)
        assert not report.ok and report.reason == "auth"
        shown.append(repr(report))
    shown.append(caplog.text)
    shown += [repr(r.args) + str(r.msg) for r in caplog.records]
    _no_key("\n".join(shown), WRONG_OPENAI, WRONG_COHERE)
    for obj in (create_embedder("openai:text-embedding-3-small", credentials=bad, cached=False),
                create_llm("compatible:x", credentials=bad), create_reranker("cohere:rerank-v3.5", credentials=bad)):
        _no_key(repr(obj) + repr(getattr(obj, "endpoint", "")), WRONG_OPENAI, WRONG_COHERE)


def _one_hit():
    from rag_core.types import Chunk, Hit

    return [Hit(Chunk("s", "s", "text", 0, 4, "d"), 0.5, "cosine", 1)]


def _env(monkeypatch, server, tmp_path, openai_key):
    monkeypatch.chdir(tmp_path)  # no .streamlit/secrets.toml from the repo
    monkeypatch.setenv("OPENAI_API_KEY", openai_key)
    monkeypatch.setenv("OPENAI_BASE_URL", server.openai_url)
    monkeypatch.setenv("COHERE_API_KEY", server.cohere_key)
    monkeypatch.setenv("COHERE_BASE_URL", server.cohere_url)


def test_cli_hosted_ingest_asks_before_spending_and_records_real_usage(server, tmp_path, monkeypatch, capsys, caplog):
    caplog.set_level(logging.DEBUG)
    _env(monkeypatch, server, tmp_path, server.openai_key)
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "kenya.md").write_text("# Kenya\n\nNairobi is the capital of Kenya, a country in East Africa. " * 3)
    index = tmp_path / "idx"
    args = ["ingest", str(docs), "--index", str(index), "--embedder", "openai:text-embedding-3-small",
            "--store", "numpy", "--quiet", "--json", "--min-words", "1"]
    assert main(args) == 2  # not a TTY and no --yes: nothing is spent
    err = capsys.readouterr().err
    assert "will embed 1 chunks" in err and "~$" in err and "--yes" in err
    assert server.calls("/v1/embeddings") == [] and not index.exists()
    assert main(args + ["--yes"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["embedder"] == "openai:text-embedding-3-small" and out["embedding_requests"] >= 1
    reported = out["embedding_tokens_reported"]
    assert reported == sum(len(t.split()) for r in server.calls("/v1/embeddings") for t in r.body["input"])
    assert out["cost_usd"] == pytest.approx(reported * 0.02 / 1e6)
    assert out["embedding_tokens_estimated"] > 0
    # query with a hosted LLM and reranker: per-stage costs in the JSON
    assert main(["query", "What is the capital of Kenya?", "--index", str(index), "--llm", "openai:gpt-4o-mini",
                 "--reranker", "cohere:rerank-v3.5", "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    stages = {s["stage"]: s for s in payload["usage"]["stages"]}
    assert set(stages) == {"query embedding", "rerank", "prompt", "completion"}
    assert stages["prompt"]["reported_tokens"] == payload["usage"]["prompt_tokens"]
    assert payload["hits"][0]["score_kind"] == "rerank relevance" and "retrieval_rank" in payload["hits"][0]
    # nothing saved anywhere holds the key: index files, the embedding cache
    home = Path(os.environ["RAG_PLAYGROUND_HOME"])
    for path in [*index.rglob("*"), *home.rglob("*")]:
        if path.is_file():
            assert server.openai_key.encode() not in path.read_bytes(), path
    assert server.openai_key not in caplog.text


def test_cli_errors_show_no_key(server, tmp_path, monkeypatch, capsys):
    server.echo_key_in_errors = True
    _env(monkeypatch, server, tmp_path, WRONG_OPENAI)
    (tmp_path / "a.txt").write_text("Nairobi is the capital of Kenya, a country in East Africa, on the equator.")
    code = main(["ingest", str(tmp_path / "a.txt"), "--index", str(tmp_path / "idx"), "--embedder",
                 "openai:text-embedding-3-small", "--store", "numpy", "--quiet", "--yes", "--min-words", "1"])
    captured = capsys.readouterr()
    assert code == 2 and "401" in captured.err and "OPENAI_API_KEY" in captured.err
    _no_key(captured.err + captured.out, WRONG_OPENAI)


# ---- spending on a model the price table does not list ----------------------------------------


def _docs(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir(exist_ok=True)
    (docs / "kenya.md").write_text("# Kenya\n\nNairobi is the capital of Kenya, a country in East Africa. " * 3)
    return docs


def test_cli_unpriced_hosted_embedder_still_needs_yes(server, tmp_path, monkeypatch, capsys):
    from rag_core import costs

    _env(monkeypatch, server, tmp_path, server.openai_key)
    unpriced = costs.PriceTable.of([p for p in costs.DEFAULT_PRICES.prices
                                    if p.model != "openai:text-embedding-3-small"])
    monkeypatch.setattr(costs, "DEFAULT_PRICES", unpriced)
    index = tmp_path / "idx"
    args = ["ingest", str(_docs(tmp_path)), "--index", str(index), "--embedder", "openai:text-embedding-3-small",
            "--store", "numpy", "--quiet", "--json", "--min-words", "1"]
    assert main(args) == 2  # no price is not free: nothing is spent without --yes
    err = capsys.readouterr().err
    assert "no price in the table for openai:text-embedding-3-small: the cost is unknown" in err
    assert "~$" not in err and "--yes" in err
    assert server.calls("/v1/embeddings") == [] and not index.exists()
    assert main(args + ["--yes"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["cost_usd"] == 0.0 and out["cost_model"] == "openai:text-embedding-3-small (no price in the table)"


def test_cli_cohere_light_embedder_is_priced_and_needs_yes(server, tmp_path, monkeypatch, capsys):
    from rag_core import costs

    assert costs.DEFAULT_PRICES.get("cohere:embed-english-light-v3.0").input_per_mtok == 0.10
    assert costs.DEFAULT_PRICES.get("cohere:embed-multilingual-light-v3.0").input_per_mtok == 0.10
    _env(monkeypatch, server, tmp_path, server.openai_key)
    args = ["ingest", str(_docs(tmp_path)), "--index", str(tmp_path / "idx"), "--embedder",
            "cohere:embed-english-light-v3.0", "--store", "numpy", "--quiet", "--min-words", "1"]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "will embed 1 chunks" in err and "~$" in err and "--yes" in err
    assert server.calls("/v2/embed") == []


def test_cli_compatible_embedder_needs_yes_unless_the_server_is_on_this_machine(server, tmp_path, monkeypatch,
                                                                                capsys):
    from types import SimpleNamespace

    from rag_core.cli import _confirm_spend, _loopback
    from rag_core.errors import RagError
    from rag_core.types import Chunk

    assert _loopback("http://localhost:11434/v1") and _loopback("http://127.0.0.1:8/v1") and _loopback("http://[::1]/")
    assert not _loopback("https://models.example.com/v1") and not _loopback("http://10.0.0.2/v1")
    assert not _loopback("http://127.0.0.1.example.com/v1")
    _env(monkeypatch, server, tmp_path, server.openai_key)
    # on loopback (the fake server): no price, cost unknown, but no --yes needed
    args = ["ingest", str(_docs(tmp_path)), "--index", str(tmp_path / "idx"), "--embedder",
            "compatible:nomic-embed-text", "--base-url", server.openai_url, "--store", "numpy", "--quiet",
            "--min-words", "1"]
    assert main(args) == 0, capsys.readouterr().err
    assert "no price in the table for compatible:nomic-embed-text: the cost is unknown" in capsys.readouterr().err
    assert server.calls("/v1/embeddings")
    # elsewhere: it may be a paid service, so --yes is required (checked before any request)
    remote = create_embedder("compatible:nomic-embed-text", base_url="https://models.example.com/v1", dim=768,
                             credentials=Credentials(), cached=False)
    index = SimpleNamespace(embedder=remote, pending_chunks=lambda docs: [Chunk("a", "a", "some text", 0, 9, "c")])
    with pytest.raises(RagError, match="--yes"):
        _confirm_spend(SimpleNamespace(yes=False), index, [])
    assert "the cost is unknown" in capsys.readouterr().err
    _confirm_spend(SimpleNamespace(yes=True), index, [])


# ---- eval with hosted components ----------------------------------------------------------------


def test_cli_eval_uses_the_keys_for_a_hosted_index_and_reranker(server, tmp_path, monkeypatch, capsys):
    from helpers import FACTS

    from rag_core.cli_eval import main as eval_main

    _env(monkeypatch, server, tmp_path, server.openai_key)
    docs = tmp_path / "docs"
    docs.mkdir()
    for name, text in FACTS.items():
        (docs / name).write_text(f"# {Path(name).stem}\n\n{text}\n")
    index = tmp_path / "idx"
    assert main(["ingest", str(docs), "--index", str(index), "--embedder", "openai:text-embedding-3-small",
                 "--store", "numpy", "--quiet", "--yes", "--min-words", "1"]) == 0
    questions = tmp_path / "q.jsonl"
    questions.write_text(json.dumps({"question": "What is the capital of Kenya?",
                                     "relevant_sources": [str(docs / "kenya.md")]}))
    argv = ["eval", "--index", str(index), "--questions", str(questions), "--top-k", "2", "--quiet", "--json",
            "--reranker", "none,cohere:rerank-v3.5"]
    capsys.readouterr()
    before = len(server.calls("/v1/embeddings"))
    for run in (main, eval_main):  # through cli.main and standalone
        assert run(argv) == 0, capsys.readouterr().err
        data = json.loads(capsys.readouterr().out)
        assert len(data["results"]) == 2 and data["questions"] == 1
    assert len(server.calls("/v1/embeddings")) > before and server.calls("/v2/rerank")
    # a compatible index: eval takes --base-url like the other subcommands
    local = tmp_path / "local"
    assert main(["ingest", str(docs), "--index", str(local), "--embedder", "compatible:nomic-embed-text",
                 "--base-url", server.openai_url, "--store", "numpy", "--quiet", "--min-words", "1"]) == 0
    capsys.readouterr()
    assert main(["eval", "--index", str(local), "--questions", str(questions), "--top-k", "2", "--quiet",
                 "--base-url", server.openai_url]) == 0, capsys.readouterr().err
    assert "best (by MRR)" in capsys.readouterr().out
    monkeypatch.delenv("OPENAI_API_KEY")
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "OPENAI_API_KEY" in err and server.openai_key not in err
