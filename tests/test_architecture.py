"""The package's architecture, checked over its source (no import of the modules needed, except for the public API).

* one-way layers over the real import graph, function-level imports included:
  ``cli > run > rmstudy (the lazy facade) > report, pool > results > analysis, planning > checks > (ingest |
  simulate) > stats > contract > errors, _version``; a module may import its own layer and the layers below it, never above, and
  ``ingest`` and ``simulate`` never import each other;
* ``import rmstudy`` exposes every name of ``rmstudy.__all__`` and stays cheap (no pandas, numpy or scipy);
* no module over 600 lines and no function over 80;
* no ``assert`` statement in the package (internal invariants raise a named error: ``python -O`` drops asserts);
* no private name (``_x``) of one module imported or used by another.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "rmstudy"

#: rank of each layer: a module may import modules of its own rank or lower
LAYERS = {
    "rmstudy.cli": 11, "rmstudy.__main__": 11,
    "rmstudy.run": 10,
    "rmstudy": 9,                      # the package root: a lazy facade over the layers below
    "rmstudy.report": 8, "rmstudy.pool": 8,     # pool: meta-analysis of runs, drawn and written like a report
    "rmstudy.planning": 6,                      # power planning: simulated cohorts through the analysis's model
    "rmstudy.results": 7,
    "rmstudy.analysis": 6,
    "rmstudy.checks": 5,
    "rmstudy.ingest": 4, "rmstudy.simulate": 4,
    "rmstudy.stats": 3,
    "rmstudy.contract": 2,
    "rmstudy.errors": 1, "rmstudy._version": 1,
}
#: layers of one rank that must not import each other
PEERS = {("rmstudy.ingest", "rmstudy.simulate"), ("rmstudy.simulate", "rmstudy.ingest")}

MAX_MODULE_LINES = 600
MAX_FUNCTION_LINES = 80
#: named, reasoned exceptions to the size rules: module or qualified function -> why
SIZE_EXCEPTIONS: dict[str, str] = {}


def _modules() -> dict[str, Path]:
    out = {}
    for p in sorted(SRC.rglob("*.py")):
        parts = p.relative_to(SRC).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(("rmstudy",) + parts)] = p
    return out


MODULES = _modules()
TREES = {m: ast.parse(p.read_text(encoding="utf-8"), filename=str(p)) for m, p in MODULES.items()}


def layer_of(module: str) -> str:
    """The layer (a key of LAYERS) a module belongs to: its longest matching prefix."""
    best = None
    for name in LAYERS:
        if module == name or (name != "rmstudy" and module.startswith(name + ".")):
            if best is None or len(name) > len(best):
                best = name
    if best is None:
        raise KeyError(f"{module} belongs to no layer: add its subpackage to LAYERS in tests/test_architecture.py")
    return best


def _is_package(module: str) -> bool:
    return MODULES[module].name == "__init__.py"


def imports_of(module: str) -> list[tuple[str, int]]:
    """(imported rmstudy module, line) for every import statement of a module, at any depth; ``from a import b``
    counts as importing ``a.b`` when that is a module, else ``a``."""
    found = []
    for node in ast.walk(TREES[module]):
        if isinstance(node, ast.Import):
            found += [(a.name, node.lineno) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".")
                base = base[: len(base) - node.level + (1 if _is_package(module) else 0)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            for a in node.names:
                sub = f"{target}.{a.name}"
                found.append((sub if sub in MODULES else target, node.lineno))
    return [(m, line) for m, line in found if m == "rmstudy" or m.startswith("rmstudy.")]


def test_every_module_belongs_to_a_layer():
    for m in MODULES:
        layer_of(m)


def test_imports_go_down_the_layers_only():
    bad = []
    for m in MODULES:
        mine = layer_of(m)
        for target, line in imports_of(m):
            if target not in MODULES:
                bad.append(f"{m}:{line} imports {target}, which is no module of the package")
                continue
            theirs = layer_of(target)
            if LAYERS[theirs] > LAYERS[mine] or (mine, theirs) in PEERS:
                bad.append(f"{m}:{line} ({mine}) imports {target} ({theirs})")
    assert not bad, "imports against the layer order:\n" + "\n".join(bad)


def test_the_layer_rule_catches_a_function_level_import(tmp_path):
    tree = ast.parse("def f():\n    from rmstudy.run.pipeline import run\n")
    TREES["rmstudy.stats.fake"], MODULES["rmstudy.stats.fake"] = tree, tmp_path / "fake.py"
    try:
        assert imports_of("rmstudy.stats.fake") == [("rmstudy.run.pipeline", 2)]
        with pytest.raises(AssertionError, match="rmstudy.stats.fake:2"):
            test_imports_go_down_the_layers_only()
    finally:
        del TREES["rmstudy.stats.fake"], MODULES["rmstudy.stats.fake"]


def test_every_documented_name_imports_from_the_root():
    import rmstudy

    missing = [n for n in rmstudy.__all__ if getattr(rmstudy, n, None) is None]
    assert not missing
    assert set(rmstudy.__all__) <= set(dir(rmstudy))
    assert rmstudy.__version__


def test_import_rmstudy_stays_cheap():
    code = ("import sys, rmstudy; heavy = sorted(m for m in ('pandas', 'numpy', 'scipy', 'statsmodels', 'matplotlib') "
            "if m in sys.modules); print(','.join(heavy))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "", f"import rmstudy loads {out}"


def _functions(tree: ast.AST, prefix: str = ""):
    """(qualified name, node) of every function and method, outermost first; nested functions are part of their
    outer function's length, not counted again."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            yield prefix + node.name, node
        elif isinstance(node, ast.ClassDef):
            yield from _functions(node, prefix + node.name + ".")


def test_modules_and_functions_are_short():
    long = []
    for m, p in MODULES.items():
        n = len(p.read_text(encoding="utf-8").splitlines())
        if n > MAX_MODULE_LINES and m not in SIZE_EXCEPTIONS:
            long.append(f"{m}: {n} lines (at most {MAX_MODULE_LINES})")
        for name, node in _functions(TREES[m]):
            n = node.end_lineno - node.lineno + 1
            if n > MAX_FUNCTION_LINES and f"{m}.{name}" not in SIZE_EXCEPTIONS and m not in SIZE_EXCEPTIONS:
                long.append(f"{m}.{name}: {n} lines (at most {MAX_FUNCTION_LINES})")
    assert not long, "too long:\n" + "\n".join(long)


def test_no_assert_statements_in_the_package():
    found = [f"{m}:{node.lineno}" for m, t in TREES.items() for node in ast.walk(t) if isinstance(node, ast.Assert)]
    assert not found, "assert vanishes under python -O; raise a named error instead: " + ", ".join(found)


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def test_no_private_name_crosses_a_module():
    bad = []
    for m, tree in TREES.items():
        module_names = {}                        # local name -> rmstudy module it is bound to
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("rmstudy"):
                for a in node.names:
                    if _private(a.name):
                        bad.append(f"{m}:{node.lineno} imports {a.name} from {node.module}")
                    if f"{node.module}.{a.name}" in MODULES:
                        module_names[a.asname or a.name] = f"{node.module}.{a.name}"
            elif isinstance(node, ast.Import):
                for a in node.names:
                    if a.name.startswith("rmstudy") and a.asname:
                        module_names[a.asname] = a.name
        for node in ast.walk(tree):
            if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                    and node.value.id in module_names and _private(node.attr)):
                bad.append(f"{m}:{node.lineno} uses {module_names[node.value.id]}.{node.attr}")
    assert not bad, "private names used outside their module (make them public and documented):\n" + "\n".join(bad)


def test_every_error_class_of_the_package_has_the_common_root():
    import importlib

    from rmstudy.errors import RmstudyError

    loose = []
    for m, tree in TREES.items():
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef) and (node.name.endswith("Error") or node.name in ("NotebookFailed",)):
                cls = getattr(importlib.import_module(m), node.name)
                if not issubclass(cls, RmstudyError):
                    loose.append(f"{m}.{node.name}")
    assert not loose, f"error classes outside the RmstudyError tree: {loose}"


def test_statistics_take_arrays_and_frames_not_a_cohort():
    """rmstudy.stats holds pure estimators: a function that needs the whole cohort (plan, codebook, tables)
    belongs to the analysis layer."""
    found = [f"{m}.{name}" for m, tree in TREES.items() if m.startswith("rmstudy.stats")
             for name, node in _functions(tree) if any(a.arg == "cohort" for a in node.args.args)]
    assert not found, found
