"""The embedded PostgreSQL on a disk that fills up (issue 16, item 22: it said "lost the connection"
or "could not start", never "no space left on device", and dumped the server log to stderr).

A real server on a real small filesystem: a tmpfs of 96 MB is mounted for the test (skipped
where mounting is not allowed). An owner process keeps the server up while a filler file takes
the rest of the disk; then an ingest writes into it, and later a start finds no room."""

from __future__ import annotations

import errno
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil
import pytest
from helpers import write_fact_docs

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow

OWNER = """
import sys, time
from pathlib import Path
from rag_core.stores import pg_server
dsn = pg_server.embedded_dsn(Path(sys.argv[1]))
pg_server.get_pool(dsn).connection().__enter__().execute("select 1")
print("up", flush=True)
time.sleep(600)
"""


@pytest.fixture
def small_disk():
    base = Path(tempfile.mkdtemp(prefix="rag-pg-full-"))
    base.chmod(0o755)
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=96m,mode=0755", "tmpfs", str(base)],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        shutil.rmtree(base, ignore_errors=True)
        pytest.skip(f"cannot mount a small tmpfs here: {mounted.stderr.strip()[:200]}")
    yield base
    for pid_file in base.glob("**/postmaster.pid"):
        try:
            psutil.Process(int(pid_file.read_text().split()[0])).kill()
        except (psutil.Error, OSError, ValueError, IndexError):
            pass
    for process in psutil.process_iter(["cmdline"]):  # the reaper (pg_owners) of this data dir
        if str(base) in " ".join(process.info["cmdline"] or []):
            process.kill()
    time.sleep(0.5)
    subprocess.run(["umount", "-l", str(base)], capture_output=True)
    shutil.rmtree(base, ignore_errors=True)


def _env(home: Path) -> dict:
    env = dict(os.environ, PYTHONPATH=str(ROOT), RAG_PLAYGROUND_HOME=str(home))
    env.pop("RAG_PG_DSN", None)
    return env


def _fill(disk: Path, leave: int = 0) -> None:
    """Write zeros until the disk is full, then give back `leave` bytes."""
    with open(disk / "filler", "wb") as out:
        try:
            while True:
                out.write(b"\0" * (1 << 20))
                out.flush()
        except OSError as exc:
            assert exc.errno == errno.ENOSPC
    if leave:
        os.truncate(disk / "filler", max(0, (disk / "filler").stat().st_size - leave))


def _owner(home: Path) -> subprocess.Popen:
    log = home.parent / "owner.log"
    with open(log, "w") as out:
        proc = subprocess.Popen([sys.executable, "-c", OWNER, str(home / "pgvector" / "pgdata")], stdout=out,
                                stderr=subprocess.STDOUT, env=_env(home))
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and "up" not in log.read_text() and proc.poll() is None:
        time.sleep(0.2)
    assert "up" in log.read_text(), log.read_text()[-2000:]
    return proc


def _ingest(home: Path, docs: Path, index: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "rag_core", "ingest", str(docs), "--index", str(index),
                           "--embedder", "hashing", "--store", "pgvector", "--quiet"], cwd=ROOT, capture_output=True,
                          text=True, timeout=180, env=_env(home))


def _one_error(stderr: str) -> str:
    """The one error line; besides it only the embedding cache's own warning (it is on the same full
    disk), and of the server's log at most the line that says the disk is full, quoted in the error."""
    lines = stderr.strip().splitlines()
    errors = [line for line in lines if line.startswith("error:")]
    assert len(errors) == 1 and len(lines) <= 2, stderr[-3000:]
    assert stderr.count(" UTC [") <= 1 and "LOG:  " not in stderr, stderr[-3000:]  # at most the one log line
    assert len(errors[0]) < 1000
    return errors[0]


def _big_docs(folder: Path, files: int = 40, size: int = 200_000) -> Path:
    folder.mkdir()
    for i in range(files):
        words = " ".join(f"word{i}x{j}" for j in range(size // 10))
        (folder / f"doc{i}.md").write_text(f"# doc {i}\n\n{words}\n")
    return folder


def test_an_ingest_that_fills_the_disk_says_no_space_left_in_one_line(small_disk, tmp_path):
    home = small_disk / "home"
    owner = _owner(home)
    try:
        _fill(small_disk, leave=256 * 1024)
        out = _ingest(home, _big_docs(tmp_path / "big"), tmp_path / "full-index")
        assert out.returncode == 2, (out.returncode, out.stderr[-1500:])
        error = _one_error(out.stderr)
        assert "no space left on device" in error.lower() and "lost the connection" not in error
        assert str(home / "pgvector" / "pgdata") in error and "free some disk space" in error
    finally:
        owner.send_signal(signal.SIGKILL)
        owner.wait(10)


def test_a_start_on_a_full_disk_says_no_space_left_in_one_line(small_disk, tmp_path):
    home = small_disk / "home"
    docs = write_fact_docs(tmp_path / "docs")
    first = _ingest(home, docs, tmp_path / "first")  # the server is created, then stopped when the CLI exits
    assert first.returncode == 0, first.stderr[-1500:]
    data_dir = home / "pgvector" / "pgdata"
    deadline = time.monotonic() + 60
    while (data_dir / "postmaster.pid").exists() and time.monotonic() < deadline:
        time.sleep(0.25)
    _fill(small_disk)
    out = _ingest(home, docs, tmp_path / "second")
    assert out.returncode == 2, (out.returncode, out.stderr[-1500:])
    error = _one_error(out.stderr)
    assert "no space left on device" in error.lower() and str(data_dir) in error
