"""The README's install makes the CLI work from any directory, not only the repository root.

`pip install -r requirements.txt` installs the project itself (its last line), so
`python -m rag_core` and the `rag-playground` console script run anywhere. The first test
repeats that install in a throwaway venv (offline: no index, no build isolation, no
dependencies; the venv sees the test interpreter's packages, setuptools and wheel among them)
and runs both from an unrelated folder.
"""

from __future__ import annotations

import importlib.metadata
import os
import re
import subprocess
import sys
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DIST = "rag-playground"


def project_requirement_line() -> list[str]:
    """The requirements.txt line that installs this project (`-e .` or `.`), as pip arguments."""
    for raw in (ROOT / "requirements.txt").read_text().splitlines():
        line = raw.split(" #", 1)[0].strip()
        if re.fullmatch(r"(-e\s+|--editable\s+)?\.", line):
            return line.split()
    raise AssertionError("requirements.txt does not install the project itself (`-e .` or `.`)")


def outside_env() -> dict[str, str]:
    """No PYTHONPATH, so nothing but the install can make rag_core importable."""
    return {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}


def run(argv: list[str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(argv, cwd=cwd, env=outside_env(), capture_output=True, text=True, timeout=240)


def see_this_interpreters_packages(python: Path) -> None:
    """Let the throwaway venv import what the interpreter running the tests has (pip, setuptools,
    wheel). `system_site_packages` alone reaches the *base* Python's, which on a fresh machine
    that installed into a venv holds no wheel ('invalid command bdist_wheel'), and on Python
    3.12+ no setuptools; a .pth file naming our site-packages works offline and online."""
    ours = [p for p in sys.path if p.endswith(("site-packages", "dist-packages")) and Path(p).is_dir()]
    theirs = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                            capture_output=True, text=True, check=True).stdout.strip()
    Path(theirs, "outer-interpreter.pth").write_text("\n".join(ours) + "\n")


def test_readme_install_makes_the_cli_work_from_any_directory(tmp_path):
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(system_site_packages=True, with_pip=False).create(env_dir)
    python = env_dir / "bin" / "python"
    see_this_interpreters_packages(python)
    installed = run([str(python), "-m", "pip", "install", "--no-index", "--no-deps", "--no-build-isolation",
                     "--no-cache-dir", "-q", *project_requirement_line()], cwd=ROOT)
    assert installed.returncode == 0, installed.stderr[-2000:]
    elsewhere = tmp_path / "somewhere-else"
    elsewhere.mkdir()
    script = env_dir / "bin" / "rag-playground"
    for argv in ([str(python), "-m", "rag_core", "--help"], [str(script), "--help"]):
        result = run(argv, cwd=elsewhere)
        assert result.returncode == 0, result.stderr[-2000:]
        assert "demo" in result.stdout and "ingest" in result.stdout and "query" in result.stdout
    data = run([str(python), "-c", "from rag_core.ingest.demo import demo_documents; print(len(demo_documents()))"],
               cwd=elsewhere)
    assert data.returncode == 0 and int(data.stdout) > 100, data.stderr[-2000:]  # package data found


def test_only_rag_core_is_a_package():
    """ui/, pages/ and tests/ run from the checkout; installing them would shadow nothing but
    would put names like `ui` and `pages` into every environment."""
    import tomllib

    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert config["tool"]["setuptools"]["packages"]["find"]["include"] == ["rag_core", "rag_core.*"]
    assert config["project"]["scripts"]["rag-playground"] == "rag_core.cli:main"


def test_installed_cli_runs_this_checkout_from_outside_it(tmp_path):
    """Where the project is installed (CI: `pip install -r requirements-dev.txt`), the
    interpreter running the tests imports this checkout's rag_core from any directory."""
    elsewhere = [p for p in sys.path if Path(p or ".").resolve() != ROOT]  # not the checkout's egg-info
    if not any(d.metadata["Name"] == DIST for d in importlib.metadata.distributions(path=elsewhere)):
        pytest.skip(f"{DIST} is not installed in this interpreter (pip install -r requirements.txt)")
    result = run([sys.executable, "-m", "rag_core", "--help"], cwd=tmp_path)
    assert result.returncode == 0 and "usage:" in result.stdout, result.stderr[-2000:]
    where = run([sys.executable, "-c", "import rag_core; print(rag_core.__file__)"], cwd=tmp_path)
    assert Path(where.stdout.strip()).resolve().parent == ROOT / "rag_core", "a stale install elsewhere"
