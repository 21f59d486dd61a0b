"""The package's shape, read from the sources (ast), never by importing them.

Every import statement counts, wherever it stands (module level, inside a function, under
``if TYPE_CHECKING``), and so does every ``importlib.import_module("...")`` with a literal name.
"""

from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx
import pytest

ROOT = Path(__file__).resolve().parents[1]
PKG = ROOT / "gridplan"
#: Stages that must never reach up to the entry points or the cluster engine.
CORE = (
    "io",
    "geometry",
    "prepare",
    "grids",
    "network",
    "access",
    "siting",
    "plan",
    "report",
    "datasets",
    "norms",
    "errors",
    "i18n",
)
ENTRY = ("gridplan.cli", "gridplan.app", "gridplan.parallel")


def _modules() -> dict[str, Path]:
    out = {}
    for f in PKG.rglob("*.py"):
        if "assets" in f.relative_to(PKG).parts:
            continue
        parts = list(f.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = f
    return out


MODULES = _modules()


def _resolve(name: str) -> str | None:
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def _imports(module: str, path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                pkg = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
                pkg = pkg[: len(pkg) - node.level + 1]
                base = ".".join(pkg + ([base] if base else []))
            names = [f"{base}.{a.name}" if f"{base}.{a.name}" in MODULES else base for a in node.names]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif (
            isinstance(node, ast.Call)
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and getattr(node.func, "attr", getattr(node.func, "id", None)) == "import_module"
        ):
            names = [str(node.args[0].value)]
        for name in names:
            target = _resolve(name)
            if target and target != module:
                found.add(target)
    return found


GRAPH = nx.DiGraph()
GRAPH.add_nodes_from(MODULES)
for _m, _p in MODULES.items():
    GRAPH.add_edges_from((_m, t) for t in _imports(_m, _p))


def test_the_reader_sees_imports():
    # guards the checks below against a reader that finds nothing
    assert GRAPH.has_edge("gridplan.grids.api", "gridplan.grids.community")
    assert GRAPH.has_edge("gridplan.parallel.engine", "gridplan.grids.api")


def test_no_import_cycle():
    cycles = sorted(nx.simple_cycles(GRAPH), key=len)
    assert not cycles, "import cycles: " + "; ".join(" -> ".join(c) for c in cycles[:5])


@pytest.mark.parametrize("stage", CORE)
def test_core_stages_never_import_entry_points(stage):
    bad = [
        (a, b)
        for a, b in GRAPH.edges
        if (a == f"gridplan.{stage}" or a.startswith(f"gridplan.{stage}.")) and b.startswith(ENTRY)
    ]
    assert not bad, bad


def test_few_modules_at_the_top():
    top = [p for p in PKG.iterdir() if p.suffix == ".py"]
    assert len(top) <= 15, sorted(p.name for p in top)


def test_no_file_over_600_lines():
    long = {
        str(p.relative_to(ROOT)): n
        for p in MODULES.values()
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > 600
    }
    assert not long, long


def test_no_function_body_over_80_lines():
    long = {}
    for path in MODULES.values():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            body = node.body
            if isinstance(body[0], ast.Expr) and isinstance(getattr(body[0], "value", None), ast.Constant):
                body = body[1:]
            if body and (n := body[-1].end_lineno - body[0].lineno + 1) > 80:
                long[f"{path.relative_to(ROOT)}:{node.name}"] = n
    assert not long, long


def test_tests_do_not_import_benchmarks():
    """Shared generators live in tests/generators; bench/ imports them, never the reverse."""
    bench = {p.stem for p in (ROOT / "bench").glob("*.py")}
    bad = []
    for path in (ROOT / "tests").rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            if isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
                names = (
                    [str(node.args[0].value)]
                    if "bench" in str(node.args[0].value) and str(node.args[0].value).endswith(".py")
                    else []
                )
            bad += [f"{path.name}: {n}" for n in names if n.split(".")[0] in bench or n.startswith("bench/")]
    assert not bad, bad
