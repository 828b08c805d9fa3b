"""The embedded PostgreSQL's owners are tracked with locks the kernel releases (issue 16, item 16):
a CLI killed with kill -9 no longer keeps the server running for ever, and a postmaster.pid that
names a live, unrelated PID (reused after a restart) no longer stops it from starting. Real
processes, real servers; a fresh data dir per test."""

from __future__ import annotations

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

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow

OWNER = """
import sys, time
from pathlib import Path
from rag_core.stores import pg_server
dsn = pg_server.embedded_dsn(Path(sys.argv[1]))
pg_server.get_pool(dsn).connection().__enter__().execute("select 1")
print("up", flush=True)
time.sleep(float(sys.argv[2]))
"""


@pytest.fixture
def data_dir():
    base = Path(tempfile.mkdtemp(prefix="rag-pg-life-"))
    yield base / "pgdata"
    pid_file = base / "pgdata" / "postmaster.pid"
    if pid_file.exists():  # never leave a server behind, whatever the test did
        try:
            psutil.Process(int(pid_file.read_text().split()[0])).kill()
        except (psutil.Error, ValueError, IndexError):
            pass
    shutil.rmtree(base, ignore_errors=True)


def _owner(data_dir: Path, seconds: float) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    log = data_dir.parent / f"owner-{time.monotonic_ns()}.log"
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "w") as out:  # a file, not a pipe: a server the owner started may inherit the pipe
        proc = subprocess.Popen([sys.executable, "-c", OWNER, str(data_dir), str(seconds)], stdout=out,
                                stderr=subprocess.STDOUT, text=True, env=env)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and "up" not in log.read_text() and proc.poll() is None:
        time.sleep(0.1)
    assert "up" in log.read_text(), log.read_text()[-2000:]
    return proc


def _postmaster(data_dir: Path) -> psutil.Process | None:
    try:
        process = psutil.Process(int((data_dir / "postmaster.pid").read_text().split()[0]))
        return process if process.is_running() and process.status() != psutil.STATUS_ZOMBIE else None
    except (OSError, ValueError, IndexError, psutil.Error):
        return None


def _gone_within(data_dir: Path, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if _postmaster(data_dir) is None:
            return True
        time.sleep(0.25)
    return False


def test_a_killed_owner_does_not_keep_the_server_running(data_dir):
    owner = _owner(data_dir, 600)
    server = _postmaster(data_dir)
    assert server is not None
    owner.send_signal(signal.SIGKILL)
    owner.wait(10)
    assert _gone_within(data_dir, 60), "the server outlived its only (killed) owner"


def test_the_server_stays_while_another_owner_lives(data_dir):
    first, second = _owner(data_dir, 600), _owner(data_dir, 600)
    first.send_signal(signal.SIGKILL)
    first.wait(10)
    time.sleep(3)
    assert _postmaster(data_dir) is not None  # the second still uses it
    second.send_signal(signal.SIGKILL)
    second.wait(10)
    assert _gone_within(data_dir, 60)


def test_a_postmaster_pid_naming_a_live_unrelated_process_does_not_block_a_start(data_dir):
    owner = _owner(data_dir, 600)
    pid_file = (data_dir / "postmaster.pid").read_text()
    owner.send_signal(signal.SIGKILL)
    owner.wait(10)
    assert _gone_within(data_dir, 60)
    unrelated = subprocess.Popen(["sleep", "120"])
    try:  # a restart reused the old postmaster's PID for something else
        (data_dir / "postmaster.pid").write_text("\n".join([str(unrelated.pid), *pid_file.splitlines()[1:]]) + "\n")
        again = _owner(data_dir, 600)
        assert _postmaster(data_dir) is not None and _postmaster(data_dir).pid != unrelated.pid
        again.send_signal(signal.SIGKILL)
        again.wait(10)
        assert unrelated.poll() is None  # the unrelated process was left alone
    finally:
        unrelated.kill()


DECOY_OWNER = """
import os, sys, time
from pathlib import Path
from rag_core.stores import pg_server
os.environ["PYTHONPATH"] = sys.argv[3]  # from here on, rag_core cannot be imported by a new process
dsn = pg_server.embedded_dsn(Path(sys.argv[1]))
pg_server.get_pool(dsn).connection().__enter__().execute("select 1")
print("up", flush=True)
time.sleep(float(sys.argv[2]))
"""


def test_the_reaper_works_where_rag_core_is_not_installed(data_dir):
    """`pip install -r requirements.txt && streamlit run app.py` installs no rag_core: the reaper,
    started from / in its own session, must not need to import it (it died at once, and the server
    of a killed app ran for ever)."""
    decoy = data_dir.parent / "decoy"
    (decoy / "rag_core").mkdir(parents=True)
    (decoy / "rag_core" / "__init__.py").write_text("raise ImportError('rag_core is not installed here')\n")
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    log = data_dir.parent / "decoy-owner.log"
    with open(log, "w") as out:
        owner = subprocess.Popen([sys.executable, "-c", DECOY_OWNER, str(data_dir), "600", str(decoy)], stdout=out,
                                 stderr=subprocess.STDOUT, env=env)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and "up" not in log.read_text() and owner.poll() is None:
        time.sleep(0.1)
    assert "up" in log.read_text(), log.read_text()[-2000:]
    assert _postmaster(data_dir) is not None
    owner.send_signal(signal.SIGKILL)
    owner.wait(10)
    assert _gone_within(data_dir, 45), "the server outlived its killed owner: no reaper ran"
