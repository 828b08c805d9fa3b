"""Prompt templates take bare {context} and {question} only: a format spec or conversion once
padded a prompt to 30 million characters and made tiktoken panic (issue 16, item 11)."""

from __future__ import annotations

import pytest
from helpers import run_cli

from rag_core.answer import config as rconfig
from rag_core.core.tokens import count_tokens
from rag_core.core.errors import ConfigError, TemplateError
from rag_core.answer.prompts import validate_template

HOSTILE = ["{context}{question:>30000000}", "{context!r:^99999999}\n{question}", "{context!s}{question}",
           "{context}{question:{context}}", "{context:>5}{question}", "{context}{question!a}"]


@pytest.mark.parametrize("template", HOSTILE)
def test_a_format_spec_or_conversion_is_refused_with_the_reason(template):
    with pytest.raises(TemplateError, match="format spec or conversion"):
        validate_template(template)


@pytest.mark.parametrize("template", HOSTILE[:2])
def test_a_config_file_with_one_is_refused_where_it_is_imported(template):
    with pytest.raises(ConfigError, match="format spec or conversion"):
        rconfig.from_dict({"answer": {"template": template}})


def test_the_cli_refuses_one_with_exit_2_and_no_backtrace(tmp_path):
    path = tmp_path / "t.txt"
    path.write_text(HOSTILE[0])
    result = run_cli("query", "--index", str(tmp_path / "none"), "--template", str(path), "hello", check=False)
    assert result.returncode == 2, (result.returncode, result.stderr[-800:])
    assert "format spec or conversion" in result.stderr and "Traceback" not in result.stderr
    assert "panicked" not in result.stderr


def test_a_bare_template_still_works():
    validate_template("Context:\n{context}\n\nQ: {question}\n{{literal}}")


def test_a_tokenizer_panic_becomes_a_config_error(monkeypatch):
    class PanicException(BaseException):
        pass

    class Exploding:
        def encode_ordinary(self, text):
            raise PanicException("called `Result::unwrap()`")

    monkeypatch.setattr("rag_core.core.tokens.get_encoding", lambda name: Exploding())
    with pytest.raises(ConfigError, match="tokenizer"):
        count_tokens("x" * 10)


def _chat_page(app_root):
    from pathlib import Path

    from helpers import fact_documents, hashing_index
    from streamlit.testing.v1 import AppTest

    hashing_index(app_root / "small", documents=fact_documents())
    at = AppTest.from_file(str(Path(__file__).resolve().parents[2] / "app.py"), default_timeout=60)
    at.switch_page("pages/chat.py").run()
    return at


def test_the_chat_prompt_editor_refuses_one_where_it_is_typed_and_recovers(app_root):
    """Issue 16 item 11, in the app: the typed template is refused with the reason, the question
    is not sent with it (no PanicException ends the script thread), and Reset brings Chat back."""
    from helpers import app_errors as errors

    at = _chat_page(app_root)
    at.sidebar.text_area(key="w:template").set_value(HOSTILE[0]).run()
    assert not at.exception, at.exception
    assert any("format spec or conversion" in e.value for e in at.sidebar.error), [e.value for e in at.error]
    at.chat_input[0].set_value("What is the capital of Kenya?").run()
    assert not at.exception, at.exception
    assert any("format spec or conversion" in e.value for e in at.error)
    refused = [e.value for e in at.error if "format spec" in e.value]
    assert refused[0].count("Reset to default") == 1, refused  # the hint once, not twice
    at.sidebar.button(key="reset_template").click().run()
    at.chat_input[0].set_value("What is the capital of Kenya?").run()
    assert not at.exception and not at.sidebar.error, errors(at)
    first, second = at.session_state["chat_history"]
    assert first.error and not second.error and second.answer.text  # the failed turn stays in the history


def test_a_compare_column_refuses_one_too(app_root):
    at = _chat_page(app_root)
    at.toggle(key="w:compare").set_value(True).run()
    at.text_area(key="w:cmp_B_template").set_value(HOSTILE[1]).run()
    at.chat_input[0].set_value("What is the capital of Kenya?").run()
    assert not at.exception, at.exception
    assert any("format spec or conversion" in e.value for e in at.error), [e.value for e in at.error]


def test_a_question_is_bounded_before_it_reaches_the_tokenizer(tmp_path):
    """Issue 16 item 11: text a visitor types is bounded before tiktoken counts it."""
    from helpers import hashing_index

    from rag_core.llm import create_llm
    from rag_core.answer.pipeline import MAX_QUESTION_CHARS, Pipeline
    from rag_core.core.types import RetrievalSettings

    pipeline = Pipeline(hashing_index(tmp_path / "idx"), create_llm("extractive"))
    assert pipeline.answer("Kenya " * 100, RetrievalSettings()).text
    with pytest.raises(ConfigError, match=f"at most {MAX_QUESTION_CHARS:,} characters"):
        pipeline.ask(" " * (MAX_QUESTION_CHARS + 1) + "Kenya?", RetrievalSettings())
