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


# ---- rag_core's packages run one way (issue 18) ------------------------------------------------

#: lowest first; a package may import its own modules and any package on an earlier line
LAYERS = (
    ("core",),
    ("ingest", "providers", "room"),
    ("costs",),
    ("embeddings", "llm", "rerank"),
    ("stores",),
    ("index",),
    ("retrieval",),
    ("answer",),
    ("evaluation",),
    ("bench",),
    ("cli",),
)
LEVEL = {package: level for level, packages in enumerate(LAYERS) for package in packages}


def _imports(path: Path):
    """Every project import in a file, module-level and inside functions alike; `from package
    import module` is the module (what it needs), `from module import name` the module."""
    import ast

    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and not node.level:
            submodules = [f"{node.module}.{a.name}" for a in node.names if _is_module(f"{node.module}.{a.name}")]
            for module in submodules or [node.module]:
                yield module, node.lineno
        elif isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno


def _is_module(dotted: str) -> bool:
    base = ROOT.parent.joinpath(*dotted.split("."))
    return base.with_suffix(".py").exists() or (base / "__init__.py").exists()


def test_every_package_is_in_a_layer_and_nothing_is_loose():
    packages = {p.name for p in ROOT.iterdir() if (p / "__init__.py").exists()}
    assert packages == set(LEVEL)
    loose = sorted(p.name for p in ROOT.glob("*.py") if p.name not in ("__init__.py", "__main__.py"))
    assert loose == []


def test_rag_core_layers_only_import_down():
    offenders = []
    for path in ROOT.rglob("*.py"):
        parts = path.relative_to(ROOT).parts
        if len(parts) < 2:
            continue
        mine = LEVEL[parts[0]]
        for module, line in _imports(path):
            names = module.split(".")
            if names[0] != "rag_core" or len(names) < 2 or names[1] not in LEVEL:
                continue
            if LEVEL[names[1]] > mine:
                offenders.append(f"{path.relative_to(ROOT.parent)}:{line} imports {module}")
    assert offenders == []


def _graph():
    project = ROOT.parent
    files = [p for p in list(ROOT.rglob("*.py")) + list((project / "ui").rglob("*.py"))]
    names = {}
    for p in files:
        parts = list(p.relative_to(project).with_suffix("").parts)
        names[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = p
    edges = {}
    for name, path in names.items():
        for module, _ in _imports(path):
            if module in names and module != name:
                edges.setdefault(name, set()).add(module)
    return names, edges


def test_no_import_cycles_between_files():
    """Package __init__ re-exports and imports inside functions count."""
    import graphlib

    names, edges = _graph()
    sorter = graphlib.TopologicalSorter({n: edges.get(n, set()) for n in names})
    try:
        sorter.prepare()
    except graphlib.CycleError as exc:
        pytest.fail(f"import cycle: {' -> '.join(exc.args[1])}")


def test_project_modules_are_imported_at_the_top():
    """Fewer than 20 imports of project modules inside functions, and each says why. (The CLI loads a
    command's module by name, in one place: rag_core/cli/__init__.py's COMMANDS.)"""
    import ast

    project = ROOT.parent
    inside = []
    for path in list(ROOT.rglob("*.py")) + list((project / "ui").rglob("*.py")):
        for fn in ast.walk(ast.parse(path.read_text())):
            if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
                for node in ast.walk(fn):
                    if isinstance(node, (ast.Import, ast.ImportFrom)):
                        module = node.module if isinstance(node, ast.ImportFrom) else node.names[0].name
                        if getattr(node, "level", 0) or (module or "").split(".")[0] in ("rag_core", "ui"):
                            inside.append(f"{path.relative_to(project)}:{node.lineno}")
    assert len(inside) < 20, inside


def test_the_readme_map_names_every_package():
    text = (ROOT.parent / "README.md").read_text()
    section = text[text.index("## How it is built"):]
    section = section[:section.index("\n## ", 1)]
    missing = [p for p in LEVEL if f"  {p}/" not in section]
    assert missing == []
    for package in LEVEL:  # each says what it is for
        doc = ast_docstring(ROOT / package / "__init__.py")
        assert doc and len(doc) > 40, package


def ast_docstring(path: Path) -> str:
    import ast

    return ast.get_docstring(ast.parse(path.read_text())) or ""
