"""Print a dpkg status file for a fresh Debian machine with Python 3.11 (for install_cost.sh).

A fresh machine is modelled as the packages of priority ``required``, ``apt`` and ``python3``,
with everything they depend on; their entries are copied from this machine's dpkg status (which
must hold them, as any Debian machine with python3 does). ``apt-get -s -o
Dir::State::status=FILE install ...`` then shows what an install would add to such a machine
without touching this one.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

STATUS = Path("/var/lib/dpkg/status")
FRESH = ("apt", "python3")


def installed() -> tuple[dict[str, tuple[dict[str, str], str]], dict[str, str]]:
    """Installed packages (fields, stanza text) and which package provides each virtual name."""
    packages: dict[str, tuple[dict[str, str], str]] = {}
    provides: dict[str, str] = {}
    for stanza in STATUS.read_text(encoding="utf-8").strip().split("\n\n"):
        fields = dict(re.findall(r"^([A-Za-z-]+): ?(.*)$", stanza, re.M))
        if "install ok installed" not in fields.get("Status", ""):
            continue
        packages[fields["Package"]] = (fields, stanza)
        for virtual in filter(None, (p.strip().split(" ")[0] for p in fields.get("Provides", "").split(","))):
            provides.setdefault(virtual, fields["Package"])
    return packages, provides


def dependencies(fields: dict[str, str], packages: dict, provides: dict[str, str]) -> list[str]:
    """The installed package that satisfies each Pre-Depends / Depends group (first that does)."""
    found = []
    for group in (g.strip() for f in ("Pre-Depends", "Depends") for g in fields.get(f, "").split(",")):
        for alternative in filter(None, (a.strip().split(" ")[0].split(":")[0] for a in group.split("|"))):
            name = alternative if alternative in packages else provides.get(alternative)
            if name:
                found.append(name)
                break
    return found


def main() -> None:
    packages, provides = installed()
    todo = [n for n, (fields, _) in packages.items() if fields.get("Priority") == "required"] + list(FRESH)
    seen: set[str] = set()
    while todo:
        name = todo.pop()
        if name not in seen:
            seen.add(name)
            todo += dependencies(packages[name][0], packages, provides)
    sys.stdout.write("\n\n".join(packages[n][1] for n in sorted(seen)) + "\n")
    print(f"{len(seen)} packages on the fresh machine", file=sys.stderr)


if __name__ == "__main__":
    main()
