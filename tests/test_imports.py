"""The package's modules import each other in one direction only: no import cycle.

Every module-level import counts, ``if TYPE_CHECKING:`` ones included (a type-only cycle is
still two modules that must be read together); imports inside functions are the deferred
imports that keep the CLI fast and are not dependencies of the module itself.
``from package import submodule`` is an edge to the submodule, not to the package.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1] / "avsep"


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _top_level_imports(tree: ast.Module) -> list[ast.stmt]:
    """Import statements at module level, descending into if/try blocks (not functions)."""
    out: list[ast.stmt] = []
    stack = list(tree.body)
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            out.append(node)
        elif isinstance(node, (ast.If, ast.Try)):
            stack.extend(node.body + node.orelse + getattr(node, "finalbody", []))
            stack.extend(h for handler in getattr(node, "handlers", []) for h in handler.body)
    return out


def import_graph() -> dict[str, set[str]]:
    modules = {_module_name(p): p for p in ROOT.rglob("*.py")}
    graph: dict[str, set[str]] = {m: set() for m in modules}
    for name, path in modules.items():
        for node in _top_level_imports(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif node.level == 0 and node.module:
                subs = [f"{node.module}.{a.name}" for a in node.names]
                targets = [s for s in subs if s in modules] or [node.module]
            else:
                continue
            graph[name] |= {t for t in targets if t in modules and t != name}
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return path[path.index(nxt) :] + [nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_no_import_cycle_in_the_package():
    cycle = find_cycle(import_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_the_cycle_finder_finds_a_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_the_graph_sees_type_only_imports():
    graph = import_graph()
    assert "avsep.train.index" in graph["avsep.train.features"]
    assert "avsep.train.features" in graph["avsep.train.data"]  # under TYPE_CHECKING
    assert "avsep.train.data" not in graph["avsep.train.features"]


def _all_imports(path: Path) -> set[str]:
    """Every ``avsep`` module ``path`` imports, deferred (inside functions) included."""
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            out |= {node.module} | {f"{node.module}.{a.name}" for a in node.names}
    return {m for m in out if m == "avsep" or m.startswith("avsep.")}


#: The rooms' one-way rule (docs/architecture.md): a module under the key never imports, even
#: deferred, a module under any of the prefixes.
FORBIDDEN = {
    "avsep.io": ("avsep.train", "avsep.cli", "avsep.batch", "avsep.separate"),
    "avsep.models": ("avsep.train", "avsep.cli", "avsep.io", "avsep.batch", "avsep.separate"),
    "avsep.dsp": ("avsep.train", "avsep.cli", "avsep.io", "avsep.models"),
    "avsep.timing": ("avsep.",),
    "avsep.batch": ("avsep.cli", "avsep.train", "avsep.reporting"),
    "avsep.separate": ("avsep.cli", "avsep.train", "avsep.reporting"),
    "avsep.train": ("avsep.cli",),
}


def test_rooms_import_one_way():
    broken = []
    for path in ROOT.rglob("*.py"):
        name = _module_name(path)
        for room, prefixes in FORBIDDEN.items():
            if name == room or name.startswith(room + "."):
                broken += [f"{name} imports {m}" for m in _all_imports(path) if m.startswith(prefixes)]
    assert not broken, "\n".join(sorted(broken))
