"""No function in avsep/ is longer than 80 lines (signature, docstring and body, as formatted):
a longer one holds more than one idea (docs/architecture.md, "Function length")."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1] / "avsep"
LIMIT = 80


def long_functions(root: Path, limit: int = LIMIT) -> list[str]:
    found = []
    for path in sorted(root.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                lines = node.end_lineno - node.lineno + 1
                if lines > limit:
                    found.append(f"{path.relative_to(root.parent)}:{node.lineno} {node.name} ({lines} lines)")
    return found


def test_no_function_is_longer_than_80_lines():
    assert not long_functions(ROOT), "\n".join(long_functions(ROOT))


def test_the_length_check_finds_a_long_function(tmp_path: Path):
    (tmp_path / "m.py").write_text("def f():\n" + "    x = 1\n" * 80)
    assert long_functions(tmp_path) == [f"{tmp_path.name}/m.py:1 f (81 lines)"]
