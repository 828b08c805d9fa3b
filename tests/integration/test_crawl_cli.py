"""`python -m rag_core crawl` as a user runs it, against the local fixture site."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from crawl_site import serve_site

ROOT = Path(__file__).resolve().parents[2]


def crawl_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "rag_core", "crawl", *args]


def test_crawl_json_report_and_index(tmp_path):
    index = tmp_path / "idx"
    with serve_site() as site:
        result = subprocess.run(
            crawl_cmd(site.url("/"), "--index", str(index), "--embedder", "hashing", "--store", "numpy",
                      "--allow-private", "--delay", "0", "--timeout", "0.5", "--max-page-mb", "1", "--json", "--quiet",
                      "--min-words", "0", "--min-chars", "0"),
            cwd=ROOT, capture_output=True, text=True, env=dict(os.environ), timeout=120)
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["pages_fetched"] == 7 and out["added"] == 7 and not out["stopped"]
    kinds = {u["url"].replace(site.base, ""): u["kind"] for u in out["urls"]}
    assert kinds["/private/secret"] == "robots" and kinds["/slow"] == "timeout" and kinds["/huge"] == "too_large"
    assert out["counts"]["skipped: duplicate"] == 4
    assert set(out["urls"][0]) == {"url", "status", "reason", "http_status", "n_documents", "depth", "kind", "final_url"}


def test_crawl_refuses_loopback_without_flag_and_bad_urls(tmp_path):
    with serve_site() as site:
        result = subprocess.run(crawl_cmd(site.url("/"), "--index", str(tmp_path / "i"), "--embedder", "hashing",
                                          "--quiet"), cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and result.stderr.startswith("error: nothing to index")
    assert "private_address" in result.stdout and "loopback address 127.0.0.1" in result.stdout
    bad = subprocess.run(crawl_cmd("file:///etc/passwd", "--index", str(tmp_path / "i")), cwd=ROOT,
                         capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and bad.stderr.strip().startswith("error: only http and https")
    assert len(bad.stderr.strip().splitlines()) == 1


def test_ctrl_c_keeps_what_was_fetched(tmp_path):
    index = tmp_path / "idx"
    with serve_site() as site:
        proc = subprocess.Popen(
            crawl_cmd(site.url("/notes.txt"), site.url("/slow"), site.url("/docs/"), "--index", str(index),
                      "--embedder", "hashing", "--store", "numpy", "--allow-private", "--delay", "0",
                      "--concurrency", "1", "--timeout", "5", "--json", "--quiet"),
            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 60
        while not any(p == "/slow" for p, _, _ in site.requests) and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.2)
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 0, stderr
    out = json.loads(stdout)
    assert out["stopped"] is True
    kinds = {u["url"].replace(site.base, ""): u["kind"] for u in out["urls"]}
    assert kinds["/notes.txt"] == "ok" and kinds["/docs/"] == "stopped"
    assert out["added"] >= 1


def test_offline_crawl_is_an_error_naming_the_cause(tmp_path):
    """Nothing fetched because nothing listens there: exit 2 and one `error:` line that says
    "connection refused", not a generic hint or robots.txt."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    seed = f"http://127.0.0.1:{port}/"
    result = subprocess.run(crawl_cmd(seed, "--index", str(tmp_path / "i"), "--embedder", "hashing",
                                      "--allow-private", "--delay", "0", "--timeout", "2", "--quiet"),
                            cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2, result.stderr
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith(f"error: nothing to index: nothing was fetched: {seed}: not crawled: "
                           f"connection refused by 127.0.0.1:{port}")
    assert "robots.txt" not in line and "robots_unavailable" not in result.stdout
    assert not (tmp_path / "i").exists()
