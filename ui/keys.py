"""API keys and base URLs: from the environment, `.streamlit/secrets.toml`, or typed in for this
session only. Typed values live in st.session_state (memory of this browser session) and are
never written to disk, logged, or stored in an index; nothing here prints a key."""

from __future__ import annotations

import os

import streamlit as st

from . import state

ENV_KEYS = {"openai": "OPENAI_API_KEY", "cohere": "COHERE_API_KEY"}
ENV_URLS = {"openai": "OPENAI_BASE_URL", "cohere": "COHERE_BASE_URL"}


def _secret(name: str) -> str | None:
    try:
        value = st.secrets.get(name)
    except Exception:  # noqa: BLE001 - no secrets.toml, or an unreadable one: treat as absent
        return None
    return str(value) if value else None


def key_origin(provider: str) -> str:
    """Where this session's key for `provider` comes from (never the key itself)."""
    if state.get(f"key_{provider}"):
        return "typed in for this session"
    if os.environ.get(ENV_KEYS[provider]):
        return f"environment ({ENV_KEYS[provider]})"
    if _secret(ENV_KEYS[provider]):
        return ".streamlit/secrets.toml"
    return "not set"


def api_key(provider: str) -> str | None:
    return state.get(f"key_{provider}") or os.environ.get(ENV_KEYS[provider]) or _secret(ENV_KEYS[provider])


def base_url(provider: str) -> str | None:
    return state.get(f"url_{provider}") or os.environ.get(ENV_URLS[provider]) or _secret(ENV_URLS[provider])


def mask(value: str | None) -> str:
    if not value:
        return "—"
    return "•" * 8 + value[-4:] if len(value) > 8 else "•" * len(value)
