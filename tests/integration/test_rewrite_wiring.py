"""Query rewriting wired through the Pipeline, the CLI (`query --rewrite`) and the Chat, against
the local server speaking the OpenAI chat wire format (tests/fake_provider_server.py): the
rewritten queries are shown, their lists fused, and the model call is its own priced stage."""

from __future__ import annotations

import json

import pytest
from fake_provider_server import server_tokens
from helpers import fact_documents, hashing_index

from rag_core.cli import main
from rag_core.costs import TurnCosts
from rag_core.costs.record import REWRITE, CostModels
from rag_core.llm import create_llm
from rag_core.answer.pipeline import Pipeline
from rag_core.core.types import RetrievalSettings, TokenUsage

REWRITES = "Kenya capital city\nNairobi seat of government\nlargest city of Kenya"
PASSAGE = "Nairobi is the capital and largest city of Kenya, on the Nairobi River in the south."
MODEL = "llama3.2"


@pytest.fixture(scope="module")
def index(tmp_path_factory):
    directory = tmp_path_factory.mktemp("rw") / "idx"
    hashing_index(directory, documents=fact_documents())
    return str(directory)


def _query(capsys, index, server, *flags: str):
    argv = ["query", "What is the capital of Kenya?", "--index", index, "--llm", f"compatible:{MODEL}",
            "--base-url", server.openai_url, "--json", *flags]
    code = main(argv)
    captured = capsys.readouterr()
    return code, captured


def test_query_multi_query_shows_rewrites_fuses_and_prices_the_rewrite_stage(index, server, capsys):
    server.reply(REWRITES)
    code, captured = _query(capsys, index, server, "--rewrite", "multi-query", "--rewrites", "3")
    assert code == 0, captured.err
    out = json.loads(captured.out)
    rw = out["rewrite"]
    assert rw["strategy"] == "multi_query" and rw["warning"] == ""
    assert rw["queries"] == REWRITES.splitlines()
    chats = server.calls("/v1/chat/completions")
    assert len(chats) == 2  # the rewrite, then the answer
    sent = chats[0].body["messages"][-1]["content"]
    assert rw["prompt_tokens"] == server_tokens(sent)  # the server's reported count, not tiktoken's
    assert rw["completion_tokens"] == len(REWRITES.split(" "))
    # the hits are the fusion of the four lists (question + 3 rewrites)
    assert out["hits"] and all(h["score_kind"] == "rrf" for h in out["hits"])
    assert out["hits"][0]["source"].startswith("kenya") or "Nairobi" in out["hits"][0]["text"]
    stage = next(s for s in out["usage"]["stages"] if s["stage"] == REWRITE)
    assert stage["reported_tokens"] == rw["prompt_tokens"] + rw["completion_tokens"]
    # a compatible model the price table lacks is priced on the would-cost default (gpt-4o-mini)
    assert stage["would_cost"] is True and stage["model"] == "openai:gpt-4o-mini"
    expected = (rw["prompt_tokens"] * 0.15 + rw["completion_tokens"] * 0.60) / 1e6
    assert stage["cost_usd"] == pytest.approx(expected, rel=1e-6) and stage["cost_usd"] > 0
    assert rw["cost_usd"] == stage["cost_usd"]
    assert "rewrite" in out["usage"]["latency_ms"]
    # the embedding stage counts the three extra query embeddings
    plain_code, plain = _query(capsys, index, server)
    assert plain_code == 0
    plain_out = json.loads(plain.out)
    assert "rewrite" not in plain_out
    assert out["usage"]["embedding_tokens"] > plain_out["usage"]["embedding_tokens"]


def test_query_hyde_searches_with_the_passage(index, server, capsys):
    server.reply(PASSAGE)
    code, captured = _query(capsys, index, server, "--rewrite", "hyde")
    assert code == 0, captured.err
    out = json.loads(captured.out)
    rw = out["rewrite"]
    assert rw["strategy"] == "hyde" and rw["queries"] == [PASSAGE]
    assert rw["completion_tokens"] == len(PASSAGE.split(" ")) and rw["prompt_tokens"] > 0
    assert out["hits"] and "Nairobi" in out["hits"][0]["text"]
    stage = next(s for s in out["usage"]["stages"] if s["stage"] == REWRITE)
    assert stage["cost_usd"] > 0


def test_query_text_output_lists_the_rewrites_on_stderr(index, server, capsys):
    server.reply(REWRITES)
    argv = ["query", "What is the capital of Kenya?", "--index", index, "--llm", f"compatible:{MODEL}",
            "--base-url", server.openai_url, "--rewrite", "multi-query"]
    assert main(argv) == 0
    captured = capsys.readouterr()
    assert "multi_query: 3 rewrite(s)" in captured.err and "  > Kenya capital city" in captured.err
    assert "  rewrite: " in captured.out


def test_extractive_with_rewrite_exits_2_with_one_clear_line(index, capsys):
    code = main(["query", "What is the capital of Kenya?", "--index", index, "--rewrite", "hyde"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1
    assert err[0].startswith("error:") and "generative answerer" in err[0] and "--llm" in err[0]


@pytest.mark.parametrize("flags", [["--rewrite", "paraphrase"], ["--rewrites", "0"], ["--rewrites", "9"],
                                   ["--rewrites", "two"]])
def test_bad_rewrite_flags_exit_2(index, capsys, flags):
    assert main(["query", "capital", "--index", index, *flags]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: --rewrite")


def test_rewrite_off_overrides_and_eval_help_notes_the_model_calls(index, capsys):
    code = main(["query", "capital of Kenya", "--index", index, "--rewrite", "off", "--json"])
    assert code == 0 and "rewrite" not in json.loads(capsys.readouterr().out)
    try:
        main(["eval", "--help"])
    except SystemExit:
        pass
    assert "one model call per question" in " ".join(capsys.readouterr().out.split())


def test_pipeline_rewrite_stage_is_in_the_turn_record_and_sums(index, server, creds, policy):
    from rag_core.index.index import Index

    server.reply(REWRITES)
    llm = create_llm("openai:gpt-4o-mini", credentials=creds, policy=policy)
    pipeline = Pipeline(Index.open(index), llm)
    turn = pipeline.ask("What is the capital of Kenya?", RetrievalSettings(rewrite="multi_query", rewrites=2))
    for _ in turn:
        pass
    assert turn.retrieval.rewrite is not None and len(turn.retrieval.rewrite.queries) == 2
    assert [s.stage for s in turn.costs.stages] == ["query embedding", "rewrite", "prompt", "completion"]
    stage = turn.costs.stage(REWRITE)
    assert stage.would_cost is False and stage.model == "openai:gpt-4o-mini" and stage.cost_usd > 0
    assert turn.costs.total_usd == pytest.approx(sum(s.cost_usd for s in turn.costs.stages))
    total = turn.costs + turn.costs
    assert total.stage(REWRITE).cost_usd == pytest.approx(2 * stage.cost_usd)
    assert isinstance(total, TurnCosts)


def test_rewrite_stage_without_reported_usage_prices_the_estimate():
    class Local:
        name = "ollama:llama3"

    stage = CostModels().rewrite_stage(Local(), TokenUsage(100, 20), TokenUsage(1, 1))
    assert stage.reported_tokens is None and stage.estimated_tokens == 120  # a local model's counts are not trusted
    assert stage.would_cost and stage.cost_usd == pytest.approx((100 * 0.15 + 20 * 0.60) / 1e6)


def test_eval_rewrites_each_question_with_the_chat_model(index, server, capsys, tmp_path):
    questions = tmp_path / "q.jsonl"
    questions.write_text("\n".join(json.dumps(q) for q in [
        {"question": "What is the capital of Kenya?", "relevant_sources": ["kenya.md"]},
        {"question": "Who developed relativity?", "relevant_sources": ["einstein.md"]}]))
    server.reply(REWRITES, REWRITES)
    argv = ["eval", "--index", index, "--questions", str(questions), "--top-k", "3", "--json",
            "--rewrite", "multi-query", "--llm", f"compatible:{MODEL}", "--base-url", server.openai_url]
    assert main(argv) == 0, capsys.readouterr().err
    out = json.loads(capsys.readouterr().out)
    assert len(out["results"]) == 1 and "MRR" in out["results"][0]
    assert "+ multi-query ×3" in out["results"][0]["setting"]
    assert len(server.calls("/v1/chat/completions")) == 2  # one model call per question
    assert main(["eval", "--index", index, "--questions", str(questions), "--rewrite", "hyde"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "generative answerer" in err[0]


# ---- the Chat page ------------------------------------------------------------------------

from test_app_providers import app_env, session  # noqa: E402,F401  (the app fixtures against the fake server)


def test_chat_shows_the_rewritten_queries_and_the_rewrite_stage(app_env, server):  # noqa: F811
    from helpers import app_errors

    at = session(server, "chat", compatible_base_url=server.openai_url)
    assert not any(b.key == "w:rewrite_choice" for b in at.sidebar.selectbox)  # extractive: not offered
    assert any("generative answerer" in c.value for c in at.sidebar.caption)
    at.sidebar.selectbox(key="w:llm").set_value("compatible:").run()
    at.sidebar.text_input(key="w:compatible_model").set_value(MODEL).run()
    box = at.sidebar.selectbox(key="w:rewrite_choice")
    assert not box.disabled
    box.set_value("multi-query").run()
    at.sidebar.number_input(key="w:rewrites").set_value(2).run()
    evil = "<b>Kenya</b> capital [link](http://x.test)"
    server.reply(f"{evil}\nNairobi seat of government", "Nairobi is the capital.")
    at.chat_input[0].set_value("What is the capital of Kenya?").run()
    assert not app_errors(at), app_errors(at)
    entry = at.session_state["chat_history"][-1]
    assert entry.rewrite is not None and entry.rewrite.queries == ("<b>Kenya</b> capital [link](http://x.test)",
                                                                    "Nairobi seat of government")
    assert any(t.value == f"{evil}\nNairobi seat of government" for t in at.text)  # plain text, as written
    assert not any("<b>Kenya</b>" in m.value for m in at.markdown)  # never as markdown
    table = at.dataframe[0].value.set_index("stage")
    assert list(table.index) == ["query embedding", "rewrite", "prompt", "completion", "total"]
    assert entry.costs.stage("rewrite").reported_tokens and entry.costs.stage("rewrite").cost_usd > 0
    assert entry.answer.settings.rewrite == "multi_query" and entry.answer.settings.rewrites == 2
    assert len(server.calls("/v1/chat/completions")) == 2


def test_a_config_file_carries_the_rewrite_and_refuses_a_bad_one(tmp_path):
    from rag_core.answer import config as cfg
    from rag_core.core.errors import ConfigError

    good = tmp_path / "good.toml"
    good.write_text('version = 1\n[retrieval]\nrewrite = "multi_query"\nrewrites = 2\n')
    loaded = cfg.load(good)
    assert loaded.retrieval.rewrite == "multi_query" and loaded.retrieval.rewrites == 2
    for body in ('rewrite = "paraphrase"', "rewrites = 9"):
        bad = tmp_path / "bad.toml"
        bad.write_text(f"version = 1\n[retrieval]\n{body}\n")
        with pytest.raises(ConfigError, match="rewrite"):
            cfg.load(bad)
