"""rag_core must stay framework-free: importing every module never imports streamlit."""

import subprocess
import sys
from pathlib import Path

import pytest

import rag_core

ROOT = Path(rag_core.__file__).parent


def test_rag_core_never_imports_streamlit():
    modules = sorted(
        "rag_core." + ".".join(p.relative_to(ROOT).with_suffix("").parts)
        for p in ROOT.rglob("*.py")
        if p.name not in ("__main__.py",)
    )
    modules = [m.removesuffix(".__init__") for m in modules]
    code = (
        "import importlib, sys\n"
        f"for m in {modules!r}: importlib.import_module(m)\n"
        "bad = sorted(m for m in sys.modules if m == 'streamlit' or m.startswith('streamlit.'))\n"
        "print(bad); sys.exit(1 if bad else 0)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT.parent)
    assert result.returncode == 0, result.stdout + result.stderr


def test_no_streamlit_in_source():
    offenders = [str(p) for p in ROOT.rglob("*.py") if "import streamlit" in p.read_text()]
    assert offenders == []


@pytest.mark.filterwarnings("ignore:A test tried to use socket")
def test_tests_cannot_reach_the_network():
    """pytest-socket is active: a connection beyond loopback fails."""
    import socket

    from pytest_socket import SocketConnectBlockedError

    with pytest.raises(SocketConnectBlockedError):
        socket.create_connection(("93.184.216.34", 80), timeout=1)


def test_layers_only_point_down():
    """pages -> ui -> rag_core: rag_core never imports ui or pages; ui never imports pages."""
    project = ROOT.parent
    rules = {"rag_core": ("ui", "pages"), "ui": ("pages",)}
    offenders = []
    for layer, forbidden in rules.items():
        for path in (project / layer).rglob("*.py"):
            for line in path.read_text().splitlines():
                stripped = line.strip()
                if any(stripped.startswith((f"from {f}", f"import {f}")) for f in forbidden):
                    offenders.append(f"{path.relative_to(project)}: {stripped}")
    assert offenders == []
