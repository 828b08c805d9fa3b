"""Plain text: the whole file is one section, labelled with the file name."""

from __future__ import annotations

from pathlib import PurePath

from rag_core.ingest.loaders.base import LoadOptions, Section, decode_text


def file_label(name: str) -> str:
    """The label for a section that has no heading: the file's base name."""
    return PurePath(name.replace("\\", "/")).name or name


def load_text(name: str, data: bytes, options: LoadOptions) -> list[Section]:
    return [Section(file_label(name), decode_text(data))]
