"""Helpers shared by the CLI and pipeline tests: running ``avsep`` in-process or as a real
subprocess, a fast stand-in visual trunk, and the small clips most tests use.

The stand-in trunk matters for the suite's speed: a random resnet18 costs about a second per
window on a small CPU, and these tests check plumbing, not what the trunk sees. It keeps the
crops' mean colour, so tests can still tell which box a feature came from. The real trunk runs
in the subprocess tests and in :mod:`tests.models`.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import soundfile as sf
import torch
from typer.testing import CliRunner, Result

from avsep.cli.app import app

#: The small clip most tests use: 3 s, 64x48 at 10 fps, 44.1 kHz mono.
SMALL = {"duration": 3.0, "width": 64, "height": 48}


#: Colours the stand-in trunk "recognises" as instruments (ImageNet index), so tests can make
#: videos whose players the finder sees: violin green, flute yellow, cello magenta. The default
#: fixture panels (red, blue) are none of them: nothing to find there.
INSTRUMENT_COLOURS = {(0, 255, 0): 889, (255, 255, 0): 558, (255, 0, 255): 486}
GREEN, YELLOW, MAGENTA = INSTRUMENT_COLOURS


class ColourTrunk(torch.nn.Module):
    """Visual trunk stand-in: each crop's mean RGB (0..1), tiled to the 512 features of resnet18.

    For finding players it also has an "ImageNet classifier" per 32-pixel cell
    (:meth:`dense_logits`): a cell whose mean colour is one of :data:`INSTRUMENT_COLOURS` gets
    that instrument's class, any other cell class 0 (a fish).
    """

    pretrained = True

    def fold(self) -> ColourTrunk:
        """As :meth:`avsep.models.visual.VisualTrunk.fold`: the stand-in has no norm to fold."""
        return self

    def guide(self, frames: torch.Tensor, kind: str = "features") -> torch.Tensor:
        """``[N, F, H, W, 3]`` uint8 -> ``[N, 512]`` (a features guide)."""
        return self.combine_parts(self.crop_parts(frames.flatten(0, 1), kind), len(frames), kind)

    def crop_parts(self, crops: torch.Tensor, kind: str = "features") -> tuple[torch.Tensor]:
        """``[n, H, W, 3]`` uint8 -> each crop's mean colour ``[n, 3]`` (0..1)."""
        assert kind == "features"
        return (crops.float().mean(dim=(1, 2)) / 255.0,)

    def combine_parts(self, parts: tuple[torch.Tensor], b: int, kind: str = "features") -> torch.Tensor:
        """The mean colour of each box's frames, tiled to ``[b, 512]``."""
        return parts[0].view(b, -1, 3).mean(1).repeat(1, 171)[:, :512]

    def features(self, images: torch.Tensor) -> torch.Tensor:
        """uint8 ``[N, 3, H, W]`` -> ``[N, 512, H/32, W/32]``: each cell's mean colour, tiled."""
        cells = torch.nn.functional.avg_pool2d(images.float(), 32) / 255.0
        return cells.repeat(1, 171, 1, 1)[:, :512]

    def dense_logits(self, images: torch.Tensor) -> torch.Tensor:
        """uint8 ``[N, 3, H, W]`` -> ``[N, 1000, H/32, W/32]`` logits from each cell's colour."""
        cells = torch.nn.functional.avg_pool2d(images.float(), 32)
        logits = torch.zeros(cells.shape[0], 1000, *cells.shape[2:])
        logits[:, 0] = 10.0
        for colour, index in INSTRUMENT_COLOURS.items():
            near = (cells - torch.tensor(colour, dtype=torch.float32).view(1, 3, 1, 1)).abs().amax(1) < 40
            logits[:, index] += 20.0 * near
        return logits


#: One torch thread: on a small shared CI machine, torch's default of one thread per core
#: oversubscribes it and a tiny model runs 10-30x slower than single-threaded.
SINGLE_THREAD = {"OMP_NUM_THREADS": "1"}


def cli(*args: object, code: int = 0) -> Result:
    """Run ``avsep ARGS`` in-process; check the exit code and that nothing escaped as a traceback."""
    result = CliRunner().invoke(app, [str(a) for a in args])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    assert result.exit_code == code, f"exit {result.exit_code} != {code}\nstderr: {result.stderr}"
    assert "Traceback" not in result.stderr
    return result


def error_line(result: Result) -> str:
    """The single ``error:`` line of a failed command (fails if there is not exactly one)."""
    lines = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, result.stderr
    return lines[0]


def wavs(folder: Path) -> dict[str, sf._SoundFileInfo]:
    """Every file under ``folder`` (relative name -> soundfile info); temp files and claim
    markers would show up too, the provenance records (``.avsep.json``) do not."""
    return {
        str(p.relative_to(folder)): sf.info(str(p)) if p.suffix == ".wav" else None
        for p in sorted(folder.rglob("*"))
        if p.is_file() and not p.name.endswith(".avsep.json")
    }


#: Code that makes a real ``avsep`` process build :class:`ColourTrunk` instead of the
#: checkpoint's trunk (``--jobs`` workers get it with the pickled model), as ``fast_model``
#: does in-process: for tests of process plumbing, which would otherwise spend most of their
#: CPU building and running a random resnet18.
_COLOUR_TRUNK = (
    f"import sys; sys.path.insert(0, {str(Path(__file__).resolve().parents[1])!r}); "
    "import avsep.separation.engine, tests.cli_support as s; "
    "avsep.separation.engine.build_trunk = lambda name, weights=None: s.ColourTrunk(); "
)


def cli_command(*args: object, colour_trunk: bool = False) -> list[str]:
    """argv running the ``avsep`` console entry point, ``avsep.__main__.main`` (found even when
    the script is not on PATH): the process ends as the installed command's does."""
    code = (_COLOUR_TRUNK if colour_trunk else "") + "from avsep.__main__ import main; main()"
    return [sys.executable, "-c", code, *map(str, args)]


def cli_process(*args: object, env: dict[str, str], colour_trunk: bool = False, **popen: object) -> subprocess.Popen:
    """Start ``avsep ARGS`` as a real process with ``env`` added to the environment.

    Ctrl-C is restored to its default in the child: a test run started in the background
    (``nohup pytest &``) ignores SIGINT, the child would inherit that, and Python keeps an
    inherited ignore, so the Ctrl-C tests would test nothing.
    """
    return subprocess.Popen(
        cli_command(*args, colour_trunk=colour_trunk),
        env={**os.environ, **SINGLE_THREAD, **env},
        preexec_fn=_default_sigint,
        **popen,
    )


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


#: The modules avsep must not import before it answers a help page or an argument error.
HEAVY = ("torch", "torchvision", "av", "cv2", "numpy", "scipy", "timm", "pydantic")

_PROBE = """
import json, sys
cases, heavy = json.loads(sys.argv[1]), set(json.loads(sys.argv[2]))
import avsep.__main__ as entry
entry.exit_process = sys.exit  # one process runs every case: a case that loads torch must not end it
main = entry.main
for args in cases:
    sys.argv = ["avsep", *args]
    code = 0
    try:
        main()
    except SystemExit as exc:
        code = exc.code
    loaded = sorted({m.split(".")[0] for m in sys.modules} & heavy)
    sys.stderr.write("\\nCASE " + json.dumps([code or 0, loaded]) + "\\n")
"""


def run_fresh(cases: list[list[str]], cwd: Path, heavy: tuple[str, ...] = HEAVY) -> list[tuple[int, list[str], str]]:
    """``avsep ARGS`` for each case, one after another, in one fresh interpreter: per case, the
    exit code, which of ``heavy`` had been imported by then, and what it wrote to stderr."""
    argv = [sys.executable, "-c", _PROBE, json.dumps(cases), json.dumps(heavy)]
    text = subprocess.run(argv, capture_output=True, text=True, cwd=cwd, timeout=300, check=True).stderr
    found = []
    for _ in cases:
        before, _, text = text.partition("\nCASE ")
        result, _, text = text.partition("\n")
        code, loaded = json.loads(result)
        found.append((code, loaded, before))
    return found
