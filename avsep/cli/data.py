"""The ``build`` command, mounted by the main CLI as ``avsep data build``.

Only typer is imported here; the builder (numpy, scipy, PIL, music21) loads when it runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from avsep.cli.help_text import AvsepCommand
from avsep.cli.reporting import DebugOption, one_line_errors
from avsep.train.extra import training_extra

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Build training data.")

#: --mix (its example and default are written with spaces, so --help can wrap them at 80 columns)
MIX_HELP = (
    "Share of each audio source (recordings, sampled-notes, soundfont) where a class has it, e.g. "
    "soundfont=1,recordings=2 (default: recordings=0.4, sampled-notes=0.4, soundfont=0.2; soundfont=0 "
    "renders only what has no real audio)."
)


@app.command("build", cls=AvsepCommand)
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
    real_audio: Annotated[
        Optional[list[Path]],
        typer.Option(
            "--real-audio",
            help="Folder of real recordings, <class>/<files> or <source>/<class>/<files> (repeatable). "
            "Files naming one pitch are played as a sampler along melodies; the rest are cut into clips.",
        ),
    ] = None,
    photos: Annotated[
        Optional[list[Path]],
        typer.Option(
            "--photos", help="Folder of instrument photos, <class>/<files> or <source>/<class>/<files> (repeatable)."
        ),
    ] = None,
    mix: Annotated[
        Optional[str],
        typer.Option(help=MIX_HELP, metavar="SHARES"),
    ] = None,
    soundfont: Annotated[
        Optional[list[Path]],
        typer.Option(
            "--soundfont",
            help="Render with these fonts instead of the installed ones (repeatable): .sf2/.sf3 files "
            "(fluidsynth) or a timidity .cfg of GUS patches, e.g. /etc/timidity/freepats.cfg (Debian freepats).",
        ),
    ] = None,
    progress: Annotated[bool, typer.Option(help="Show progress bars on stderr.")] = True,
    debug: DebugOption = False,
) -> None:
    """Build a solo-instrument set: audio/, frames/, train/val/test.csv, meta.json.

    Without --real-audio/--photos: rendered soundfonts and drawings (the synthetic set)."""
    with one_line_errors(debug), training_extra("avsep data build"):
        from avsep.train.dataset.build import build_dataset, resolve_instruments

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
            real_audio=real_audio or (),
            photos=photos or (),
            mix=mix,
            soundfonts=soundfont,
        )
        _print_build(summary)


def _print_build(summary: dict) -> None:
    """What a build made, per split and class, and which material each class came from."""
    from rich.console import Console

    out = Console()
    counts = summary["counts"]
    out.print(
        f"{summary['clips']} clips ({summary['audio_hours']:.3f} h of audio, {summary['frames']} frames) "
        f"in {summary['out_dir']} after {summary['elapsed_s']:.0f} s"
    )
    for split in ("train", "val", "test"):
        row = ", ".join(f"{k} {v}" for k, v in counts[split].items())
        out.print(f"  {split}: {sum(counts[split].values())} ({row})")
    out.print("minutes of audio (recorded / sampled notes / soundfont), clips with photo / drawn pictures:")
    for name, st in summary["sources_per_class"].items():
        m, p = st["minutes"], st["pictures"]
        out.print(
            f"  {name:<16} {m['recorded']:6.1f} / {m['sampled']:6.1f} / {m['soundfont']:6.1f} min   "
            f"{p['photo']:4d} / {p['drawn']:4d}"
        )
    if summary["no_real_audio"]:
        out.print(f"no real recordings for {', '.join(summary['no_real_audio'])}: soundfont renders only")
    if summary["ignored_classes"]:
        out.print(f"ignored folders (not avsep classes): {', '.join(sorted(summary['ignored_classes']))}")


@app.command("ensembles", cls=AvsepCommand)
def ensembles(
    out_dir: Annotated[Path, typer.Argument(help="New directory: the ensembles' audio and a train.csv.")],
    base: Annotated[Path, typer.Option(help="A built dataset (avsep data build) whose training clips join them.")],
    real_audio: Annotated[
        list[Path],
        typer.Option("--real-audio", help="Folder of recorded single notes, as for 'data build' (repeatable)."),
    ],
    groups: Annotated[int, typer.Option(help="Ensembles to render.")] = 500,
    sizes: Annotated[str, typer.Option(help="Parts per ensemble, drawn from these.")] = "2,3",
    clip_seconds: Annotated[float, typer.Option(help="Length of each clip in seconds.")] = 12.0,
    seed: Annotated[int, typer.Option(help="Random seed; the same seed gives the same files.")] = 0,
    progress: Annotated[bool, typer.Option(help="Show a progress bar on stderr.")] = True,
    debug: DebugOption = False,
) -> None:
    """Render ensembles (voices of one work played together by different instruments) beside a
    build's training clips, for 'avsep train --coherent'."""
    with one_line_errors(debug), training_extra("avsep data ensembles"):
        from avsep.cli.train_options import parse_counts
        from avsep.progress import make_progress
        from avsep.train.dataset.ensembles import build_ensembles

        counts = parse_counts("--sizes", sizes)
        with make_progress(progress) as bar:
            task = bar.add_task("ensembles", total=groups)
            meta = build_ensembles(
                out_dir,
                base,
                real_audio,
                groups,
                sizes=counts,
                clip_s=clip_seconds,
                seed=seed,
                tick=lambda: bar.advance(task),
            )
        typer.echo(f"{meta['ensembles']} ensembles ({meta['clips']} clips) in {out_dir}, with {base}'s training clips")
