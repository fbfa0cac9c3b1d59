"""No function in avsep/ is longer than 80 lines (signature, docstring and body, as formatted),
and no module longer than 400: a longer one holds more than one idea (docs/architecture.md,
"Function and module length")."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1] / "avsep"
LIMIT = 80
MODULE_LIMIT = 400


def long_functions(root: Path, limit: int = LIMIT) -> list[str]:
    found = []
    for path in sorted(root.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                lines = node.end_lineno - node.lineno + 1
                if lines > limit:
                    found.append(f"{path.relative_to(root.parent)}:{node.lineno} {node.name} ({lines} lines)")
    return found


def long_modules(root: Path, limit: int = MODULE_LIMIT) -> list[str]:
    """Modules of more than ``limit`` lines (as formatted: docstrings and comments count)."""
    found = []
    for path in sorted(root.rglob("*.py")):
        lines = len(path.read_text().splitlines())
        if lines > limit:
            found.append(f"{path.relative_to(root.parent)} ({lines} lines)")
    return found


def test_no_function_is_longer_than_80_lines():
    assert not long_functions(ROOT), "\n".join(long_functions(ROOT))


def test_the_length_check_finds_a_long_function(tmp_path: Path):
    (tmp_path / "m.py").write_text("def f():\n" + "    x = 1\n" * 80)
    assert long_functions(tmp_path) == [f"{tmp_path.name}/m.py:1 f (81 lines)"]


def test_no_module_is_longer_than_400_lines():
    assert not long_modules(ROOT), "split these modules:\n" + "\n".join(long_modules(ROOT))


def test_the_length_check_finds_a_long_module(tmp_path: Path):
    (tmp_path / "short.py").write_text("x = 1\n" * 400)
    (tmp_path / "long.py").write_text("x = 1\n" * 401)
    assert long_modules(tmp_path) == [f"{tmp_path.name}/long.py (401 lines)"]
