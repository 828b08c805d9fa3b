"""The app's words for the core's reasons: advice keyed by `kind`, naming the app's controls.

The core says what happened, with a machine-readable kind and the values involved (limit,
path, name); the CLI words the same kinds with its flags (rag_core/cli/advice.py). Here no
advice names a CLI flag, and an index is named by its name, never by the server's path.
A template is `str.format`ted over `{text}` (the core's default wording) and the values.
"""

from __future__ import annotations

import os
from typing import Any, Mapping

from rag_core.index import saved
from rag_core.core.errors import RagError, worded

#: the operator's switch for private addresses (environment, else .streamlit/secrets.toml)
OPERATOR_SETTING = "RAG_ALLOW_PRIVATE_URLS"
PRIVATE_HINT = (f"the operator of this server can allow private addresses with {OPERATOR_SETTING}=1 "
                "(environment or .streamlit/secrets.toml)")

#: errors (RagError.kind) -> the app's message; index errors name the index, not its path
ERRORS = {
    "no_key": "no {name} API key: type one in Settings, or the operator sets {var} (environment or "
              ".streamlit/secrets.toml)",
    "provider_auth": "{text} (or the key typed in Settings)",
    "no_index": "there is no index named “{name}” yet: build it on the Index page",
    "index_damaged": "the index “{name}” is damaged and cannot be read: rebuild it on the Index page "
                     "(or delete it under Saved indexes)",
    "index_settings": "the index “{name}” was built with {built_with}: choose the same settings to add to it, "
                      "or type a new index name",
    "index_embedder": "the index “{name}” was built with {built_with} ({dim} dims), not {given}: choose "
                      "{built_with} to use it, or build a new index with this embedder",
    "index_busy": "the index “{name}” was saved by another build while this one was adding to it; nothing "
                  "was overwritten: build again",
    "disk_full": "the server's disk is full ({reason}): nothing was changed; ask the operator to free some space, "
                 "then try again",
    "write_denied": "the server may not write the index ({reason}): nothing was changed; ask the operator to "
                    "check the indexes folder's permissions",
    "write_failed": "the index could not be written ({reason}): nothing was changed; try again",
    "unknown_sources": "{text} (the file names and URLs the index was built from, as the Data page showed them)",
    "template": "{text}  \nEdit the prompt template in the sidebar, or press **Reset to default**.",
}

#: skipped or noted files (FileStatus.kind) and URLs (UrlStatus.kind) -> the app's reason
REASONS = {
    "file_too_large": "{text}; split the file and upload the parts",
    "total_limit": "{text}; upload fewer files at a time",
    "private_address": "{text}; " + PRIVATE_HINT,
    "depth_limit": "depth limit: {depth} links from a seed, over the depth setting ({limit})",
    "page_limit": "page limit: max pages ({limit}) reached",
}


def error_text(exc: RagError, text: str) -> str:
    """`exc` in the app's words; `text` is its message already redacted. An index error of a
    kind without a template still never shows the server's path: the index's name replaces it."""
    shown = worded(exc.kind, text, exc.values, ERRORS)
    path, name = exc.values.get("path"), exc.values.get("name")
    if path and name and shown == text:
        shown = shown.replace(str(path), f"“{name}”")
    return shown.replace(f"{saved.root()}{os.sep}", "")  # any other path under the indexes folder: relative


def reason(status) -> str:
    """A FileStatus's or UrlStatus's reason in the app's words."""
    return reason_text(getattr(status, "kind", ""), status.reason, getattr(status, "values", {}))


def reason_text(kind: str, text: str, values: Mapping[str, Any]) -> str:
    return worded(kind, text, values, REASONS)
