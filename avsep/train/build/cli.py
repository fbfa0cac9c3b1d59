"""The ``build`` command, mounted by the main CLI as ``avsep data build``.

Only typer is imported here; the builder (numpy, scipy, PIL, music21) loads when it runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from avsep.reporting import reports_errors
from avsep.train.extra import needs_training_extra

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Build training data.")


@app.command("build")
@reports_errors
@needs_training_extra("avsep data build")
def build(
    out_dir: Annotated[Path, typer.Argument(help="Directory to create (MUSIC index layout).")],
    seed: Annotated[int, typer.Option(help="Random seed; the same seed gives the same files.")] = 0,
    hours: Annotated[float, typer.Option(help="Total audio to make (at least 3 clips per instrument).")] = 1.0,
    instruments: Annotated[
        Optional[str], typer.Option(help="Comma-separated subset of the classes (default: all 11).")
    ] = None,
    clip_seconds: Annotated[float, typer.Option(help="Length of each clip in seconds.")] = 12.0,
    fps: Annotated[int, typer.Option(help="Frames per second written for each clip.")] = 2,
    overwrite: Annotated[bool, typer.Option(help="Replace a dataset already in OUT_DIR.")] = False,
    cache_dir: Annotated[
        Optional[Path], typer.Option(help="Where parsed melodies are cached (default ~/.cache/avsep).")
    ] = None,
    progress: Annotated[bool, typer.Option(help="Show progress bars on stderr.")] = True,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks.")] = False,
) -> None:
    """Render a synthetic solo-instrument set: audio/, frames/, train/val/test.csv, meta.json."""
    from rich.console import Console

    from avsep.train.build.dataset import build_dataset, resolve_instruments

    summary = build_dataset(
        out_dir,
        seed=seed,
        hours=hours,
        instruments=resolve_instruments(instruments),
        clip_seconds=clip_seconds,
        fps=fps,
        progress=progress,
        cache_dir=cache_dir,
        overwrite=overwrite,
    )
    out = Console()
    counts = summary["counts"]
    out.print(
        f"{summary['clips']} clips ({summary['audio_hours']:.3f} h of audio, {summary['frames']} frames) "
        f"in {summary['out_dir']} after {summary['elapsed_s']:.0f} s"
    )
    for split in ("train", "val", "test"):
        row = ", ".join(f"{k} {v}" for k, v in counts[split].items())
        out.print(f"  {split}: {sum(counts[split].values())} ({row})")
