"""Question sets generated from any index (issue 19, part 1): the offline generator's output,
its copy bound, the CLI, and the Evaluate flow (generate, edit, save, evaluate)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import app_errors, hashing_index, run_cli
from hypothesis import given, settings
from hypothesis import strategies as st
from streamlit.testing.v1 import AppTest

from rag_core.ingest.demo import demo_documents
from rag_core.evaluation.question_gen import (COPY_BOUND, longest_copied_run, offline_questions, sample_chunks)
from rag_core.core.types import Chunk

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def demo_index(tmp_path):
    return hashing_index(tmp_path / "demo", documents=demo_documents()[:80])


def test_offline_questions_name_their_chunks_source_and_are_seeded(demo_index):
    chunks = demo_index.store.chunks()
    by_id = {c.chunk_id: c for c in chunks}
    questions = offline_questions(chunks, n=40, seed=3)
    assert len(questions) == 40 and len({q.question for q in questions}) == 40
    for q in questions:
        assert q.relevant_sources == (by_id[q.chunk_id].source,)
        assert longest_copied_run(q.question, by_id[q.chunk_id].text) <= COPY_BOUND
    assert offline_questions(chunks, n=40, seed=3) == questions
    assert offline_questions(chunks, n=40, seed=4) != questions
    assert len({q.relevant_sources for q in questions}) >= 30  # spread across sources


def test_sampling_is_stratified_across_sources():
    chunks = [Chunk(f"s{i % 3}.md" if i < 30 else "big.md", "x", " ".join(f"w{i}x{j}" for j in range(20)), 0, 1,
                    f"d{i}") for i in range(300)]
    picked = sample_chunks(chunks, 8, seed=1)
    assert {c.source for c in picked} == {"s0.md", "s1.md", "s2.md", "big.md"}


def test_longest_copied_run_worked_example():
    assert longest_copied_run("the capital city of Kenya", "Nairobi is the capital city") == 3


WORDS = st.lists(st.sampled_from(["river", "forest", "city", "capital", "kenya", "island", "volcano", "ocean",
                                  "music", "history", "people", "language", "mountain", "desert"]),
                 min_size=12, max_size=60)


@settings(max_examples=40, deadline=None)
@given(st.lists(WORDS, min_size=3, max_size=8))
def test_no_question_copies_its_chunk_beyond_the_bound(texts):
    chunks = [Chunk(f"s{i}.md", f"s{i}", " ".join(t), 0, 1, f"d{i}") for i, t in enumerate(texts)]
    by_id = {c.chunk_id: c for c in chunks}
    for q in offline_questions(chunks, n=10, seed=0):
        assert longest_copied_run(q.question, by_id[q.chunk_id].text) <= COPY_BOUND


def test_cli_generate_then_eval(demo_index, tmp_path):
    out = tmp_path / "q.jsonl"
    result = run_cli("questions", "generate", "--index", str(demo_index.directory), "--n", "30", "--out", str(out),
                     "--quiet")
    assert "wrote 30 questions" in result.stdout
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(rows) == 30 and all(r["question"] and r["relevant_sources"] for r in rows)
    scored = json.loads(run_cli("eval", "--index", str(demo_index.directory), "--questions", str(out), "--top-k", "5",
                                "--quiet", "--json").stdout)
    assert scored["questions"] == 30 and 0 < scored["results"][0]["MRR"] <= 1


def test_evaluate_generates_edits_saves_and_scores(app_root):
    hashing_index(app_root / "mine", documents=demo_documents()[:60])
    at = AppTest.from_file(str(ROOT / "pages" / "evaluate.py"), default_timeout=60).run()
    at.radio(key="w:eval_origin").set_value("Generate from an index").run()
    at.number_input(key="w:eval_gen_n").set_value(20).run()
    at.button(key="eval_gen_run").click().run()
    assert not app_errors(at), app_errors(at)
    assert any("τ = " in c.value for c in at.caption)
    at.button(key="eval_gen_save").click().run()
    saved = app_root / "mine" / "questions-generated.jsonl"
    assert len(saved.read_text().splitlines()) == 20
    at.button(key="eval_run_button").click().run()
    assert not app_errors(at), app_errors(at)
    assert at.session_state["eval_run"].question_set == "generated from mine"


# ---- with a chat model, against the local wire-format server ----------------------------------


def test_llm_questions_are_filtered_deduplicated_and_priced(server, tmp_path, monkeypatch, capsys):
    from helpers import fact_documents

    from rag_core.cli import main
    from rag_core.evaluation.question_gen import keep_llm_question
    from rag_core.core.types import Document

    docs = [Document(source=d.source, section=d.section, text=(d.text + " ") * 2) for d in fact_documents()]
    index = hashing_index(tmp_path / "facts", documents=docs)
    from rag_core.evaluation.question_gen import llm_plan

    planned = llm_plan(index.store.chunks(), 5, 0).chunks  # the order the questions are asked in
    copied = " ".join(planned[1].text.split()[:8]) + "?"
    server.replies.extend([
        "Which city is the seat of government of the East African country on the equator?",
        copied,  # copies a long span of its passage
        "Which city is the seat of government of the East African country on the equator?",  # a repeat
        f"What does the text about {planned[3].section} say?",  # names its title
        "no question here"])
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "q.jsonl"
    args = ["questions", "generate", "--index", str(index.directory), "--n", "5", "--out", str(out),
            "--llm", "compatible:llama3.2", "--base-url", server.openai_url, "--quiet"]
    capsys.readouterr()
    assert main(args) == 2  # the estimate first: nothing sent without --yes
    err = capsys.readouterr().err
    assert "estimate: 5 calls to compatible:llama3.2" in err and "nothing was sent" in err
    assert not server.calls("/v1/chat/completions")
    assert main([*args, "--yes"]) == 0
    err = capsys.readouterr().err
    calls = server.calls("/v1/chat/completions")
    assert len(calls) == 5 and calls[0].body["model"] == "llama3.2" and calls[0].body["stream"] is True
    assert "Passage:" in calls[0].body["messages"][-1]["content"]
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["question"] for r in rows] == [
        "Which city is the seat of government of the East African country on the equator?"]
    assert rows[0]["method"] == "llm" and "spent:" in err and "kept 1 of 5" in err
    chunk = index.store.chunks()[0]
    assert keep_llm_question("1. " + chunk.text[:200] + "?", chunk) is None


def test_evaluate_generates_with_a_chat_model_after_accepting_the_cost(app_root, server, monkeypatch):
    """The app's chat-model generator: the estimate is accepted first, then the real spend shows."""
    monkeypatch.setenv("OPENAI_API_KEY", server.openai_key)
    monkeypatch.setenv("OPENAI_BASE_URL", server.openai_url)  # the operator's configured endpoint
    monkeypatch.setenv("RAG_ALLOW_LOCAL_MODEL_SERVERS", "1")
    hashing_index(app_root / "mine", documents=demo_documents()[:10])
    server.replies.extend([f"Which passage answers question number {i} about this place?" for i in range(10)])
    at = AppTest.from_file(str(ROOT / "pages" / "evaluate.py"), default_timeout=60).run()
    at.radio(key="w:eval_origin").set_value("Generate from an index").run()
    at.number_input(key="w:eval_gen_n").set_value(5).run()
    at.radio(key="w:eval_gen_kind").set_value("with a chat model").run()
    assert at.button(key="eval_gen_run").disabled  # nothing is spent before the estimate is accepted
    assert not server.calls("/v1/chat/completions")
    accept = next(c for c in at.checkbox if c.key.startswith("eval_gen_accept:"))
    assert "I accept spending about" in accept.label
    accept.check().run()
    at.button(key="eval_gen_run").click().run()
    assert not app_errors(at), app_errors(at)
    assert len(server.calls("/v1/chat/completions")) == 5
    assert any("Spent" in i.value and "kept 5 of 5" in i.value for i in at.info)
