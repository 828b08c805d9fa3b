"""Who uses an embedded PostgreSQL, tracked with locks the kernel releases.

pgserver keeps its users in `.handle_pids.json` and stops the server when the last one exits
cleanly; a process killed with kill -9 stays on that list and the server runs for ever. Here
every process that uses the server holds a shared `flock` on `<data dir>.owners.lock` for as
long as it does, and the kernel drops it however the process ends. One detached reaper per
running server (this file, run by its path: `reaper_command`) waits for an exclusive lock
on the same file, which it gets only when no owner is left, and then stops the server.

Order matters, so that no server is left without a reaper and none is stopped under a user:
a starter takes its shared lock first (waiting while a reaper stops the server), then starts
the server, then spawns a reaper unless one holds `<data dir>.reaper.lock`; the reaper lets go
of that lock before it lets go of the owners lock.
"""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

_HELD: dict[Path, int] = {}
_LOCK = threading.Lock()


def _lock_file(data_dir: Path, what: str) -> Path:
    return data_dir.parent / f"{data_dir.name}.{what}.lock"


def _open(path: Path) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    return os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)


def join(data_dir: Path) -> None:
    """Become an owner of the server in `data_dir` (once per process; blocks while a reaper stops it)."""
    data_dir = Path(data_dir)
    with _LOCK:
        if data_dir in _HELD:
            return
        fd = _open(_lock_file(data_dir, "owners"))
        fcntl.flock(fd, fcntl.LOCK_SH)
        _HELD[data_dir] = fd


def leave(data_dir: Path, stop_if_last: bool = False) -> None:
    """Stop being an owner: the reaper stops the server once nobody else is. With `stop_if_last`,
    a last owner stops it now, before returning (its caller may delete the data dir next)."""
    with _LOCK:
        fd = _HELD.pop(Path(data_dir), None)
    if fd is None:
        return
    try:
        if stop_if_last:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # only when no other process owns it
            except BlockingIOError:
                _wait_for_a_stopping_reaper(fd)
                return
            _stop(Path(data_dir))
    finally:
        os.close(fd)


def _wait_for_a_stopping_reaper(fd: int, timeout_s: float = 60.0) -> None:
    """flock's shared-to-exclusive conversion is not atomic: the reaper may have taken the lock in
    between and be stopping the server. Wait until it has (a shared lock is granted again), so
    a caller that deletes the data dir next does not pull it from under a running server."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            time.sleep(0.1)


def reaper_running(data_dir: Path) -> bool:
    fd = _open(_lock_file(Path(data_dir), "reaper"))
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


def ensure_reaper(data_dir: Path) -> None:
    """Spawn the reaper for `data_dir` unless one is waiting already (a second one exits at once)."""
    if reaper_running(data_dir):
        return
    subprocess.Popen(reaper_command(data_dir),
                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                     start_new_session=True, close_fds=True, cwd="/")


def reaper_command(data_dir: Path) -> list[str]:
    """The reaper runs this file by its path, not `-m rag_core...`: it starts in / and in its own
    session, where rag_core may not be importable (a checkout run with `streamlit run app.py`,
    not installed), and this file needs nothing but the standard library and pgserver."""
    runner = "import runpy, sys; runpy.run_path(sys.argv[1], run_name='__main__')"
    return [sys.executable, "-c", runner, str(Path(__file__).resolve()), str(data_dir)]


def drop_stale_pid_file(data_dir: Path) -> bool:
    """Remove `postmaster.pid` when the PID it names is alive but is not this data dir's postgres
    (a PID reused after a restart): PostgreSQL would refuse to start for ever. True if removed."""
    import psutil

    pid_file = Path(data_dir) / "postmaster.pid"
    try:
        pid = int(pid_file.read_text(errors="replace").splitlines()[0].strip())
    except (OSError, ValueError, IndexError):
        return False
    try:
        process = psutil.Process(pid)
        ours = "postgres" in process.name() and str(Path(data_dir)) in " ".join(process.cmdline())
    except psutil.NoSuchProcess:
        return False  # a dead PID: PostgreSQL itself sees the file is stale
    except psutil.AccessDenied:
        ours = True  # cannot tell: leave it to PostgreSQL
    if ours:
        return False
    pid_file.unlink(missing_ok=True)
    return True


def prune_handle_list(data_dir: Path) -> None:
    """pgserver's own list of users, without the dead ones (it only grows otherwise)."""
    import json

    import psutil

    path = Path(data_dir) / ".handle_pids.json"
    try:
        pids = json.loads(path.read_text())
        path.write_text(json.dumps([p for p in pids if isinstance(p, int) and psutil.pid_exists(p)]))
    except (OSError, ValueError, TypeError):
        return


def _stop(data_dir: Path) -> None:
    from pgserver._commands import pg_ctl

    user = "pgserver" if hasattr(os, "geteuid") and os.geteuid() == 0 else None
    if (data_dir / "postmaster.pid").exists():
        try:
            pg_ctl(["-w", "-m", "fast", "stop"], pgdata=data_dir, user=user, timeout=60)
        except (subprocess.SubprocessError, OSError):
            pass


def reap(data_dir: Path) -> None:
    """The reaper: wait until no process owns the server, then stop it."""
    data_dir = Path(data_dir)
    reaper = _open(_lock_file(data_dir, "reaper"))
    try:
        fcntl.flock(reaper, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return  # another reaper waits already
    owners = _open(_lock_file(data_dir, "owners"))
    fcntl.flock(owners, fcntl.LOCK_EX)  # every owner gone, however it ended
    try:
        _stop(data_dir)
    finally:
        os.close(reaper)  # first: a starter that waits on the owners lock then spawns a new reaper
        os.close(owners)


if __name__ == "__main__":
    reap(Path(sys.argv[-1]))
