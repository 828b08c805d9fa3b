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
from rag_core.core.types import GenerationRequest

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
    from rag_core.core.types import Chunk, Hit

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

    from rag_core.cli.data import _loopback
    from rag_core.cli.data import confirm_spend as _confirm_spend
    from rag_core.core.errors import RagError
    from rag_core.core.types import Chunk

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

    from rag_core.cli import main as eval_main

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


# ---- issue 9, hostile item 8: every configured secret is redacted wherever text leaves ----------

FILE_KEY = "Cohere0FromSecretsToml0123456789abcdWXYZ"  # not shaped like sk-...: only knowing it masks it


def _secrets_toml(tmp_path, body: str) -> None:
    (tmp_path / ".streamlit").mkdir(exist_ok=True)
    (tmp_path / ".streamlit" / "secrets.toml").write_text(body)


@pytest.mark.parametrize("broken", [False, True])
def test_cli_unexpected_error_masks_a_secrets_toml_key(tmp_path, monkeypatch, capsys, broken):
    """An "unexpected" error quoting a key from .streamlit/secrets.toml (not only the environment).
    A secrets file that is not TOML stops the CLI before any command runs, without quoting it."""
    from rag_core.cli import info

    monkeypatch.chdir(tmp_path)
    for var in ("OPENAI_API_KEY", "COHERE_API_KEY", "COMPATIBLE_API_KEY", "RAG_DEBUG"):
        monkeypatch.delenv(var, raising=False)
    _secrets_toml(tmp_path, f'COHERE_API_KEY = "{FILE_KEY}"\n' + ("[broken\n" if broken else ""))

    def boom(args):
        raise RuntimeError(f"the server said: your key {FILE_KEY} is bad")

    monkeypatch.setattr(info, "cmd_info", boom)
    assert main(["info", "--index", str(tmp_path)]) == (2 if broken else 1)
    err = capsys.readouterr().err
    if broken:
        assert "secrets.toml is not valid TOML; fix it or remove it" in err and len(err.splitlines()) == 1
    else:
        assert "unexpected RuntimeError" in err and "***" in err
    _no_key(err, FILE_KEY)


def test_a_key_in_a_model_answer_is_masked_in_the_stream_the_cli_and_json(server, tmp_path, monkeypatch, capsys):
    """A model that repeats a configured key (env or secrets.toml), even split across stream chunks."""
    _env(monkeypatch, server, tmp_path, server.openai_key)
    _secrets_toml(tmp_path, f'COMPATIBLE_API_KEY = "{FILE_KEY}"\n')
    server.answer = f"Sure: the key is {server.openai_key} and {FILE_KEY}, also {server.cohere_key}."
    server.chunk_chars = 7  # every key arrives in several pieces
    creds = load_credentials()
    pieces = [p for p in create_llm("openai:gpt-4o-mini", credentials=creds).stream(GenerationRequest("p", "q", ()))
              if isinstance(p, str)]
    assert "".join(pieces) == "Sure: the key is *** and ***, also ***."
    index = tmp_path / "idx"
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.md").write_text("# Kenya\n\nNairobi is the capital of Kenya, a country in East Africa.\n")
    assert main(["ingest", str(docs), "--index", str(index), "--embedder", "hashing", "--store", "numpy",
                 "--quiet", "--min-words", "1"]) == 0
    for extra in ([], ["--json"]):
        capsys.readouterr()
        assert main(["query", "capital of Kenya?", "--index", str(index), "--llm", "openai:gpt-4o-mini", *extra]) == 0
        out = capsys.readouterr()
        assert "the key is *** and" in out.out
        _no_key(out.out + out.err, server.openai_key, FILE_KEY, server.cohere_key)


def test_user_info_in_a_base_url_is_refused_never_sent_and_never_shown(server, tmp_path, monkeypatch, capsys):
    secret = "sk-in-the-URL-0123456789abcdef"
    url = server.openai_url.replace("http://", f"http://me:{secret}@")
    for kind, creds in (("openai", Credentials(openai_api_key="sk-x-0123456789", openai_base_url=url)),
                        ("compatible", Credentials(compatible_base_url=url)),
                        ("cohere", Credentials(cohere_api_key="co-x-0123456789", cohere_base_url=url))):
        report = check_connection(kind, creds)
        assert report.reason == "config" and "user name or password" in report.message
        _no_key(report.message + repr(creds), secret)
    assert server.requests == []  # no Basic auth ever went out
    # in an environment variable: the CLI refuses with one line, exit 2, and shows no part of it
    _env(monkeypatch, server, tmp_path, server.openai_key)
    monkeypatch.setenv("OPENAI_BASE_URL", url)
    (tmp_path / "a.txt").write_text("Nairobi is the capital of Kenya, a country in East Africa, on the equator.")
    code = main(["ingest", str(tmp_path / "a.txt"), "--index", str(tmp_path / "idx"), "--embedder",
                 "openai:text-embedding-3-small", "--store", "numpy", "--quiet", "--yes", "--min-words", "1"])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("error:") and "user name or password" in err and "OPENAI_BASE_URL" in err
    _no_key(err, secret)
    assert server.requests == []
    # any text that quotes such a URL is masked
    assert redact(f"GET {url}/models failed") == f"GET http://***@{server.openai_url[7:]}/models failed"


def test_redact_covers_env_and_secrets_toml_and_session_keys(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-env-KEY-0123456789")
    monkeypatch.setenv("COMPATIBLE_BASE_URL", "http://bob:hunter2-long-pass@10.0.0.2/v1")
    _secrets_toml(tmp_path, f'COHERE_API_KEY = "{FILE_KEY}"\n')
    typed = Credentials(compatible_api_key="typed-session-KEY-42")
    text = (f"a sk-env-KEY-0123456789 b {FILE_KEY} c typed-session-KEY-42 d hunter2-long-pass "
            "e Authorization: Basic Ym9iOmh1bnRlcjI=")
    assert redact(text, typed) == "a *** b *** c *** d *** e Authorization: ***"


def test_stream_redactor_masks_keys_split_anywhere():
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from rag_core.providers.credentials import StreamRedactor, redact_with

    secret = "QZKEY9QZKEY9QZKEY9"

    @settings(max_examples=200, deadline=None)
    @given(st.lists(st.sampled_from(["a", "b", " ", "\n", secret, "QZ"]), max_size=30), st.data())
    def check(parts, data):
        text = "".join(parts)
        cuts = sorted(data.draw(st.lists(st.integers(0, len(text)), max_size=10)))
        pieces = [text[i:j] for i, j in zip([0, *cuts], [*cuts, len(text)])]
        redactor = StreamRedactor([secret])
        shown = "".join(redactor.feed(p) for p in pieces) + redactor.flush()
        assert secret not in shown
        assert shown == redact_with(text, [secret])

    check()


def test_a_missing_or_refused_key_is_worded_by_each_entry_point():
    """The core names the kind; only the app speaks of its Settings page (issue 18)."""
    from rag_core.cli import advice as cli_advice
    from rag_core.core.errors import ConfigError
    from rag_core.providers import Credentials, ProviderCallError
    from rag_core.providers.clients import openai_endpoint
    from ui import advice as app_advice

    with pytest.raises(ConfigError) as caught:
        openai_endpoint("openai", Credentials())
    missing = caught.value
    assert missing.kind == "no_key" and "Settings" not in str(missing)
    assert "Settings" not in cli_advice.error_text(missing, str(missing))
    assert "type one in Settings" in app_advice.error_text(missing, str(missing))
    refused = ProviderCallError("openai: the server rejected the API key (401): check OPENAI_API_KEY", reason="auth")
    assert refused.kind == "provider_auth"
    assert cli_advice.error_text(refused, str(refused)).endswith("check OPENAI_API_KEY")
    assert app_advice.error_text(refused, str(refused)).endswith("(or the key typed in Settings)")
