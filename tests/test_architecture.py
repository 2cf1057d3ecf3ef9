"""The shape of scripts/: entry points on top, packages below them, core at the bottom.

Imports point one way. Each failure names the offending edge (importer -> imported)."""
import ast
import subprocess
import sys
from pathlib import Path
from typing import Dict, List, Set, Tuple

from scripts.core.paths import PROJECT_DIR

SCRIPTS = PROJECT_DIR / "scripts"
# A package may import itself and the packages of a lower layer, never a higher or equal one.
LAYERS = {"core": 0, "sim": 1, "gateway": 1, "observability": 1, "in_proxy": 2, "services": 2, "claude": 2, "catalog": 2, "perf": 3,
          "auth": 3}
# Only these entry points (and tests) may use the simulators: product commands never do.
SIM_USERS = {"scripts.demo", "scripts.bench", "scripts.simulators"}


def module_name(path: Path) -> str:
    parts = path.relative_to(PROJECT_DIR).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in sorted(SCRIPTS.rglob("*.py"))}


def resolve(name: str) -> str:
    """scripts.a.b.Name -> the longest prefix that is a module of ours."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name


def imports_of(path: Path) -> List[Tuple[str, bool]]:
    """(imported module of ours, at module level?) for each import in the file."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    top_level = {id(node) for node in tree.body}
    found = []
    for node in ast.walk(tree):
        targets: List[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{path}: relative import (use `from scripts.<package> import ...`)"
            targets = [f"{node.module}.{alias.name}" for alias in node.names]
        for target in targets:
            if target.split(".")[0] == "scripts" and resolve(target) not in ("", "scripts"):
                found.append((resolve(target), id(node) in top_level))
    return found


GRAPH: Dict[str, Set[str]] = {name: {m for m, _ in imports_of(path)} - {name} for name, path in MODULES.items()}


def package_of(module: str) -> str:
    """The package a module of ours lives in; "" for an entry point (scripts/<name>.py)."""
    folder = MODULES[module].parent
    return "" if folder == SCRIPTS else folder.name


def test_the_packages_are_the_architecture():
    packages = {p.name for p in SCRIPTS.iterdir() if (p / "__init__.py").exists()}
    assert packages == set(LAYERS), f"packages {sorted(packages)} vs layers {sorted(LAYERS)}: update LAYERS"
    entry_points = [m for m, path in MODULES.items() if path.parent == SCRIPTS and path.name != "__init__.py"]
    assert len(entry_points) >= 16, entry_points
    for module in entry_points:
        text = MODULES[module].read_text(encoding="utf-8")
        assert "main = entry_point(__name__, " in text, f"{module}: an entry point ends in main = entry_point(...)"


def test_no_import_points_up_or_sideways():
    wrong = []
    for importer, imported in sorted((a, b) for a, bs in GRAPH.items() for b in bs):
        low, high = package_of(importer), package_of(imported)
        if not high:
            wrong.append(f"{importer} -> {imported} (an entry point imports another entry point)"
                         if not low else f"{importer} -> {imported} (a package imports an entry point)")
        elif low and low != high and LAYERS[high] >= LAYERS[low]:
            wrong.append(f"{importer} -> {imported} ({low} may not import {high})")
        elif high == "sim" and not low and importer not in SIM_USERS:
            wrong.append(f"{importer} -> {imported} (a product command imports the simulators)")
    assert not wrong, "imports that point the wrong way:\n" + "\n".join(wrong)


def test_no_function_level_imports_of_our_modules():
    hidden = [f"{name} -> {target}" for name, path in MODULES.items()
              for target, top in imports_of(path) if not top]
    assert not hidden, "imports inside functions (move them to the top):\n" + "\n".join(hidden)


def test_no_import_cycle():
    state: Dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(module: str, trail: List[str]) -> None:
        state[module] = 1
        for nxt in sorted(GRAPH.get(module, ())):
            if state.get(nxt) == 1:
                cycle = trail[trail.index(nxt):] + [module, nxt] if nxt in trail else [module, nxt]
                raise AssertionError("import cycle: " + " -> ".join(cycle))
            if nxt not in state:
                visit(nxt, trail + [module])
        state[module] = 2

    for module in sorted(GRAPH):
        if module not in state:
            visit(module, [])


def test_make_install_runs_on_a_bare_python():
    """`make install` runs before the venv exists: its imports must be the standard library's."""
    result = subprocess.run([sys.executable, "-S", "-c", "import scripts.install"], cwd=PROJECT_DIR,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    core_deps = {m for name in MODULES if package_of(name) == "core" for m, _ in imports_of(MODULES[name])}
    assert all(package_of(m) == "core" for m in core_deps), f"core imports outside core: {sorted(core_deps)}"
