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
    "avsep.cli.app": "start-up time: each command imports torch, PyAV and the pipeline only when it runs",
    "avsep.cli.pick": "start-up time: `avsep pick --help` loads neither the page's server nor torch",
    "avsep.cli.reporting": "start-up time: PyAV loads for FFmpeg's log only when --debug asks for it",
    "avsep.cli.views": "start-up time: the views import the pipeline only when a command prints",
    "avsep.boxes.plan": "start-up time: the plan types check --boxes without PyAV or torch; cropping loads them",
    "avsep.boxes.request": "start-up time: a request is checked without torch; plan_boxes loads the finder",
    "avsep.cli.train": "the training extra: the commands load (for --help) without scipy & co.",
    "avsep.cli.data": "the training extra: `avsep data build --help` without music21 & co.",
    "avsep.cli.evaluate": "the training extra: the evaluations load (for --help) without mir_eval & co.",
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
    assert "avsep.separation.separator" in graph["avsep.cli.app"]  # inside the separate command


def test_only_the_named_modules_defer_imports():
    modules = {_module_name(p): p for p in ROOT.rglob("*.py")}
    assert set(DEFERRING) <= set(modules), "DEFERRING names a module that is gone"
    found = [f"{name}.{d}" for name, path in modules.items() if name not in DEFERRING for d in deferred_imports(path)]
    assert not found, "avsep imports inside functions (move them up, or name the module in DEFERRING):\n" + "\n".join(
        found
    )


def test_the_deferred_import_finder_finds_one(tmp_path: Path):
    code = tmp_path / "m.py"
    code.write_text("import os\n\n\ndef f():\n    from avsep.boxes.box import Box\n    import json\n")
    assert deferred_imports(code) == ["f: avsep.boxes.box"]


#: The top-level modules, under every floor: each imports nothing of avsep but ``avsep.errors``
#: (docs/architecture.md says why each is not in a floor). ``avsep`` and ``avsep.__main__`` are
#: the doors: they import the floor they open, and nothing imports them.
GROUND = (
    "avsep.errors",
    "avsep.options",
    "avsep._version",
    "avsep.timing",
    "avsep.progress",
    "avsep.machine",
    "avsep.timerange",
    "avsep.heap",
)
DOORS = ("avsep", "avsep.__main__")

#: The floors, bottom to top (docs/architecture.md): a module never imports a module of a floor
#: above its own (deferred imports count).
FLOORS = (
    "avsep.signal",
    "avsep.io",
    "avsep.models",
    "avsep.boxes",
    "avsep.batch",
    "avsep.separation",
    "avsep.remix",
    "avsep.train",
    "avsep.pick",
    "avsep.cli",
)

#: Within a floor, the light modules (the argument checks) and the finder's order: a module under
#: the key never imports a module under any of the prefixes.
FORBIDDEN = {
    "avsep.boxes.box": ("avsep.io", "avsep.models", "avsep.signal", "avsep.boxes."),
    "avsep.boxes.plan": ("avsep.models", "avsep.boxes.detect", "avsep.boxes.players", "avsep.boxes.request"),
    "avsep.boxes.detect": ("avsep.boxes.players", "avsep.boxes.request"),
    "avsep.boxes.players": ("avsep.boxes.request",),
    "avsep.batch.checks": ("avsep.io", "avsep.models", "avsep.boxes.detect", "avsep.boxes.players", "avsep.batch."),
    "avsep.remix.balance": ("avsep.io", "avsep.models", "avsep.signal", "avsep.boxes", "avsep.batch", "avsep.remix."),
}


def floor(name: str) -> int:
    """The floor ``name`` lives on (-1: the ground); KeyError for a module in no floor."""
    if name in GROUND:
        return -1
    (found,) = [i for i, f in enumerate(FLOORS) if name == f or name.startswith(f + ".")]
    return found


def test_every_module_is_on_the_ground_or_a_floor():
    graph = import_graph()
    homeless = [n for n in graph if n not in DOORS and n not in GROUND and not any(n.startswith(f) for f in FLOORS)]
    assert not homeless, "a module outside the floors (move it into one, or justify it in GROUND): " + str(homeless)
    assert {f"avsep.{p.name}" for p in ROOT.iterdir() if (p / "__init__.py").is_file()} == set(FLOORS)


def test_the_ground_imports_nothing_of_avsep_but_errors():
    graph = import_graph()
    assert {name: graph[name] - {"avsep.errors"} for name in GROUND} == {name: set() for name in GROUND}


def test_floors_import_downward():
    graph = import_graph()
    broken = []
    for name, imported in graph.items():
        if name not in DOORS:
            broken += [f"{name} imports {m}" for m in imported if m not in DOORS and floor(m) > floor(name)]
    assert not broken, "\n".join(sorted(broken))


def test_models_touch_files_only_through_atomic_writes():
    """models/ holds networks; serialize.py takes paths and writes with io/atomic.py, no media."""
    graph = import_graph()
    found = {m for name, imported in graph.items() if name.startswith("avsep.models") for m in imported}
    assert {m for m in found if m.startswith("avsep.io")} <= {"avsep.io.atomic"}


def test_the_floor_rule_finds_an_upward_import():
    assert floor("avsep.io.media") < floor("avsep.boxes.players") < floor("avsep.cli.app")
    assert floor("avsep.train.dataset.build") < floor("avsep.cli.data")
    assert floor("avsep.timing") == -1
    assert floor("avsep.separation.separator") < floor("avsep.pick.session") < floor("avsep.cli.app")


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

    code = "import sys, avsep.cli.app; print(sorted({'torch', 'av', 'numpy'} & set(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT.parent)
    assert out.stdout.strip() == "[]"


#: What the command line imports to check its arguments, before anything heavy loads.
LIGHT = ("avsep.options", "avsep.boxes.request", "avsep.batch.checks", "avsep.remix.balance", "avsep.cli.paths")


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
