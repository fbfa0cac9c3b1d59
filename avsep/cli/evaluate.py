"""The ``avsep evaluate`` and ``avsep evaluate-real`` commands, mounted by
:func:`avsep.cli.train.register`; the evaluations themselves load (with the training extra) only
when a command runs."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from avsep.cli.reporting import one_line_errors
from avsep.cli.train_options import DEBUG, DEVICE, OracleGrid, parse_counts, silence_warnings
from avsep.errors import InputError
from avsep.options import (
    DEFAULT_MASK,
    DEFAULT_SAME_INSTRUMENT,
    MASK_HELP,
    REAL_SETS,
    SAME_INSTRUMENT_HELP,
    Mask,
    SameInstrument,
)
from avsep.train.extra import training_extra


def evaluate_command(
    model: Annotated[str, typer.Argument(help="Checkpoint path or bundled model name.")],
    index: Annotated[Path, typer.Option(help="Test index CSV (or a dataset folder: its test.csv).")],
    num_mixtures: Annotated[int, typer.Option(help="Test mixtures (fixed by --seed).")] = 250,
    num_mix: Annotated[int, typer.Option(help="Sources per mixture.")] = 2,
    seed: Annotated[int, typer.Option(help="Seed of the test mixtures (same for every model).")] = 0,
    mask: Annotated[Mask, typer.Option(help=MASK_HELP)] = DEFAULT_MASK,
    oracle_labels: Annotated[
        bool,
        typer.Option("--oracle-labels", help="Give a --guide label model the true classes, not what the pictures say."),
    ] = False,
    json_path: Annotated[Optional[Path], typer.Option("--json", help="Write the full report here.")] = None,
    oracle_grid: Annotated[
        OracleGrid, typer.Option(help="Oracle IBM on the linear STFT or the model's warped grid.")
    ] = OracleGrid.linear,
    backbone_weights: Annotated[Optional[Path], typer.Option(help="Trunk weights file (as for separate).")] = None,
    fps: Annotated[Optional[float], typer.Option(help="Frame rate of the index's frames.")] = None,
    batch_size: Annotated[int, typer.Option(help="Mixtures per forward pass.")] = 4,
    device: DEVICE = "auto",
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
    debug: DEBUG = False,
) -> None:
    """SDR/SIR/SAR of a model on fixed test mixtures, with the oracle IBM and the mixture."""
    with one_line_errors(debug), training_extra("avsep evaluate"):
        silence_warnings()
        from avsep.train.eval.synthetic import evaluate

        evaluate(
            model,
            index,
            num_mixtures=num_mixtures,
            num_mix=num_mix,
            seed=seed,
            mask=mask.value,
            oracle=oracle_labels,
            device=device,
            batch_size=batch_size,
            backbone_weights=backbone_weights,
            fps=fps,
            oracle_grid=oracle_grid.value,
            json_path=json_path,
            progress=not quiet,
        )


def evaluate_real_command(
    model: Annotated[str, typer.Argument(help="Checkpoint path or bundled model name.")],
    realclips: Annotated[Optional[Path], typer.Option(help="Real clips folder (default ../shared/realclips).")] = None,
    sets: Annotated[
        str,
        typer.Option(
            help="Comma-separated, of " + ", ".join(REAL_SETS) + " (default: all).", metavar="SETS", show_default=False
        ),
    ] = ",".join(REAL_SETS),
    pairs: Annotated[int, typer.Option(help="music-solo duets to make.")] = 20,
    seconds: Annotated[float, typer.Option(help="Duet segment length.")] = 6.0,
    seed: Annotated[int, typer.Option(help="Seed of the duets.")] = 0,
    mask: Annotated[Mask, typer.Option(help=MASK_HELP)] = DEFAULT_MASK,
    same_instrument: Annotated[SameInstrument, typer.Option(help=SAME_INSTRUMENT_HELP)] = DEFAULT_SAME_INSTRUMENT,
    oracle_labels: Annotated[
        bool,
        typer.Option(
            "--oracle-labels",
            help="Give a --guide label model the true classes (duets, clipsep-demo; FCSN is skipped).",
        ),
    ] = False,
    json_path: Annotated[Optional[Path], typer.Option("--json", help="Write the full report here.")] = None,
    backbone_weights: Annotated[Optional[Path], typer.Option(help="Trunk weights file.")] = None,
    batch_size: Annotated[int, typer.Option(help="Windows per forward pass.")] = 4,
    device: DEVICE = "auto",
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
    debug: DEBUG = False,
) -> None:
    """Score a model on real recordings: FCSN mixtures, CLIPSep demos, music-solo duets."""
    with one_line_errors(debug), training_extra("avsep evaluate-real"):
        silence_warnings()
        from avsep.train.eval.real import evaluate_real

        if pairs < 1 or seconds <= 0:
            raise InputError("--pairs must be at least 1 and --seconds positive")
        evaluate_real(
            model,
            realclips,
            sets=[s.strip() for s in sets.split(",") if s.strip()],
            num_pairs=pairs,
            segment_seconds=seconds,
            seed=seed,
            mask=mask.value,
            same_instrument=same_instrument.value,
            oracle=oracle_labels,
            device=device,
            batch_size=batch_size,
            backbone_weights=backbone_weights,
            json_path=json_path,
            progress=not quiet,
        )


def evaluate_stems_command(
    models: Annotated[list[str], typer.Argument(help="Checkpoint paths or bundled model names (one row each).")],
    split: Annotated[str, typer.Option(help="val (choose checkpoints by it) or test (report only).")] = "val",
    stems: Annotated[
        Optional[Path], typer.Option(help="real-stems folder (default ../shared/datasets/real-stems).")
    ] = None,
    sizes: Annotated[str, typer.Option(help="Parts per mixture, comma-separated.", metavar="N,N")] = "2,3",
    mask: Annotated[Mask, typer.Option(help=MASK_HELP)] = DEFAULT_MASK,
    json_path: Annotated[Optional[Path], typer.Option("--json", help="Write the reports here (a list).")] = None,
    device: DEVICE = "auto",
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
    debug: DEBUG = False,
) -> None:
    """Score label-guided models on real ensembles (real-stems, split by piece), per size and class."""
    with one_line_errors(debug), training_extra("avsep evaluate-stems"):
        silence_warnings()
        from avsep.train.eval.common import write_json
        from avsep.train.eval.stems import evaluate_stems

        counts = parse_counts("--sizes", sizes)
        reports = [
            evaluate_stems(m, split, stems=stems, sizes=counts, mask=mask.value, device=device, progress=not quiet)
            for m in models
        ]
        if json_path:
            write_json(json_path, reports)
