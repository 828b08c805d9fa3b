"""An answer stream has a total deadline and a length cap (issue 16, item 15: an endless SSE
stream grew the CLI from 360 to 517 MB in 90 s; a 1-byte/s drip hung for ever). Both are
settable and named in the error."""

from __future__ import annotations

import time

import pytest

from rag_core.cli import main
from rag_core.core.errors import ConfigError, ProviderError
from rag_core.llm import create_llm
from rag_core.core.types import GenerationRequest
from test_app_providers import app_env  # noqa: F401  (the app fixture: an index, the fake server allowed)


def _ask(creds, policy, **options):
    llm = create_llm("compatible:llama3.2", credentials=creds, policy=policy, **options)
    return list(llm.stream(GenerationRequest("p", "q", ())))


def test_an_endless_stream_is_cut_at_the_length_cap(server, creds, policy):
    server.chat_mode = "endless"
    started = time.monotonic()
    with pytest.raises(ProviderError, match=r"more than 2,600 characters.*answer length cap"):
        _ask(creds, policy, max_answer_tokens=100)
    assert time.monotonic() - started < 10


def test_a_drip_is_cut_at_the_deadline(server, creds, policy):
    server.chat_mode = "drip"
    started = time.monotonic()
    with pytest.raises(ProviderError, match=r"within 1.5 s \(the answer deadline\)"):
        _ask(creds, policy, answer_deadline_s=1.5)
    assert time.monotonic() - started < 6


@pytest.mark.parametrize("bad", [0, -1, 10_000])
def test_the_deadline_is_checked(creds, policy, bad):
    with pytest.raises(ConfigError, match="answer deadline"):
        create_llm("compatible:llama3.2", credentials=creds, policy=policy, answer_deadline_s=bad)


def test_cli_query_with_a_drip_exits_2_naming_the_deadline(server, tmp_path, monkeypatch, capsys):
    from test_provider_garbage import _index

    monkeypatch.chdir(tmp_path)
    index = _index(tmp_path)
    server.chat_mode = "drip"
    capsys.readouterr()
    started = time.monotonic()
    code = main(["query", "capital of Kenya?", "--index", str(index), "--llm", "compatible:llama3.2",
                 "--base-url", server.openai_url, "--answer-timeout", "2"])
    err = capsys.readouterr().err
    assert code == 2 and "within 2 s (the answer deadline)" in err and "--answer-timeout" in err, err
    assert time.monotonic() - started < 15


def test_one_endless_event_line_is_cut_at_the_event_cap(server, creds, policy):
    """Hostile round: a single SSE line that never ends (the SDK's reader buffered it whole)."""
    import resource

    server.chat_mode = "longline"
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.monotonic()
    with pytest.raises(ProviderError, match="one event of the server's stream is over 1,000,000 bytes"):
        _ask(creds, policy)
    assert time.monotonic() - started < 10
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 100_000  # KB: no runaway buffer


@pytest.mark.parametrize("bad", [0, 15, 32_769, 10**9])
def test_the_longest_answer_is_checked(creds, policy, bad):
    """Issue 16 item 15: the cap comes from the requested max tokens, so that number is bounded too."""
    from rag_core.llm.limits import ANSWER_TOKENS

    with pytest.raises(ConfigError, match=f"longest answer is {bad:,} tokens.*{ANSWER_TOKENS[0]}"):
        create_llm("compatible:llama3.2", credentials=creds, policy=policy, max_answer_tokens=bad)


def test_a_rewrite_call_has_the_deadline_too(server, creds, policy):
    from rag_core.retrieval.rewrite import hyde

    server.chat_mode = "drip"
    llm = create_llm("compatible:llama3.2", credentials=creds, policy=policy, answer_deadline_s=1.5)
    started = time.monotonic()
    with pytest.raises(ProviderError, match=r"within 1.5 s \(the answer deadline\)"):
        hyde(llm, "What is the capital of Kenya?")
    assert time.monotonic() - started < 6


def test_cli_query_max_answer_tokens_sets_the_cap_and_names_it(server, tmp_path, monkeypatch, capsys):
    from test_provider_garbage import _index

    monkeypatch.chdir(tmp_path)
    index = _index(tmp_path)
    server.chat_mode = "endless"
    capsys.readouterr()
    started = time.monotonic()
    code = main(["query", "capital of Kenya?", "--index", str(index), "--llm", "compatible:llama3.2",
                 "--base-url", server.openai_url, "--max-answer-tokens", "50"])
    err = capsys.readouterr().err
    assert code == 2 and "more than 1,800 characters" in err and "--max-answer-tokens" in err, err
    assert time.monotonic() - started < 15


def test_cli_eval_rewrites_have_the_deadline(server, tmp_path, monkeypatch, capsys):
    from test_provider_garbage import _index

    monkeypatch.chdir(tmp_path)
    index = _index(tmp_path)
    server.chat_mode = "drip"
    capsys.readouterr()
    started = time.monotonic()
    questions = tmp_path / "q.csv"
    questions.write_text("question,relevant_sources\nWhat is the capital of Kenya?,a.md\n")
    code = main(["eval", "--index", str(index), "--llm", "compatible:llama3.2", "--base-url", server.openai_url,
                 "--rewrite", "hyde", "--answer-timeout", "1.5", "--top-k", "3", "--questions", str(questions)])
    err = capsys.readouterr().err
    assert code == 2 and "within 1.5 s (the answer deadline)" in err, err
    assert time.monotonic() - started < 20


def test_the_app_deadline_is_set_on_settings_and_named_in_chat(app_env, server):
    """The app's entry point passes the session's limits down: Settings → Answers."""
    from test_app_providers import openai_creds, session

    at = session(server, "settings", **openai_creds(server))
    at.number_input(key="w:answer_deadline_s").set_value(1.5).run()
    at.number_input(key="w:max_answer_tokens").set_value(64).run()
    assert any("at most 2,024 characters" in c.value for c in at.caption), [c.value for c in at.caption]
    at.switch_page("pages/chat.py").run()
    at.sidebar.selectbox(key="w:llm").set_value("openai:gpt-4o-mini").run()
    server.chat_mode = "drip"
    started = time.monotonic()
    at.chat_input[0].set_value("What is the capital of Kenya?").run(timeout=30)
    assert time.monotonic() - started < 15
    assert not at.exception, at.exception
    shown = " ".join(e.value for e in at.error)
    assert "within 1.5 s (the answer deadline)" in shown and "Settings → Answers" in shown, shown
    server.chat_mode = "endless"
    at.chat_input[0].set_value("Who developed relativity?").run(timeout=30)
    shown = " ".join(e.value for e in at.error)
    assert "more than 2,024 characters" in shown, shown
