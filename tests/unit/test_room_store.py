"""Kept sessions and snapshots (rag_core/room/store.py): another token, a guessed id, an oversize
write, a file copied under another name, expiry, and the operator's CLI."""

from __future__ import annotations

import json
import os
import time

import pytest

from rag_core.cli import main
from rag_core.room.store import SessionStore, SnapshotStore, TooLarge, new_token, valid_token


def test_a_session_comes_back_for_its_token_only(tmp_path):
    store = SessionStore(tmp_path)
    mine, other = new_token(), new_token()
    store.save(mine, {"chat_history": ["turn 1"], "p:top_k": 7})
    assert store.load(mine) == {"chat_history": ["turn 1"], "p:top_k": 7}
    assert store.load(other) is None  # another browser's token sees nothing
    assert store.load(mine[:-1] + ("A" if mine[-1] != "A" else "B")) is None  # one character off
    for bad in (None, "", "../../etc/passwd", mine + "x", 42, "a" * 43 + "/"):
        assert store.load(bad) is None
    assert valid_token(mine) and len(mine) == 43  # 256 random bits


def test_the_token_is_not_on_disk_and_files_are_private(tmp_path):
    store = SessionStore(tmp_path)
    token = new_token()
    store.save(token, {"x": 1})
    names = [p.name for p in tmp_path.iterdir()]
    assert not any(token in n for n in names)
    assert all(oct(p.stat().st_mode & 0o777) == "0o600" for p in tmp_path.iterdir() if p.is_file())


def test_a_file_copied_under_another_token_or_written_by_someone_else_is_refused(tmp_path):
    store = SessionStore(tmp_path)
    victim, attacker = new_token(), new_token()
    store.save(victim, {"secret": "victim's chat"})
    store.save(attacker, {"x": 1})
    # swap the victim's file in under the attacker's name: the MAC covers the token, so no
    (tmp_path / store._path(attacker).name).write_bytes(store._path(victim).read_bytes())
    assert store.load(attacker) is None
    # a pickle planted by someone without the key is never unpickled
    planted = new_token()
    store._path(planted).write_bytes(b"\0" * 32 + b"cos\nsystem\n(S'echo pwned'\ntR.")
    assert store.load(planted) is None
    assert not store._path(planted).exists()


def test_oversize_session_is_refused_and_the_previous_save_kept(tmp_path):
    store = SessionStore(tmp_path, max_bytes=10_000)
    token = new_token()
    store.save(token, {"small": 1})
    with pytest.raises(TooLarge, match="at most 10,000"):
        store.save(token, {"big": "x" * 20_000})
    assert store.load(token) == {"small": 1}


def test_sessions_expire_and_are_swept(tmp_path):
    now = [time.time()]
    store = SessionStore(tmp_path, ttl_s=60, max_sessions=2, clock=lambda: now[0])
    tokens = [new_token() for _ in range(3)]
    for n, t in enumerate(tokens):
        store.save(t, {"n": n})
        os.utime(store._path(t), (now[0] + n, now[0] + n))
    assert store.sweep() == 1  # the oldest beyond max_sessions
    assert store.load(tokens[0]) is None and store.load(tokens[2]) == {"n": 2}
    now[0] += 120
    assert store.load(tokens[2]) is None  # expired after its ttl


def test_a_guessed_snapshot_id_opens_nothing(tmp_path):
    store = SnapshotStore(tmp_path)
    real = store.save("chat", "q", "demo", "gen-1", {"turns": []})
    assert len(real) == 22 and store.load(real)["index"] == "demo"
    for guess in ("0" * 22, real[:-1] + ("A" if real[-1] != "A" else "B"), "../sessions/.key", "", None,
                  real + ".json", "..%2F..%2Fx"):
        assert store.load(guess) is None
    (tmp_path / ("B" * 22 + ".json")).write_text(json.dumps({"not": "a snapshot"}))
    assert store.load("B" * 22) is None


def test_an_oversize_snapshot_is_refused_and_the_count_capped(tmp_path):
    store = SnapshotStore(tmp_path, max_bytes=2_000, max_count=2)
    with pytest.raises(TooLarge, match="at most 2,000"):
        store.save("chat", "q", "demo", "g", {"answer": "x" * 5_000})
    assert list(tmp_path.glob("*.json")) == []
    store.save("chat", "q", "demo", "g", {})
    store.save("chat", "q", "demo", "g", {})
    with pytest.raises(TooLarge, match="already keeps 2"):
        store.save("chat", "q", "demo", "g", {})


def test_operator_lists_and_deletes_snapshots(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("RAG_PLAYGROUND_HOME", str(tmp_path))
    snap = SnapshotStore(tmp_path / "snapshots").save("evaluate", "demo set on demo", "demo", "gen-3", {})
    assert main(["snapshots", "list", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)["snapshots"]
    assert [s["id"] for s in listed] == [snap] and listed[0]["generation"] == "gen-3"
    assert main(["snapshots", "delete", snap]) == 0
    assert main(["snapshots", "delete", snap]) == 2
    assert "no snapshot" in capsys.readouterr().err
    assert SnapshotStore(tmp_path / "snapshots").list() == []
