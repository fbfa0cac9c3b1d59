"""The benchmarks: scripts that time and score avsep through its public API, run from the
repository root as ``python -m benchmarks.NAME`` (so that they import each other, and the test
helpers in ``tests/``, without editing ``sys.path``). benchmarks/README.md lists them."""

from pathlib import Path


def json_out(path: str | Path) -> Path:
    """``path`` with its folder made: a ``--json`` report may name a folder that does not exist
    yet (``runs/bench/`` in a fresh clone), and a benchmark must not fail after its figures."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    return path
