"""The package's modules import each other in one direction only: no import cycle, no upward import.

Every import counts, ``if TYPE_CHECKING:`` ones included (a type-only cycle is still two modules
that must be read together) and so do imports inside functions: a deferred import is still a
dependency of the module, only paid for later. Imports of avsep modules inside functions are
allowed only in the modules of :data:`DEFERRING`, each for a named reason (start-up time of the
command line, the training extra). ``from package import submodule`` is an edge to the submodule,
not to the package.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1] / "avsep"

#: The modules that may import avsep modules inside functions, and why.
DEFERRING = {
    "avsep": "start-up time: `import avsep` and `avsep --help` must not load torch (Separator is lazy)",
    "avsep.__main__": "start-up time: a Ctrl-C while the CLI imports still exits 130 quietly",
    "avsep.cli": "start-up time: each command imports torch, PyAV and the pipeline only when it runs",
    "avsep.cli_views": "start-up time: the views import the pipeline only when a command prints",
    "avsep.cli_engine": "start-up time: --jobs is checked at once; the batch under Ray loads with --ray only",
    "avsep.box_plan": "start-up time: the plan types check --boxes without PyAV or torch; cropping loads them",
    "avsep.box_request": "start-up time: a request is checked without torch; plan_boxes loads the finder",
    "avsep.train.commands": "the training extra: the commands load (for --help) without scipy & co.",
    "avsep.train.dataset.cli": "the training extra: `avsep data build --help` without music21 & co.",
    "avsep.train.dataset": "the training extra: the package's names load only when used",
}


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(tree: ast.Module, modules: dict[str, Path]) -> set[str]:
    """The avsep modules ``tree`` imports anywhere (module level, TYPE_CHECKING, functions)."""
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            subs = [f"{node.module}.{a.name}" for a in node.names]
            targets = [s for s in subs if s in modules] or [node.module]
        else:
            continue
        out |= {t for t in targets if t in modules}
    return out


def import_graph() -> dict[str, set[str]]:
    modules = {_module_name(p): p for p in ROOT.rglob("*.py")}
    return {name: _imports(ast.parse(path.read_text()), modules) - {name} for name, path in modules.items()}


def deferred_imports(path: Path) -> list[str]:
    """``function: module`` for each avsep import inside a function of ``path``."""
    found = []
    for fn in ast.walk(ast.parse(path.read_text())):
        if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for node in ast.walk(fn):
                names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
                if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names = [node.module]
                found += [f"{fn.name}: {n}" for n in names if n == "avsep" or n.startswith("avsep.")]
    return found


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


def test_the_graph_sees_type_only_and_deferred_imports():
    graph = import_graph()
    assert "avsep.train.index" in graph["avsep.train.features"]
    assert "avsep.train.features" in graph["avsep.train.data"]  # under TYPE_CHECKING
    assert "avsep.train.data" not in graph["avsep.train.features"]
    assert "avsep.separate" in graph["avsep.cli"]  # inside the separate command


def test_only_the_named_modules_defer_imports():
    modules = {_module_name(p): p for p in ROOT.rglob("*.py")}
    assert set(DEFERRING) <= set(modules), "DEFERRING names a module that is gone"
    found = [f"{name}.{d}" for name, path in modules.items() if name not in DEFERRING for d in deferred_imports(path)]
    assert not found, "avsep imports inside functions (move them up, or name the module in DEFERRING):\n" + "\n".join(
        found
    )


def test_the_deferred_import_finder_finds_one(tmp_path: Path):
    code = tmp_path / "m.py"
    code.write_text("import os\n\n\ndef f():\n    from avsep.boxes import Box\n    import json\n")
    assert deferred_imports(code) == ["f: avsep.boxes"]


_SEPARATION = (
    "avsep.detect",
    "avsep.players",
    "avsep.box_request",
    "avsep.batch_checks",
    "avsep.batch",
    "avsep.separate",
)
_UPPER = ("avsep.train", "avsep.cli", "avsep.reporting")

#: The rooms' one-way rule (docs/architecture.md): a module under the key never imports a module
#: under any of the prefixes (deferred imports count).
FORBIDDEN = {
    "avsep.boxes": ("avsep.io", "avsep.models", *_SEPARATION, *_UPPER),
    "avsep.chunking": ("avsep.io", "avsep.models", *_SEPARATION, *_UPPER),
    "avsep.io": ("avsep.models", *_SEPARATION, *_UPPER),
    "avsep.models": ("avsep.io", *_SEPARATION, *_UPPER),
    "avsep.dsp": ("avsep.io", "avsep.models", *_SEPARATION, *_UPPER),
    "avsep.timing": ("avsep.",),
    "avsep.box_plan": ("avsep.models", "avsep.detect", "avsep.players", *_SEPARATION[2:], *_UPPER),
    "avsep.detect": (*_SEPARATION[1:], *_UPPER),
    "avsep.players": (*_SEPARATION[2:], *_UPPER),
    "avsep.box_request": (*_SEPARATION[3:], *_UPPER),
    "avsep.batch_checks": ("avsep.io", "avsep.models", "avsep.detect", "avsep.players", *_SEPARATION[4:], *_UPPER),
    "avsep.batch": ("avsep.separate", *_UPPER),
    "avsep.balance": ("avsep.io", "avsep.models", *_SEPARATION, *_UPPER),
    "avsep.separate": _UPPER,
    "avsep.train": ("avsep.cli",),
}


def test_rooms_import_one_way():
    graph = import_graph()
    broken = []
    for name in graph:
        for room, prefixes in FORBIDDEN.items():
            if name == room or name.startswith(room + "."):
                broken += [f"{name} imports {m}" for m in graph[name] if m.startswith(prefixes)]
    assert not broken, "\n".join(sorted(broken))


def test_the_command_line_loads_without_torch_pyav_or_numpy():
    """`avsep --help` and argument errors must stay fast: the heavy modules load in the commands."""
    import subprocess
    import sys

    code = "import sys, avsep.cli; print(sorted({'torch', 'av', 'numpy'} & set(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT.parent)
    assert out.stdout.strip() == "[]"


#: What the command line imports to check its arguments, before anything heavy loads.
LIGHT = ("avsep.box_plan", "avsep.box_request", "avsep.batch_checks", "avsep.balance", "avsep.cli_engine")


def test_the_argument_checks_load_without_torch_pyav_opencv_or_numpy():
    """`avsep separate --boxes 1,2,3 v.mp4` and the like answer at once: the modules that check
    boxes, names and batch options import none of the heavy modules (tests/test_cli_help.py
    runs the commands)."""
    import subprocess
    import sys

    heavy = "{'torch', 'torchvision', 'av', 'cv2', 'numpy'}"
    code = f"import sys, {', '.join(LIGHT)}; print(sorted({heavy} & set(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT.parent)
    assert out.stdout.strip() == "[]"
