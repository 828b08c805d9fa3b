"""The limits of one chat-model answer, defined once: the CLI flags, the app's Settings and the
answerer check against the same ranges (issue 16 item 15: an endless stream grew the CLI by
160 MB in 90 s; a 1-byte/s drip hung for ever).

- A deadline for the whole answer (and each query-rewrite call), request to last byte.
- A cap on its length derived from the requested max tokens: MAX_CHARS_PER_TOKEN characters per
  token plus CAP_MARGIN_CHARS (a token is about 4 characters of English; 16 leaves room for any
  language and still stops a server that ignores max_tokens).
"""

from __future__ import annotations

from rag_core.core.errors import ConfigError

#: seconds for one answer's whole stream: (least, most) and the default
ANSWER_DEADLINE_S = (0.5, 3600.0)
DEFAULT_ANSWER_DEADLINE_S = 120.0
#: the tokens an answer may ask for (max_tokens): (least, most) and the default
ANSWER_TOKENS = (16, 32_768)
DEFAULT_ANSWER_TOKENS = 512
MAX_CHARS_PER_TOKEN = 16
CAP_MARGIN_CHARS = 1000
#: where a person changes them, named in the errors
WHERE_DEADLINE = "CLI: --answer-timeout; app: Settings → Answers"
WHERE_TOKENS = "CLI: --max-answer-tokens; app: Settings → Answers"


def max_answer_chars(max_answer_tokens: int) -> int:
    """The most text one answer may stream, e.g. 512 tokens -> 512 * 16 + 1000 = 9,192 characters."""
    return max_answer_tokens * MAX_CHARS_PER_TOKEN + CAP_MARGIN_CHARS


def check_deadline(seconds: object) -> float:
    low, high = ANSWER_DEADLINE_S
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not low <= seconds <= high:
        raise ConfigError(f"the answer deadline is {seconds} s; it must be from {low:g} to {high:g} s "
                          f"({WHERE_DEADLINE})")
    return float(seconds)


def check_tokens(tokens: object) -> int:
    low, high = ANSWER_TOKENS
    if isinstance(tokens, bool) or not isinstance(tokens, int) or not low <= tokens <= high:
        shown = f"{tokens:,}" if isinstance(tokens, int) else repr(tokens)
        raise ConfigError(f"the longest answer is {shown} tokens; it must be from {low} to {high:,} tokens "
                          f"({WHERE_TOKENS})")
    return tokens
