"""The CLI's words for the core's reasons: advice keyed by `kind`, naming this CLI's flags.

The core says what happened (with the values involved: limit, path, name); the app words the
same kinds its own way (ui/advice.py). A template is `str.format`ted over `{text}` (the core's
default wording) and the values; a kind not listed keeps the core's text.
"""

from __future__ import annotations

from rag_core.core.errors import RagError, worded

#: errors (RagError.kind) -> the CLI's message
ERRORS = {
    "no_index": "{text} (python -m rag_core ingest ... --index {path})",
    "index_settings": "index {path} was built with {built_with}; use the same settings to add to it, "
                      "add --replace to rebuild it with these settings, or choose a new --index directory",
    "unknown_sources": "{text} (python -m rag_core info --sources lists them)",
}

#: skipped or noted files (FileStatus.kind) and URLs (UrlStatus.kind) -> the CLI's reason
REASONS = {
    "file_too_large": "{text}; split the file or raise --max-file-mb",
    "total_limit": "{text}; load fewer files or raise --max-total-mb",
    "private_address": "{text}; pass --allow-private to crawl it",
    "depth_limit": "depth limit: {depth} links from a seed, over --depth {limit}",
    "page_limit": "page limit: --max-pages {limit} reached",
}

def error_text(exc: RagError, text: str) -> str:
    """`exc` in the CLI's words; `text` is its message already redacted."""
    return worded(exc.kind, text, exc.values, ERRORS)


def reason(status) -> str:
    """A FileStatus's or UrlStatus's reason in the CLI's words."""
    return worded(getattr(status, "kind", ""), status.reason, getattr(status, "values", {}), REASONS)
