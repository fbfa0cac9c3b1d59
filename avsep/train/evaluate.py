"""``avsep evaluate`` (synthetic test mixtures) and ``avsep evaluate-real`` (real recordings).

Both separate through :class:`avsep.separation.separator.Separator`, the product's own pipeline
(``guide`` + ``separate_windows``, or ``separate_arrays`` for whole signals), so the numbers
describe what users get. Scores are BSS Eval v3 (mir_eval, no permutation: the output of box
``k`` is scored against source ``k``).

:func:`evaluate` — ``num_mixtures`` test mixtures drawn from the index with ``seed`` alone
(:class:`avsep.train.data.MixDataset` with no random gain), so every model is scored on the
same mixtures. For each: the model, the oracle ideal binary mask (the ceiling of binary
masking) and the mixture itself (the floor). A mixture with a silent reference is skipped for
all three (BSS Eval is undefined there; Sound of Pixels does the same); so is one where the
model outputs digital silence for a box, counted separately so that it stays visible.

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

import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from avsep.errors import AvsepError, InputError
from avsep.io.audio import load_audio
from avsep.io.video import FrameReader
from avsep.models.guide import label_guide
from avsep.options import DEFAULT_MASK, DEFAULT_SAME_INSTRUMENT, REAL_SETS
from avsep.progress import make_progress
from avsep.separation.separator import Separator
from avsep.signal import dsp
from avsep.signal.chunking import FRAME_OFFSETS
from avsep.signal.dsp import SAMPLE_RATE
from avsep.train.data import MixDataset
from avsep.train.index import frame_numbers, read_index, resolve_split
from avsep.train.metrics import (
    SILENCE_THRESHOLD,
    bss_eval,
    is_silent,
    mixture_floor,
    oracle_ibm,
    right_box,
    summarize,
)

SYSTEMS = ("model", "oracle_ibm", "mixture")
_SYSTEM_NAMES = {"model": "model", "oracle_ibm": "oracle IBM", "mixture": "mixture"}


def default_realclips() -> Path:
    """``../shared/realclips`` beside the repository (``/work/shared/realclips`` here)."""
    return Path(__file__).resolve().parents[2].parent / "shared" / "realclips"


def _separator(
    model: str | Path,
    device: str,
    mask: str,
    batch_size: int,
    backbone_weights: str | Path | None,
    same_instrument: str = DEFAULT_SAME_INSTRUMENT.value,
):
    return Separator(
        model,
        device=device,
        mask=mask,
        batch_size=batch_size,
        backbone_weights=backbone_weights,
        same_instrument=same_instrument,
    )


def _check_oracle(sep, oracle: bool) -> None:
    if oracle and sep.guide_kind != "label":
        raise InputError(
            f"--oracle-labels needs a model trained with --guide label; this one has a {sep.guide_kind} guide"
        )


def _model_info(sep) -> dict[str, Any]:
    ck = sep.checkpoint
    return {
        "arch": ck.arch,
        "backbone": ck.backbone,
        "guide": ck.guide,
        "sha256": ck.sha256,
        "weights_sha256": ck.weights_sha256,
        "trunk_pretrained": bool(sep.trunk.pretrained),
    }


def _stats(rows: list[dict[str, float]]) -> dict[str, dict[str, float]]:
    return {m: summarize([r[m] for r in rows]) for m in ("sdr", "sir", "sar")}


# -- synthetic test mixtures ---------------------------------------------------------------


def evaluate(
    model: str | Path,
    index: str | Path,
    *,
    num_mixtures: int = 250,
    num_mix: int = 2,
    seed: int = 0,
    mask: str = DEFAULT_MASK.value,
    device: str = "auto",
    batch_size: int = 4,
    backbone_weights: str | Path | None = None,
    fps: float | None = None,
    oracle_grid: str = "linear",
    silence_threshold: float = SILENCE_THRESHOLD,
    oracle: bool = False,
    json_path: str | Path | None = None,
    progress: bool = True,
    console=None,
) -> dict[str, Any]:
    """Score ``model`` on fixed test mixtures of ``index``; returns (and optionally writes) a report.

    ``oracle``: give a label-guided model each source's true class instead of what its
    pictures say (the oracle yardstick of docs/results.md)."""

    _at_least_one(num_mixtures=num_mixtures, batch_size=batch_size)
    index_path = resolve_split(index, "test")
    idx = read_index(index_path, fps=fps)
    data = MixDataset(idx, num_mix, seed=seed, gain_db=0.0, length=num_mixtures)
    sep = _separator(model, device, mask, batch_size, backbone_weights)
    _check_oracle(sep, oracle)

    per_mix: list[dict[str, Any]] = []
    rows: dict[str, list[dict[str, float]]] = {s: [] for s in SYSTEMS}
    skipped = {"silent_references": 0, "mixtures_with_silent_reference": 0, "mixtures_with_silent_model_output": 0}
    bar = _progress(progress, console)
    with bar:
        task = bar.add_task("evaluate", total=num_mixtures)
        for start in range(0, num_mixtures, batch_size):
            keys = list(range(start, min(start + batch_size, num_mixtures)))
            plans = [data.plan(k) for k in keys]
            for k, plan, refs, mix, est in zip(keys, plans, *_separate_batch(sep, data, idx, plans, oracle)):
                bar.advance(task)
                record: dict[str, Any] = {"index": k, **plan.to_dict(idx)}
                n_silent = sum(is_silent(r, silence_threshold) for r in refs)
                skipped["silent_references"] += n_silent
                skipped["mixtures_with_silent_reference"] += bool(n_silent)
                if n_silent:
                    record["skipped"] = "silent reference"
                elif any(not np.any(e) for e in est):
                    skipped["mixtures_with_silent_model_output"] += 1
                    record["skipped"] = "model output is silent"
                else:
                    _score_systems(record, rows, refs, mix, est, oracle_grid)
                per_mix.append(record)

    results = {s: _stats(rows[s]) for s in SYSTEMS}
    sdri = [m["sdr"] - f["sdr"] for m, f in zip(rows["model"], rows["mixture"])]
    report = {
        "model": str(model),
        **_model_info(sep),
        "index": str(index_path),
        "num_mixtures": num_mixtures,
        "num_mix": num_mix,
        "seed": seed,
        "mask": mask,
        "oracle_labels": oracle,
        "oracle_grid": oracle_grid,
        "metric": "BSS Eval v3 (mir_eval.separation.bss_eval_sources, compute_permutation=False)",
        "scored_mixtures": len(rows["model"]) // max(num_mix, 1),
        "skipped": {**skipped, "silence_threshold": silence_threshold},
        "results": results,
        "sdri": summarize(sdri),
        "mixtures": per_mix,
    }
    _print_eval(report, console)
    if json_path:
        write_json(json_path, report)
    return report


def _at_least_one(**counts: int) -> None:
    """Each of ``counts`` (named as its option) must be at least 1."""
    for name, value in counts.items():
        if value < 1:
            raise InputError(f"--{name.replace('_', '-')} must be at least 1, got {value}")


def _separate_batch(sep, data: MixDataset, idx, plans: list, oracle: bool) -> tuple[np.ndarray, ...]:
    """One batch of test mixtures: the references ``[B, N, T]``, the mixtures ``[B, T]`` and the
    model's estimates ``[B, N, T]`` (guided by the pictures, or by the true classes)."""
    import torch

    items = [data.load(p, frames=True) for p in plans]
    sources = np.stack([it["audio"].numpy() for it in items])  # [B, N, T]
    crops = np.stack([it["frames"].numpy() for it in items])  # [B, N, F, 224, 224, 3]
    mixes = sources.sum(axis=1)
    if oracle:  # each source's true class
        visual = torch.stack([label_guide([idx.clips[c].label for c in p.clips]) for p in plans])
    else:
        visual = sep.guide(crops)
    return sources, mixes, sep.separate_windows(mixes, visual)


def _score_systems(
    record: dict[str, Any],
    rows: dict[str, list[dict[str, float]]],
    refs: np.ndarray,
    mix: np.ndarray,
    est: np.ndarray,
    oracle_grid: str,
) -> None:
    """BSS Eval of one mixture for the model, the oracle IBM and the mixture itself, into the
    mixture's ``record`` and the per-source ``rows`` of each system."""
    import torch

    ibm = oracle_ibm(dsp.stft(torch.from_numpy(mix)), dsp.stft(torch.from_numpy(refs)), grid=oracle_grid)
    for system, est_sys in (("model", est), ("oracle_ibm", ibm), ("mixture", mixture_floor(mix, len(refs)))):
        scores = bss_eval(refs, est_sys)
        record[system] = {m: [round(float(v), 4) for v in scores[m]] for m in scores}
        for j in range(len(refs)):
            rows[system].append({m: float(scores[m][j]) for m in scores})


def _print_eval(report: dict[str, Any], console) -> None:
    from rich.table import Table

    console = console or _stdout()
    table = Table(
        title=f"{report['model']} on {report['scored_mixtures']} mixtures of {report['num_mix']} ({report['index']})"
    )
    table.add_column("system")
    for m in ("SDR", "SIR", "SAR"):
        table.add_column(f"{m} mean (median)", justify="right")
    for system in SYSTEMS:
        r = report["results"][system]
        table.add_row(
            _SYSTEM_NAMES[system], *(f"{_fmt(r[m]['mean'])} ({_fmt(r[m]['median'])})" for m in ("sdr", "sir", "sar"))
        )
    console.print(table)
    sk = report["skipped"]
    console.print(
        f"SDRi (model - mixture): mean {_fmt(report['sdri']['mean'])} dB, median {_fmt(report['sdri']['median'])} dB; "
        f"skipped {sk['mixtures_with_silent_reference']} mixture(s) "
        f"with {sk['silent_references']} silent reference(s), "
        f"{sk['mixtures_with_silent_model_output']} with a silent model output; "
        "oracle IBM = ceiling of binary masking, mixture = floor (no separation)"
    )


# -- real clips ----------------------------------------------------------------------------


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
    sep = _separator(model, device, mask, batch_size, backbone_weights, same_instrument)
    _check_oracle(sep, oracle)
    report: dict[str, Any] = {
        "model": str(model),
        **_model_info(sep),
        "realclips": str(root),
        "mask": mask,
        "same_instrument": same_instrument,
        "oracle_labels": oracle,
        "sets": {},
        "skipped": [],
    }
    bar = _progress(progress, console)
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
                report["sets"][name] = _duets(
                    sep, root / "music-solo", num_pairs, segment_seconds, seed, report["skipped"], bar, oracle, same
                )
        if "duets-video" in sets and (root / "music-solo").is_dir() and not oracle:
            report["sets"]["duets-video"] = _video_duets(
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


def _read_picture(path: Path) -> np.ndarray:
    from PIL import Image

    with Image.open(path) as im:
        return np.array(im.convert("RGB"))  # a writable copy: torch warns on read-only arrays


def _score(
    refs: np.ndarray,
    est: np.ndarray,
    mix: np.ndarray,
    label: str,
    skipped: list[str],
    rows: Sequence[int] | None = None,
) -> dict[str, Any] | None:
    """BSS Eval of ``est`` and of the mixture floor, SDRi and right-box per output row.

    An all-zero output (a mask that rejected every bin) has no BSS Eval score; the item is
    then listed in ``skipped`` under ``label`` and ``None`` returned, as the synthetic
    evaluation counts its silent outputs, rather than ending the whole run.
    """
    n = min(refs.shape[1], est.shape[1], mix.shape[0])
    refs, est, mix = refs[:, :n], est[:, :n], mix[:n]
    silent = [k for k in range(est.shape[0]) if not np.any(est[k])]
    if silent:
        skipped.append(f"{label}: model output {', '.join(str(k + 1) for k in silent)} is silent (not scored)")
        return None
    model = bss_eval(refs, est)
    floor = bss_eval(refs, mixture_floor(mix, refs.shape[0]))
    right = right_box(refs, est)
    right_floor = right_box(refs, mixture_floor(mix, refs.shape[0]))
    keep = list(range(refs.shape[0])) if rows is None else list(rows)
    return {
        "sdr": [float(model["sdr"][k]) for k in keep],
        "sir": [float(model["sir"][k]) for k in keep],
        "sar": [float(model["sar"][k]) for k in keep],
        "mixture_sdr": [float(floor["sdr"][k]) for k in keep],
        "sdri": [float(model["sdr"][k] - floor["sdr"][k]) for k in keep],
        "right_box": [bool(right[k]) for k in keep],
        "mixture_right_box": [bool(right_floor[k]) for k in keep],
    }


def _aggregate(items: list[dict[str, Any]]) -> dict[str, Any]:
    def flat(key: str) -> list:
        return [v for it in items if "sdr" in it for v in it[key]]

    right = flat("right_box")
    return {
        "items": len([it for it in items if "sdr" in it]),
        "outputs": len(flat("sdr")),
        "sdr": summarize(flat("sdr")),
        "sir": summarize(flat("sir")),
        "sar": summarize(flat("sar")),
        "mixture_sdr": summarize(flat("mixture_sdr")),
        "sdri": summarize(flat("sdri")),
        "right_box_rate": float(np.mean(right)) if right else float("nan"),
        # the same rate for "every output = the mixture": the chance level to beat
        "mixture_right_box_rate": float(np.mean(flat("mixture_right_box"))) if right else float("nan"),
        "details": items,
    }


def _fcsn(sep, folder: Path, skipped: list[str], bar, oracle: bool) -> dict[str, Any]:
    items = []
    if oracle:
        skipped.append(f"fcsn/{folder.name}: not scored with oracle labels: its sources have no class labels")
        return _aggregate(items)
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
        est = sep.separate_arrays(mix, sr, [_read_picture(p)[None] for p in pics])
        score = _score(refs, est, mix, f"fcsn/{folder.name}/{sample.name}", skipped)
        if score is not None:
            items.append({"sample": sample.name, "sources": k, "sample_rate": sr, **score})
    return _aggregate(items)


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
            est_a = sep.separate_arrays(mix, sr, guides=label_guide([clip.name.split("-")[0]]))[0]
        else:
            est_a = sep.separate_arrays(mix, sr, [_video_frames(clip / "av.mp4")])[0]
        # Only source a has a picture: one box. Row 1's estimate (the mixture) is a placeholder
        # BSS Eval needs; its decomposition is independent of row 0's and is not reported.
        n = min(refs.shape[1], est_a.shape[0], mix.shape[0])
        est = np.stack([est_a[:n], mix[:n]])
        score = _score(refs[:, :n], est, mix[:n], f"clipsep-demo/{clip.name}", skipped, rows=[0])
        if score is not None:
            items.append({"clip": clip.name, "sample_rate": sr, **score})
    return _aggregate(items)


def _duets(
    sep,
    folder: Path,
    num_pairs: int,
    seconds: float,
    seed: int,
    skipped: list[str],
    bar,
    oracle: bool,
    same: bool = False,
) -> dict[str, Any]:
    """Duets of two music-solo recordings: of different instruments, or (``same``) two players
    of one instrument, which a class guide alone cannot tell apart."""
    recordings = []
    for inst in sorted(p for p in folder.iterdir() if p.is_dir()):
        for rec in sorted(p for p in inst.iterdir() if p.is_dir()):
            frames = sorted((rec / "frames").glob("*.jpg"))
            if (rec / "audio.mp4").is_file() and frames:
                recordings.append((inst.name, rec, len(frames)))
            else:
                skipped.append(f"music-solo/{inst.name}/{rec.name}: no audio.mp4 or frames")
    pairs = [
        (a, b)
        for a in range(len(recordings))
        for b in range(a + 1, len(recordings))
        if (recordings[a][0] == recordings[b][0]) == same
    ]
    if not pairs:
        skipped.append(f"music-solo: no two recordings of {'one' if same else 'different'} instrument(s); no duets")
        return _aggregate([])
    rng = np.random.default_rng([seed, 0xD0E7, 1] if same else [seed, 0xD0E7])
    order = [pairs[i] for i in rng.permutation(len(pairs))]
    chosen = [order[i % len(order)] for i in range(num_pairs)]  # every pair once before repeats
    audio_cache: dict[int, np.ndarray] = {}

    def audio(i: int) -> np.ndarray:
        if i not in audio_cache:
            audio_cache[i] = np.asarray(
                load_audio(recordings[i][1] / "audio.mp4", sample_rate=SAMPLE_RATE)[0], np.float32
            )
        return audio_cache[i]

    seg = int(round(seconds * SAMPLE_RATE))
    items = []
    task = bar.add_task("music-solo duets" + (" (same instrument)" if same else ""), total=num_pairs)
    for pair in chosen:
        bar.advance(task)
        a, b = audio(pair[0]), audio(pair[1])
        usable = min(a.shape[0], b.shape[0]) - seg
        if usable <= 0:
            skipped.append(
                f"duet {recordings[pair[0]][1].name}+{recordings[pair[1]][1].name}: shorter than {seconds} s"
            )
            continue
        start = _playing_start(rng, a, b, seg, usable)
        refs = _equal_rms(a[start : start + seg], b[start : start + seg])
        mix = refs.sum(axis=0)
        centre = (start + seg / 2) / SAMPLE_RATE
        pictures = []
        for i in pair:
            _, rec, count = recordings[i]
            numbers = frame_numbers(centre, 1.0, count, FRAME_OFFSETS)
            pictures.append(np.stack([_read_picture(rec / "frames" / f"{n:06d}.jpg") for n in numbers]))
        if oracle:  # each recording's instrument folder
            est = sep.separate_arrays(mix, SAMPLE_RATE, guides=label_guide([recordings[i][0] for i in pair]))
        else:
            motion = _still_motion(sep, [recordings[i] for i in pair], start / SAMPLE_RATE, seconds)
            est = sep.separate_arrays(mix, SAMPLE_RATE, pictures, **motion)
        names = [f"{recordings[i][0]}/{recordings[i][1].name}" for i in pair]
        score = _score(refs, est, mix, f"duet {'+'.join(names)}", skipped)
        if score is not None:
            items.append({"pair": names, "start_s": round(start / SAMPLE_RATE, 3), **score})
    return {**_aggregate(items), "per_instrument": _per_instrument(items)}


def _playing_start(rng: np.random.Generator, a: np.ndarray, b: np.ndarray, seg: int, usable: int) -> int:
    """A start where both ``a`` and ``b`` play for ``seg`` samples (not a pause or an intro):
    the first of 50 random starts in ``[0, usable]`` where both keep 0.3 of their overall RMS."""
    rms_a, rms_b = float(np.sqrt(np.mean(a**2))), float(np.sqrt(np.mean(b**2)))
    for _ in range(50):
        start = int(rng.integers(0, usable + 1))
        sa, sb = a[start : start + seg], b[start : start + seg]
        if np.sqrt(np.mean(sa**2)) > 0.3 * rms_a and np.sqrt(np.mean(sb**2)) > 0.3 * rms_b:
            break
    return start


def _equal_rms(sa: np.ndarray, sb: np.ndarray) -> np.ndarray:
    """The two segments ``[2, n]`` float32, each scaled to an RMS of 0.05."""
    refs = np.stack([sa / (np.sqrt(np.mean(sa**2)) + 1e-9), sb / (np.sqrt(np.mean(sb**2)) + 1e-9)]) * 0.05
    return refs.astype(np.float32)


#: music-solo frames are 1 a second, shrunk by this factor for motion (16 x 16 cells are read)
_MOTION_SHRINK = 4


def _still_motion(sep, recordings: list, start_s: float, seconds: float) -> dict[str, Any]:
    """``separate_arrays``' motion arguments for ``--same-instrument motion``: the music-solo
    frames (1 a second, shown at their centres) from just before the segment to just after."""
    if sep.same_instrument != "motion":
        return {}
    count = min(c for _, _, c in recordings)
    numbers = range(max(int(math.floor(start_s)), 1), min(int(math.ceil(start_s + seconds)) + 1, count) + 1)
    frames = [
        np.stack([_read_picture(rec / "frames" / f"{n:06d}.jpg")[::_MOTION_SHRINK, ::_MOTION_SHRINK] for n in numbers])
        for _, rec, _ in recordings
    ]
    return {"motion_frames": frames, "motion_times": [n - 0.5 - start_s for n in numbers]}


def _video_duets(
    sep, folder: Path, num_pairs: int, seconds: float, seed: int, skipped: list[str], bar
) -> dict[str, Any]:
    """One instrument twice with real motion: two segments (non-overlapping) of one music-solo
    video (``video.mp4``) side by side, each box the whole frame, guided by the video's frames
    at the segment centre + :data:`FRAME_OFFSETS` and moving at the video's frame rate."""
    videos = sorted(folder.glob("*/*/video.mp4"))
    if not videos:
        skipped.append("music-solo: no video.mp4; no video duets")
        return _aggregate([])
    rng = np.random.default_rng([seed, 0xD0E7, 2])
    seg = int(round(seconds * SAMPLE_RATE))
    items = []
    task = bar.add_task("music-solo video duets (same player, two times)", total=num_pairs)
    for k in range(num_pairs):
        bar.advance(task)
        path = videos[k % len(videos)]
        audio = np.asarray(load_audio(path, sample_rate=SAMPLE_RATE)[0], np.float32)
        half = (audio.shape[0] - seg) // 2
        if half <= seg:
            skipped.append(f"{path}: shorter than 4 x {seconds} s; no video duets")
            break
        first = _playing_start(rng, audio[:half], audio[:half], seg, half - seg)  # in the first half
        second = half + _playing_start(rng, audio[half:], audio[half:], seg, half - seg)  # in the second
        refs = _equal_rms(audio[first : first + seg], audio[second : second + seg])
        mix = refs.sum(axis=0)
        with FrameReader(path) as reader:
            starts = (first / SAMPLE_RATE, second / SAMPLE_RATE)
            pictures = [np.stack(reader.frames_at([s + seconds / 2 + off for off in FRAME_OFFSETS])) for s in starts]
            motion = {}
            if sep.same_instrument == "motion":
                times = np.arange(0.0, seconds, 1.0 / min(reader.info.fps, 30.0))
                shrink = slice(None, None, _MOTION_SHRINK)
                motion = {
                    "motion_frames": [
                        np.stack([f[shrink, shrink] for f in reader.frames_at(s + times)]) for s in starts
                    ],
                    "motion_times": times,
                }
        est = sep.separate_arrays(mix, SAMPLE_RATE, pictures, **motion)
        name = f"{path.parent.parent.name}/{path.parent.name}"
        score = _score(refs, est, mix, f"video duet {name} at {starts[0]:.1f}+{starts[1]:.1f} s", skipped)
        if score is not None:
            items.append({"pair": [name, name], "start_s": [round(s, 3) for s in starts], **score})
    return {**_aggregate(items), "per_instrument": _per_instrument(items)}


def _per_instrument(items: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """SDRi and right-box rate per instrument over the duets' outputs: where the losses are."""
    rows: dict[str, list[tuple[float, bool]]] = {}
    for it in items:
        for name, sdri, right in zip(it["pair"], it["sdri"], it["right_box"]):
            rows.setdefault(name.split("/")[0], []).append((sdri, right))
    return {
        inst: {"sdri": summarize([r[0] for r in got]), "right_box_rate": float(np.mean([r[1] for r in got]))}
        for inst, got in sorted(rows.items())
    }


def _print_real(report: dict[str, Any], console) -> None:
    from rich.table import Table

    console = console or _stdout()
    table = Table(title=f"{report['model']} on real clips ({report['realclips']})")
    for col in ("set", "items", "outputs", "SDR", "SDRi", "SIR", "SAR", "mix SDR", "right box (mix)"):
        table.add_column(col, justify="left" if col == "set" else "right")
    for name, r in report["sets"].items():
        table.add_row(
            name,
            str(r["items"]),
            str(r["outputs"]),
            _fmt(r["sdr"]["mean"]),
            _fmt(r["sdri"]["mean"]),
            _fmt(r["sir"]["mean"]),
            _fmt(r["sar"]["mean"]),
            _fmt(r["mixture_sdr"]["mean"]),
            "-"
            if math.isnan(r["right_box_rate"])
            else f"{100 * r['right_box_rate']:.0f}% ({100 * r['mixture_right_box_rate']:.0f}%)",
        )
    console.print(table)
    for name, r in report["sets"].items():
        per = r.get("per_instrument") or {}
        if per:
            cells = [f"{inst} {_fmt(v['sdri']['mean'])} ({100 * v['right_box_rate']:.0f}%)" for inst, v in per.items()]
            console.print(f"{name} per instrument, SDRi dB (right box): " + ", ".join(cells))
    console.print(
        "means in dB over outputs; SDRi = SDR - mixture SDR; right box = share of outputs that correlate most "
        "with their own source (in brackets: the same for the unseparated mixture, the level to beat); "
        "clipsep-demo scores source a only (source b has no picture); duets = music-solo pairs of different "
        "instruments, duets-same = of one instrument, duets-video = two times of one music-solo video (real motion)"
    )
    for line in report["skipped"]:
        console.print(f"skipped: {line}")


# -- shared --------------------------------------------------------------------------------


def _fmt(x: float) -> str:
    return "-" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.2f}"


def _stdout():
    from rich.console import Console

    return Console()


def write_json(path: str | Path, report: dict[str, Any] | list[dict[str, Any]]) -> None:
    """``report`` as strict JSON (NaN -> null) at ``path``; an unwritable path is a one-line error."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(_finite(report), indent=2, default=_json_default, allow_nan=False) + "\n")
    except OSError as exc:
        raise AvsepError(f"{path}: cannot write the JSON report ({exc.strerror}); choose another --json path") from None


def _finite(o: Any) -> Any:
    """NaN / infinity -> null, so the report is strict JSON."""
    if isinstance(o, dict):
        return {k: _finite(v) for k, v in o.items()}
    if isinstance(o, (list, tuple)):
        return [_finite(v) for v in o]
    if isinstance(o, (float, np.floating)) and not math.isfinite(float(o)):
        return None
    return o


def _json_default(o: Any) -> Any:
    if isinstance(o, (np.floating, np.integer)):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, Path):
        return str(o)
    raise TypeError(type(o).__name__)


def _progress(enabled: bool, console=None):
    return make_progress(enabled, console, transient=True)
