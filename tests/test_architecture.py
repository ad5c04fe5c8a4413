"""The shape of the house (docs/architecture.md): no import cycles, small modules, the plugin contract importable
on its own, and no code importing the 0.1 module paths that only the compatibility aliases serve.

The layer and independence contracts themselves are import-linter's (``lint-imports``, pyproject.toml), run
by .ci/run; these tests check what import-linter does not.
"""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
from pathlib import Path

import grimp
import pytest

from harness._compat import MOVED

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = {"harness": ROOT / "harness", "harness_plugins": ROOT / "plugins", "harness_reports": ROOT / "reports"}

MAX_LINES = 400
#: Modules allowed over MAX_LINES for now, with the issue that splits them.
OVERSIZE: dict[str, str] = {}


def _cycles(graph: grimp.ImportGraph, package: str) -> list[list[str]]:
    """The strongly connected components (more than one module) of ``package``'s import graph."""
    mods = sorted(m for m in graph.modules if m == package or m.startswith(package + "."))
    inside = set(mods)
    edges = {m: sorted(graph.find_modules_directly_imported_by(m) & inside) for m in mods}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:  # Tarjan's algorithm
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in edges[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for m in mods:
        if m not in index:
            visit(m)
    return found


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    # type-checking-only and function-level imports count: a cycle through them is still a cycle to a reader
    return grimp.build_graph(*PACKAGES)


@pytest.mark.parametrize("package", sorted(PACKAGES))
def test_no_import_cycles(graph, package) -> None:
    cycles = _cycles(graph, package)
    assert not cycles, "import cycles (each list imports itself round the loop):\n" + "\n".join(map(str, cycles))


def test_the_cycle_check_finds_a_cycle() -> None:
    g = grimp.ImportGraph()
    for m in ("pkg", "pkg.a", "pkg.b", "pkg.c"):
        g.add_module(m)
    g.add_import(importer="pkg.a", imported="pkg.b")
    g.add_import(importer="pkg.b", imported="pkg.a")
    g.add_import(importer="pkg.c", imported="pkg.a")
    assert _cycles(g, "pkg") == [["pkg.a", "pkg.b"]]


def _modules() -> list[Path]:
    return sorted(p for base in PACKAGES.values() for p in base.rglob("*.py"))


def test_no_module_over_400_lines() -> None:
    too_long = {}
    for path in _modules():
        rel = path.relative_to(ROOT).as_posix()
        n = len(path.read_text(encoding="utf-8").splitlines())
        if n > MAX_LINES and rel not in OVERSIZE:
            too_long[rel] = n
    assert not too_long, f"modules over {MAX_LINES} lines (split them along their seams): {too_long}"


def _imported_names(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{a.name}" for a in node.names)
    return names


def test_code_imports_the_new_paths_not_the_aliases() -> None:
    """The 0.1 paths resolve only at run time (harness/_compat.py), so import-linter cannot see through them:
    the project's own code must use the real modules."""
    offenders = {path.relative_to(ROOT).as_posix(): sorted(_imported_names(path) & set(MOVED))
                 for path in _modules()}
    assert not {k: v for k, v in offenders.items() if v}


@pytest.mark.parametrize("old, new", sorted(MOVED.items()))
def test_the_old_module_paths_still_import(old, new) -> None:
    assert importlib.import_module(old) is importlib.import_module(new)
    assert not (ROOT / (old.replace(".", "/") + ".py")).exists()  # an alias, not a stale copy


def test_the_plugin_contract_imports_without_the_machinery() -> None:
    """A plugin importing the contract does not load the engine, the suite loader, the runner or the CLI."""
    code = ("import sys\n"
            "import harness, harness.hookspecs, harness.providers, harness.metrics, harness.examples, "
            "harness.errors, harness.jsonio\n"
            "from harness.providers import Provider, Model, LocalModel, RequestModel, BatchClient, ModelSpec, "
            "Options, Resolved\n"
            "from harness.metrics import Metric, MetricData, NotAvailable, MetricValue, evaluate\n"
            "from harness.errors import Retryable\n"
            "bad = sorted(m for m in sys.modules if m.split('.')[:2] in (['harness', 'engine'], "
            "['harness', 'suite'], ['harness', 'runner'], ['harness', 'cli'], ['harness', 'analysis'], "
            "['harness', 'output']))\n"
            "print(','.join(bad))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == ""


def test_retryable_is_one_class_at_both_paths() -> None:
    from harness.engine import Retryable as from_engine
    from harness.errors import Retryable

    assert from_engine is Retryable


def test_py_typed_ships_with_the_package() -> None:
    import tomllib

    assert (ROOT / "harness" / "py.typed").is_file()
    conf = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert "py.typed" in conf["tool"]["setuptools"]["package-data"]["harness"]


def test_the_architecture_doc_names_every_package_and_contract_module() -> None:
    """docs/architecture.md is the map: linked from the README, it names every package of harness/ and every
    top-level module (the plugin contract and the plugin host), so a new one cannot go unmapped."""
    doc = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    assert "docs/architecture.md" in (ROOT / "README.md").read_text(encoding="utf-8")
    harness = PACKAGES["harness"]
    packages = sorted(p.parent.relative_to(ROOT).as_posix() + "/" for p in harness.glob("*/__init__.py"))
    modules = sorted(p.relative_to(ROOT).as_posix() for p in harness.glob("*.py"))
    assert len(packages) >= 7 and len(modules) >= 7
    missing = [name for name in packages + modules if f"`{name}" not in doc]
    assert not missing, f"docs/architecture.md does not map: {missing}"
