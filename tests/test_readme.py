"""The README's Use section is a test: each ``avsep`` line of its first bash block runs verbatim
against the bundled example (issue 21), so README and tool cannot drift apart again.

A line's comment names the files it promises (``guitar.wav``...): each must appear among the
files the line wrote. The Python snippet runs too, and its boxes must fit the example.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "duet.mp4"


def use_section() -> str:
    text = (ROOT / "README.md").read_text()
    return text[text.index("## Use") : text.index("## How it works")]


#: Lines that start a server and run until Ctrl-C: tests/test_pick_browser.py drives the page.
SERVES = ("avsep pick ",)


def avsep_lines() -> list[str]:
    """The ``avsep`` lines of every bash block of the Use section (Remix's too), except those
    that serve a page until stopped (:data:`SERVES`)."""
    blocks = re.findall(r"```bash\n(.*?)```", use_section(), re.S)
    lines = [line.strip() for block in blocks for line in block.splitlines()]
    return [line for line in lines if line.startswith("avsep ") and not line.startswith(SERVES)]


def promised_files(line: str) -> set[str]:
    comment = line.partition("#")[2]
    return set(re.findall(r"[\w.-]+\.(?:wav|flac|mp3|m4a|opus|mp4|mkv|png|json)", comment))


@pytest.fixture()
def workdir(tmp_path: Path) -> Path:
    """The example as the README's lines name it: duet.mp4, and folders holding copies of it."""
    shutil.copy(EXAMPLE, tmp_path / "duet.mp4")
    for folder in ("concert/day1", "concert/day2", "archive"):
        (tmp_path / folder).mkdir(parents=True)
        shutil.copy(EXAMPLE, tmp_path / folder / "x.mp4")
    return tmp_path


def files_under(root: Path) -> dict[Path, float]:
    return {p: p.stat().st_mtime_ns for p in root.rglob("*") if p.is_file()}


def test_the_use_section_has_commands_and_promises():
    lines = avsep_lines()
    assert len(lines) >= 5 and any(promised_files(line) for line in lines)


def test_the_use_section_speaks_of_the_instruments_of_the_example():
    """duet.mp4 holds an acoustic guitar (left) and a saxophone (right): every name given to its
    sources, and every instrument the Remix story mentions, is one of those two (issue 31: it
    spoke of a violin and a flute)."""
    from avsep.models.imagenet_music import INSTRUMENTS

    labels = {side["label"] for side in json.loads((ROOT / "examples" / "duet.json").read_text()).values()}
    assert labels == {"acoustic_guitar", "saxophone"}
    for line in avsep_lines():
        names = re.search(r"--names ((?:\w[\w-]* ?)+)", line)
        for name in names.group(1).split() if names else []:
            assert any(name in label for label in labels), f"{line}: {name!r} is not in the example"
    remix = use_section()[use_section().index("### Remix") :]  # the story told about duet.mp4
    prose = re.sub(r"```.*?```", "", remix, flags=re.S).lower()
    others = {name.replace("_", " ") for name in INSTRUMENTS} - {"acoustic guitar", "guitar", "saxophone"}
    assert not [name for name in sorted(others) if re.search(rf"\b{name}s?\b", prose)]


@pytest.mark.parametrize("line", avsep_lines())
def test_each_readme_command_runs_verbatim_on_the_example(line: str, workdir: Path):
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    before = files_under(workdir)
    done = subprocess.run(["bash", "-c", line], cwd=workdir, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"{line}\n{done.stderr[-2000:]}"
    written = {p.name for p, t in files_under(workdir).items() if before.get(p) != t}
    assert promised_files(line) <= written, f"{line}: wrote {sorted(written)}"


def test_the_python_snippet_runs_and_its_boxes_fit_the_example(workdir: Path):
    snippet = re.search(r"```python\n(.*?)```", use_section(), re.S).group(1)
    done = subprocess.run(
        [sys.executable, "-c", snippet + "\nprint(result.names, result.sources.shape, result.sample_rate)"],
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "warning" not in done.stderr.lower(), done.stderr
