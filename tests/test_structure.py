"""The package's shape, read from its source: layers that only import downwards, no import cycle, short functions,
and seams that hold (the library knows no argparse, no sys.path edits, no ../shared folder).

Contributor notes in README.md ("Where things go") say the same in words.
"""
from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "inat"
# The layers, bottom first: a module may import its own layer and the layers before it, never one after it.
LAYERS = ["core", "models", "runtime", "naturalist", "observations", "identify", "training", "cli", "app", "testing"]
MAX_FUNCTION_LINES = 80


def module_name(path: Path, root: Path = REPO) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path, root: Path = REPO) -> set[str]:
    """Every inat name `path` imports, at any depth of its code (lazy imports count too)."""
    me = module_name(path, root)
    package = me if path.name == "__init__.py" else me.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            base = package.split(".")[:len(package.split(".")) - node.level + 1] if node.level else []
            target = ".".join(base + ([node.module] if node.module else [])) if node.level else node.module
            if not target or not target.startswith("inat"):
                continue
            found.add(target)
            found.update(f"{target}.{a.name}" for a in node.names)   # `from . import x` imports module x
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("inat"))
    return found


def graph(root: Path = PACKAGE) -> dict[str, set[str]]:
    """inat module → the inat modules it imports (names that are not modules, like classes, dropped)."""
    files = {module_name(p, root.parent): p for p in root.rglob("*.py")}
    return {m: {t for t in imports(p, root.parent) if t in files and t != m} for m, p in files.items()}


def layer(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in LAYERS else None


def upward_imports(g: dict[str, set[str]]) -> list[str]:
    out = []
    for m, targets in g.items():
        for t in targets:
            if layer(m) and layer(t) and LAYERS.index(layer(t)) > LAYERS.index(layer(m)):
                out.append(f"{m} -> {t}")
    return sorted(out)


def cycles(g: dict[str, set[str]]) -> list[list[str]]:
    """The import cycles between modules (one path each), by depth-first search. A package's __init__ importing
    its own modules is how packages are built, not a cycle, so edges into a package's own __init__ are left out."""
    def own_init(m, t):
        return m.startswith(t + ".")
    found, state = [], {}

    def visit(m, path):
        state[m] = "open"
        for t in sorted(g.get(m, ())):
            if own_init(m, t):
                continue
            if state.get(t) == "open":
                found.append(path[path.index(t):] + [t])
            elif t not in state:
                visit(t, path + [t])
        state[m] = "done"
    for m in sorted(g):
        if m not in state:
            visit(m, [m])
    return found


def long_functions(root: Path = PACKAGE, limit: int = MAX_FUNCTION_LINES) -> list[str]:
    out = []
    for p in sorted(root.rglob("*.py")):
        for node in ast.walk(ast.parse(p.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                n = node.end_lineno - node.lineno + 1
                if n > limit:
                    out.append(f"{p.relative_to(root.parent)}:{node.lineno} {node.name} ({n} lines)")
    return out


# -- the checks can fail ----------------------------------------------------------------------------------
def test_the_checks_see_what_they_look_for(tmp_path):
    pkg = tmp_path / "inat"
    for folder in ("core", "models"):
        (pkg / folder).mkdir(parents=True)
        (pkg / folder / "__init__.py").write_text("")
    (pkg / "__init__.py").write_text("")
    (pkg / "core" / "a.py").write_text("from ..models import b\n")                       # core imports upwards
    (pkg / "models" / "b.py").write_text("def f():\n    from ..core import a\n" + "    x = 1\n" * 90)
    g = graph(pkg)
    assert upward_imports(g) == ["inat.core.a -> inat.models", "inat.core.a -> inat.models.b"]
    assert cycles(g) == [["inat.core.a", "inat.models.b", "inat.core.a"]]
    assert [line.split()[1] for line in long_functions(pkg, MAX_FUNCTION_LINES)] == ["f"]


# -- the package ------------------------------------------------------------------------------------------
def test_every_module_sits_in_a_layer():
    loose = [p.name for p in PACKAGE.glob("*.py") if p.name not in ("__init__.py", "__main__.py")]
    assert loose == [], "modules belong in a layer's folder (tests/test_structure.py: LAYERS)"
    assert sorted(p.name for p in PACKAGE.iterdir() if (p / "__init__.py").is_file()) == sorted(LAYERS)


def test_layers_import_only_downwards():
    assert upward_imports(graph()) == []


def test_no_import_cycles():
    assert cycles(graph()) == []


def test_no_function_over_80_lines():
    assert long_functions() == []


def test_only_the_command_line_and_the_app_parse_arguments():
    parsers = sorted(str(p.relative_to(REPO)) for p in PACKAGE.rglob("*.py")
                     if re.search(r"^\s*import argparse|add_parser\(|add_argument\(", p.read_text(encoding="utf-8"), re.M)
                     and layer(module_name(p)) not in ("cli", "app"))
    assert parsers == []


def code_strings(path: Path) -> list[str]:
    """The string constants of a module's code, docstrings left out (they may show example commands)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docs = {id(n.body[0].value) for n in ast.walk(tree)
            if isinstance(n, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and n.body
            and isinstance(n.body[0], ast.Expr) and isinstance(n.body[0].value, ast.Constant)}
    return [n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)
            and id(n) not in docs]


def test_the_library_knows_no_sibling_folder(tmp_path):
    # ../shared holds this machine's photos and models; the library must work without it.
    def hits(root):
        return [p.name for p in sorted(root.rglob("*.py"))
                if any(s == "shared" or "shared/" in s for s in code_strings(p))]
    (tmp_path / "m.py").write_text('"""python x.py --data ../shared/data"""\nPHOTOS = ROOT.parent / "shared" / "data"\n')
    (tmp_path / "ok.py").write_text('"""see ../shared/data"""\n')
    assert hits(tmp_path) == ["m.py"]
    assert hits(PACKAGE) == []


@pytest.mark.parametrize("folder", ["scripts", "benchmarks", "training_notebooks"])
def test_scripts_benchmarks_and_notebooks_do_not_edit_sys_path(folder):
    edits = [str(p.relative_to(REPO)) for p in sorted((REPO / folder).glob("*.*"))
             if p.suffix in (".py", ".ipynb") and "sys.path.insert" in p.read_text(encoding="utf-8")]
    assert edits == []


def test_benchmarks_import_nothing_from_the_tests():
    found = [f"{p.name}: {m.group(0).strip()}" for p in sorted((REPO / "benchmarks").glob("*.py"))
             for m in re.finditer(r"^\s*(import test_\w+|from (conftest|test_\w+) import .*)$",
                                  p.read_text(encoding="utf-8"), re.M)]
    assert found == []


def test_the_wheel_carries_every_layer_and_the_assets():
    # A layer missing from pyproject's package list installs editable but not from a wheel.
    import tomllib
    setuptools = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    assert sorted(setuptools["packages"]) == sorted(["inat", "inat.assets", *(f"inat.{x}" for x in LAYERS)])
    assert setuptools["package-dir"] == {"inat.assets": "assets"}
