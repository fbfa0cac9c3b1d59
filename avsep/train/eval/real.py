"""``avsep evaluate-real``: the model on real recordings, through the product's own pipeline
(:class:`avsep.separation.separator.Separator`, ``separate_arrays`` for whole signals); scores
as :mod:`avsep.train.eval.synthetic`'s (BSS Eval v3, box ``k`` against source ``k``).

:func:`evaluate_real` — the real clips in ``../shared/realclips`` (read in place, never copied):

* ``fcsn/2-mix-separation``, ``fcsn/3-mix-separation``: 10 s mixtures of real solos with the
  ground truth of each, ``Object_detection_K.png`` (a crop of player K) as the box picture.
  A sample without the pictures for every source is skipped and listed.
* ``clipsep-demo``: a 4 s mixture of source a (``gt.wav``, 3 frames in ``av.mp4``) and source
  b (``int.wav``) that has **no picture**: only source a is separated (one box) and scored,
  with ``int.wav`` as the interfering reference of BSS Eval.
* ``music-solo`` duets: a seeded set of pairs of solo recordings of different instruments,
  6 s segments at the same offset in both, each scaled to the same RMS and summed; the frames
  at the segment centre + :data:`FRAME_OFFSETS` (1 fps files), the full frame as the box.

Reported per set: mean SDR / SIR / SAR, mean SDR of the mixture, SDRi (model minus
mixture), and the "right box" rate: the fraction of outputs that correlate more with their
own reference than with any other (does the picture steer the right instrument?), next to the
same rate for the unseparated mixture (50 % for two equal sources; for clipsep-demo's single
box it depends on which source is louder), which is the level a model has to beat.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from avsep.errors import InputError
from avsep.models.guide import label_guide
from avsep.options import DEFAULT_MASK, DEFAULT_SAME_INSTRUMENT, REAL_SETS
from avsep.train.eval.common import (
    check_oracle,
    default_realclips,
    fmt_db,
    load_separator,
    model_info,
    progress_bar,
    stdout_console,
    write_json,
)
from avsep.train.eval.duets import music_solo_duets, music_solo_video_duets
from avsep.train.eval.scores import aggregate_items, read_picture, score_clip


def evaluate_real(
    model: str | Path,
    realclips: str | Path | None = None,
    *,
    sets: Sequence[str] = REAL_SETS,
    num_pairs: int = 20,
    segment_seconds: float = 6.0,
    seed: int = 0,
    mask: str = DEFAULT_MASK.value,
    device: str = "auto",
    batch_size: int = 4,
    backbone_weights: str | Path | None = None,
    oracle: bool = False,
    json_path: str | Path | None = None,
    progress: bool = True,
    console=None,
    same_instrument: str = DEFAULT_SAME_INSTRUMENT.value,
) -> dict[str, Any]:
    """Score ``model`` on the real clips; returns (and optionally writes) a per-set report.

    ``oracle``: give a label-guided model the true class of each source where the clips name it
    (music-solo duets, clipsep-demo) instead of what its pictures say; FCSN is then skipped."""
    root = Path(realclips) if realclips is not None else default_realclips()
    if not root.is_dir():
        raise InputError(f"{root}: real clips folder not found; pass --realclips PATH")
    unknown = set(sets) - set(REAL_SETS)
    if unknown:
        raise InputError(f"unknown set(s) {sorted(unknown)}; choose from {', '.join(REAL_SETS)}")
    sep = load_separator(model, device, mask, batch_size, backbone_weights, same_instrument)
    check_oracle(sep, oracle)
    report: dict[str, Any] = {
        "model": str(model),
        **model_info(sep),
        "realclips": str(root),
        "mask": mask,
        "same_instrument": same_instrument,
        "oracle_labels": oracle,
        "sets": {},
        "skipped": [],
    }
    bar = progress_bar(progress, console)
    with bar:
        if "fcsn" in sets:
            for name in ("2-mix-separation", "3-mix-separation"):
                folder = root / "fcsn" / name
                if folder.is_dir():
                    report["sets"][f"fcsn-{name[0]}mix"] = _fcsn(sep, folder, report["skipped"], bar, oracle)
        if "clipsep" in sets and (root / "clipsep-demo").is_dir():
            report["sets"]["clipsep-demo"] = _clipsep(sep, root / "clipsep-demo", report["skipped"], bar, oracle)
        for name, same in (("duets", False), ("duets-same", True)):
            if name in sets and (root / "music-solo").is_dir():
                report["sets"][name] = music_solo_duets(
                    sep, root / "music-solo", num_pairs, segment_seconds, seed, report["skipped"], bar, oracle, same
                )
        if "duets-video" in sets and (root / "music-solo").is_dir() and not oracle:
            report["sets"]["duets-video"] = music_solo_video_duets(
                sep, root / "music-solo", num_pairs, segment_seconds, seed, report["skipped"], bar
            )
    if not report["sets"]:
        raise InputError(f"{root}: none of fcsn/, clipsep-demo/, music-solo/ found")
    _print_real(report, console)
    if json_path:
        write_json(json_path, report)
    return report


def _read_wav(path: Path) -> tuple[np.ndarray, int]:
    import soundfile as sf

    data, sr = sf.read(str(path), dtype="float32", always_2d=True)
    return data.mean(axis=1), int(sr)


def _fcsn(sep, folder: Path, skipped: list[str], bar, oracle: bool) -> dict[str, Any]:
    items = []
    if oracle:
        skipped.append(f"fcsn/{folder.name}: not scored with oracle labels: its sources have no class labels")
        return aggregate_items(items)
    samples = sorted((p for p in folder.iterdir() if p.is_dir()), key=lambda p: (len(p.name), p.name))
    task = bar.add_task(f"fcsn/{folder.name}", total=len(samples))
    for sample in samples:
        bar.advance(task)
        refs_paths = sorted(sample.glob("audio*_groundtruth.wav"))
        k = len(refs_paths)
        pics = [sample / f"Object_detection_{i}.png" for i in range(1, k + 1)]
        mix_path = sample / "audio_mixture.wav"
        missing = [
            p.name
            for p in [mix_path, *pics, *[sample / f"audio{i}_groundtruth.wav" for i in range(1, k + 1)]]
            if not p.is_file()
        ]
        if k < 2 or missing:
            skipped.append(f"fcsn/{folder.name}/{sample.name}: missing {', '.join(missing) or 'ground truth'}")
            continue
        mix, sr = _read_wav(mix_path)
        refs = np.stack([_read_wav(sample / f"audio{i}_groundtruth.wav")[0] for i in range(1, k + 1)])
        est = sep.separate_arrays(mix, sr, [read_picture(p)[None] for p in pics])
        scored = score_clip(refs, est, mix, f"fcsn/{folder.name}/{sample.name}", skipped)
        if scored is not None:
            items.append({"sample": sample.name, "sources": k, "sample_rate": sr, **scored})
    return aggregate_items(items)


def _video_frames(path: Path) -> np.ndarray:
    import av

    with av.open(str(path)) as container:
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    if not frames:
        raise InputError(f"{path}: no video frames")
    return np.stack(frames)


def _clipsep(sep, folder: Path, skipped: list[str], bar, oracle: bool) -> dict[str, Any]:
    items = []
    clips = sorted(p for p in folder.iterdir() if p.is_dir())
    task = bar.add_task("clipsep-demo", total=len(clips))
    for clip in clips:
        bar.advance(task)
        needed = [clip / n for n in ("mix.wav", "gt.wav", "int.wav", "av.mp4")]
        missing = [p.name for p in needed if not p.is_file()]
        if missing:
            skipped.append(f"clipsep-demo/{clip.name}: missing {', '.join(missing)}")
            continue
        mix, sr = _read_wav(clip / "mix.wav")
        refs = np.stack([_read_wav(clip / "gt.wav")[0], _read_wav(clip / "int.wav")[0]])
        if oracle:  # the class the folder name starts with
            est_a = sep.separate_arrays(mix, sr, guides=label_guide([clip.name.split("-")[0]], sep.guide_kind))[0]
        else:
            est_a = sep.separate_arrays(mix, sr, [_video_frames(clip / "av.mp4")])[0]
        # Only source a has a picture: one box. Row 1's estimate (the mixture) is a placeholder
        # BSS Eval needs; its decomposition is independent of row 0's and is not reported.
        n = min(refs.shape[1], est_a.shape[0], mix.shape[0])
        est = np.stack([est_a[:n], mix[:n]])
        scored = score_clip(refs[:, :n], est, mix[:n], f"clipsep-demo/{clip.name}", skipped, rows=[0])
        if scored is not None:
            items.append({"clip": clip.name, "sample_rate": sr, **scored})
    return aggregate_items(items)


def _print_real(report: dict[str, Any], console) -> None:
    from rich.table import Table

    console = console or stdout_console()
    table = Table(title=f"{report['model']} on real clips ({report['realclips']})")
    for col in ("set", "items", "outputs", "SDR", "SDRi", "SIR", "SAR", "mix SDR", "right box (mix)"):
        table.add_column(col, justify="left" if col == "set" else "right")
    for name, r in report["sets"].items():
        table.add_row(
            name,
            str(r["items"]),
            str(r["outputs"]),
            fmt_db(r["sdr"]["mean"]),
            fmt_db(r["sdri"]["mean"]),
            fmt_db(r["sir"]["mean"]),
            fmt_db(r["sar"]["mean"]),
            fmt_db(r["mixture_sdr"]["mean"]),
            "-"
            if math.isnan(r["right_box_rate"])
            else f"{100 * r['right_box_rate']:.0f}% ({100 * r['mixture_right_box_rate']:.0f}%)",
        )
    console.print(table)
    for name, r in report["sets"].items():
        per = r.get("per_instrument") or {}
        if per:
            cells = [
                f"{inst} {fmt_db(v['sdri']['mean'])} ({100 * v['right_box_rate']:.0f}%)" for inst, v in per.items()
            ]
            console.print(f"{name} per instrument, SDRi dB (right box): " + ", ".join(cells))
    console.print(
        "means in dB over outputs; SDRi = SDR - mixture SDR; right box = share of outputs that correlate most "
        "with their own source (in brackets: the same for the unseparated mixture, the level to beat); "
        "clipsep-demo scores source a only (source b has no picture); duets = music-solo pairs of different "
        "instruments, duets-same = of one instrument, duets-video = two times of one music-solo video (real motion)"
    )
    for line in report["skipped"]:
        console.print(f"skipped: {line}")
