"""The layers hold at run time, and no module hides a dependency inside a function.

`make lint` checks the static import graph with import-linter (pyproject.toml,
``[tool.importlinter]``); these tests check what Python actually runs: importing a lower layer
never executes ``webapp/__init__.py`` (the app factory and every blueprint), and a module's
project imports are at its top.
"""

from __future__ import annotations

import ast
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PROJECT_PACKAGES = ("webapp", "checkin", "reports", "models", "formats", "errors")
#: Each lower package with the packages it must never load, even indirectly.
LOWER_LAYERS = {
    "errors": ("webapp", "checkin", "reports", "models", "formats"),
    "formats": ("webapp", "checkin", "reports", "models"),
    "models": ("webapp", "checkin", "reports"),
    "checkin": ("webapp", "reports"),
    "reports": ("webapp", "checkin"),
}


def _modules_of(package: str) -> list[str]:
    path = ROOT / package
    names = [package]
    names += [info.name for info in pkgutil.walk_packages([str(path)], package + ".")]
    return sorted(names)


@pytest.mark.parametrize("package", sorted(LOWER_LAYERS))
def test_importing_a_lower_layer_never_loads_an_upper_one(package):
    modules = _modules_of(package)
    assert len(modules) > 1 or package == "errors"
    code = (
        "import importlib, json, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                            text=True, timeout=120, check=True)
    loaded = set(__import__("json").loads(result.stdout.strip().splitlines()[-1]))
    assert package in loaded
    assert not loaded & set(LOWER_LAYERS[package]), (package, loaded & set(LOWER_LAYERS[package]))


def _function_local_project_imports(source: str, label: str) -> list[str]:
    lines = source.splitlines()
    found = []

    def visit(node, in_function):
        for child in ast.iter_child_nodes(node):
            if in_function and isinstance(child, ast.Import | ast.ImportFrom):
                if isinstance(child, ast.ImportFrom):
                    target = child.module or "" if child.level == 0 else "."
                else:
                    target = child.names[0].name
                line = lines[child.lineno - 1]
                comment = line.split("#", 1)[1].strip() if "#" in line else ""
                explained = comment and not comment.lower().startswith("noqa")
                if target.split(".")[0] in PROJECT_PACKAGES + (".",) and not explained:
                    found.append(f"{label}:{child.lineno}: {line.strip()}")
            visit(child, in_function or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef))

    visit(ast.parse(source), False)
    return found


def test_project_imports_are_at_the_top_of_each_module():
    offenders = []
    for package in PROJECT_PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            offenders += _function_local_project_imports(path.read_text(encoding="utf-8"),
                                                         str(path.relative_to(ROOT)))
    assert not offenders, "\n".join(offenders)


def test_the_local_import_check_sees_a_hidden_import():
    """The check above finds what it is meant to find (a guard against a check that never fails)."""
    sample = ("def f():\n    from webapp import mail\n    return mail\n\n"
              "def g():\n    from models import db  # optional: a reason\n    return db\n\n"
              "def h():\n    import checkin.door.scans  # noqa: F401\n\n"
              "from reports import queries\n")
    assert _function_local_project_imports(sample, "sample.py") == [
        "sample.py:2: from webapp import mail",
        "sample.py:10: import checkin.door.scans  # noqa: F401",
    ]
