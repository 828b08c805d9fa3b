"""Prompt templates take bare {context} and {question} only: a format spec or conversion once
padded a prompt to 30 million characters and made tiktoken panic (issue 16, item 11)."""

from __future__ import annotations

import pytest
from helpers import run_cli

from rag_core import config as rconfig
from rag_core.costs.tokens import count_tokens
from rag_core.errors import ConfigError, TemplateError
from rag_core.prompts import validate_template

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

    monkeypatch.setattr("rag_core.costs.tokens.get_encoding", lambda name: Exploding())
    with pytest.raises(ConfigError, match="tokenizer"):
        count_tokens("x" * 10)
