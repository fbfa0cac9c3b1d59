"""docs/architecture.md's map of the package ("The floors") names every module and package of
avsep/, and nothing that is not there."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: An entry of the map: indented two spaces a level, a module (``name.py``) or a package (``name/``).
ENTRY = re.compile(r"^(?P<indent>(?:  )+)(?P<name>[A-Za-z_][\w]*(?:\.py|/))(?:\s|$)")


def map_entries(text: str) -> set[str]:
    """The paths the map under ``avsep/`` names, e.g. ``boxes/``, ``boxes/plan.py``."""
    block = text.split("\navsep/\n", 1)[1].split("\n```", 1)[0]
    found: set[str] = set()
    parents: list[str] = []
    for line in block.splitlines():
        m = ENTRY.match(line)
        if not m:
            continue
        level = len(m["indent"]) // 2 - 1
        parents = parents[:level]
        found.add("".join(parents) + m["name"])
        if m["name"].endswith("/"):
            parents.append(m["name"])
    return found


def tree_entries(package: Path) -> set[str]:
    """The same for the package on disk (a subpackage's ``__init__.py`` is its folder's entry)."""
    found = set()
    for path in package.rglob("*.py"):
        rel = path.relative_to(package)
        if rel.name == "__init__.py" and rel.parent != Path("."):
            found.add(f"{rel.parent.as_posix()}/")
        else:
            found.add(rel.as_posix())
    return found


def test_the_map_names_every_module_and_nothing_else():
    named = map_entries((ROOT / "docs" / "architecture.md").read_text())
    there = tree_entries(ROOT / "avsep")
    assert not there - named, f"modules missing from docs/architecture.md's map: {sorted(there - named)}"
    assert not named - there, f"docs/architecture.md's map names what is not in avsep/: {sorted(named - there)}"


def test_the_map_reader_reads_nesting():
    text = "x\navsep/\n  a.py     the a\n  b/       the b\n    c.py   the c\n      with more\n  d.py\n```\n"
    assert map_entries(text) == {"a.py", "b/", "b/c.py", "d.py"}
