"""Ensembles (avsep.train.dataset.ensembles): voices of one work played together, the index's
group column, and training items that mix an ensemble's parts as they were played."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from avsep.errors import InputError
from avsep.train.data import MixDataset
from avsep.train.dataset.ensembles import build_ensembles
from avsep.train.dataset.instruments import SPECS
from avsep.train.dataset.melodies import FAMILY_OF_KEY
from avsep.train.dataset.performance import arrange_ensemble
from avsep.train.index import Clip, read_index, write_index
from tests.train.real_material import write_notes

CLASSES = {"violin": range(55, 85), "flute": range(60, 92), "cello": range(36, 70)}


def test_parts_keep_the_works_harmony_and_beat():
    """Every part is the score's pitch classes (whole octaves only) at one shared tempo and
    start: notes the score starts together start within the players' jitter."""
    soprano = [(q, 1.0, 67 + (q % 3)) for q in range(0, 64)]
    bass = [(q, 2.0, 43 + (q % 5)) for q in range(0, 64, 2)]
    parts = [(soprano, SPECS["flute"], SPECS["flute"].programs[0]), (bass, SPECS["cello"], SPECS["cello"].programs[0])]
    perfs = arrange_ensemble(parts, "palestrina", 6.0, np.random.default_rng(4))
    assert perfs is not None and len(perfs) == 2
    assert len({(p.info["start_quarter"], p.info["seconds_per_quarter"]) for p in perfs}) == 1
    start, spq = perfs[0].info["start_quarter"], perfs[0].info["seconds_per_quarter"]
    for perf, (notes, _, prog) in zip(perfs, parts):
        assert perf.info["transpose"] % 12 == 0
        score = {on - start: p for on, _, p in notes if on >= start}
        assert all(prog.low <= p <= prog.high for _, _, p, _ in perf.notes)
        assert {p % 12 for _, _, p, _ in perf.notes} <= {p % 12 for p in score.values()}
    together = [min(perf.notes)[0] for perf in perfs]  # both parts start on the first beat
    assert abs(together[0] - together[1]) < 0.1 < spq
    assert arrange_ensemble(parts, "palestrina", 600.0, np.random.default_rng(4)) is None  # the work is too short
    assert FAMILY_OF_KEY["palestrina"]


def test_the_group_column_survives_the_index(tmp_path: Path):
    clips = [
        Clip(tmp_path / "audio/violin/a.wav", tmp_path / "frames/violin/a", 3),
        Clip(tmp_path / "b.wav", tmp_path / "f", 2, "ens1"),
    ]
    write_index(tmp_path / "train.csv", clips)
    assert (tmp_path / "train.csv").read_text().splitlines() == [
        "audio/violin/a.wav,frames/violin/a,3",
        "b.wav,f,2,ens1",
    ]
    back = read_index(tmp_path / "train.csv", fps=1)
    assert [c.group for c in back.clips] == ["", "ens1"] and back.clips[1].audio == tmp_path / "b.wav"


@pytest.fixture(scope="module")
def ensembles(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("ensembles")
    for name, pitches in CLASSES.items():
        write_notes(root / "notes" / name, name, pitches)
    base = root / "base"
    solos = []
    for name in CLASSES:
        audio = base / "audio" / name / "solo.wav"
        audio.parent.mkdir(parents=True)
        sf.write(audio, np.random.default_rng(0).normal(0, 0.1, 11025 * 12).astype(np.float32), 11025)
        solos.append(Clip(audio, base / "frames" / name / "solo", 12))
    write_index(base / "train.csv", solos)
    write_index(base / "val.csv", solos[:1])
    (base / "meta.json").write_text(json.dumps({"fps": 1}))
    build_ensembles(root / "ens", base, [root / "notes"], 3, sizes=(2, 3), seed=1, cache_dir=root / "cache")
    return root


def test_an_ensembles_build_adds_aligned_parts_of_distinct_classes_to_the_base(ensembles: Path):
    out = ensembles / "ens"
    meta = json.loads((out / "meta.json").read_text())
    index = read_index(out / "train.csv")
    groups = {}
    for clip in index.clips:
        groups.setdefault(clip.group, []).append(clip)
    assert len(groups.pop("")) == 3 and len(groups) == meta["ensembles"] == 3  # the base's solos, 3 ensembles
    for group, clips in groups.items():
        labels = [c.label for c in clips]
        assert 2 <= len(clips) <= 3 and len(set(labels)) == len(labels)
        assert {sf.info(c.audio).frames for c in clips} == {12 * 11025}
        assert all(c.frames_dir.parent.name == c.label for c in clips)  # a base clip of its class lends frames
        works = {p["work"] for p in next(g for g in meta["groups"] if g["group"] == group)["parts"]}
        assert len(works) == 1 and works.pop().startswith("palestrina/")
    assert all(group.startswith("ens-") for group in groups)  # named after the folder: unique across builds
    assert [c.audio for c in read_index(out / "val.csv").clips] == [
        c.audio for c in read_index(ensembles / "base" / "val.csv").clips
    ]
    assert not list(ensembles.glob(".ens.partial-*"))
    with pytest.raises(InputError, match="exists"):
        build_ensembles(out, ensembles / "base", [ensembles / "notes"], 1, cache_dir=ensembles / "cache")
    with pytest.raises(InputError, match="holds ensembles already"):
        build_ensembles(ensembles / "again", out, [ensembles / "notes"], 1, cache_dir=ensembles / "cache")


def _plan_before_ensembles(ds: MixDataset, i: int) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Item ``i``'s clips and starts as MixDataset drew them before ensembles existed (a copy of
    that code): a share of 0 must draw exactly these, so that earlier runs repeat."""
    rng = np.random.default_rng([ds.seed, 0, i])
    chosen = [int(ds._perm(0)[i % len(ds.index)])]
    for _ in range(ds.num_mix - 1):
        candidates = np.flatnonzero(~np.isin(ds._label_of, ds._label_of[chosen]))
        chosen.append(int(candidates[rng.integers(len(candidates))]))
    starts = []
    for c in chosen:
        length = ds.audio.length(ds.index.clips[c].audio)
        starts.append(int(rng.integers(0, length - ds.clip + 1)) if length >= ds.clip else 0)
        rng.uniform(-ds.gain_db, ds.gain_db)
    return tuple(chosen), tuple(starts)


def test_coherent_items_mix_one_ensembles_parts_over_one_segment(ensembles: Path):
    index = read_index(ensembles / "ens" / "train.csv")
    plain = MixDataset(index, 2, clip=32767, seed=3)
    for i in range(len(index)):
        assert (plain.plan(i).clips, plain.plan(i).starts) == _plan_before_ensembles(plain, i)
    together = MixDataset(index, 2, clip=32767, seed=3, coherent=1.0)
    led = [i for i in range(len(index)) if index.clips[int(together._perm(0)[i])].group]
    assert led
    for i in led:
        plan = together.plan(i)
        assert len({index.clips[c].group for c in plan.clips}) == 1
        assert len(set(plan.starts)) == 1 and len({index.clips[c].label for c in plan.clips}) == 2
    mixed = [plain.plan(i) for i in led]
    assert any(len({index.clips[c].group for c in p.clips}) > 1 or len(set(p.starts)) > 1 for p in mixed)


def test_outside_parts_sound_in_the_mixture_but_are_neither_guided_nor_targets(ensembles: Path):
    index = read_index(ensembles / "ens" / "train.csv")
    ds = MixDataset(index, 2, clip=32767, seed=3, coherent=1.0, outside=1.0, guide="label")
    trios = 0
    for i in range(len(index)):
        plan = ds.plan(i)
        assert plan.outside == 1 and len({index.clips[c].label for c in plan.clips}) == 3
        group = index.clips[plan.clips[0]].group
        if group and len(ds._groups[group]) == 3:  # the ensemble's third part plays outside
            trios += 1
            assert {index.clips[c].group for c in plan.clips} == {group} and len(set(plan.starts)) == 1
        item = ds.load(plan)
        assert item["audio"].shape[0] == item["visual"].shape[0] == 2
        outsider = ds.audio.read(index.clips[plan.clips[2]].audio, plan.starts[2], ds.clip) * plan.gains[2]
        assert np.abs(outsider).max() > 0
        np.testing.assert_allclose(item["mixture"] - item["audio"].sum(0), outsider, atol=1e-5)
        assert plan.to_dict(index)["sources"][2]["outside"] and not plan.to_dict(index)["sources"][1]["outside"]
    assert trios
    some = MixDataset(index, 2, clip=32767, seed=3, outside=0.5, guide="label")
    items = [some[i] for i in range(len(index))]
    assert {some.plan(i).outside for i in range(len(index))} == {0, 1}
    assert all("mixture" in item for item in items)  # one batch may hold both kinds


def test_outside_classes_never_play_a_guided_part_even_in_an_ensemble(ensembles: Path):
    """Cello taken as a class the guide cannot name: ensembles' cello parts are no partners, every
    outside part is a cello, and one from elsewhere keeps its own segment of its own clip."""
    index = read_index(ensembles / "ens" / "train.csv")
    ds = MixDataset(index, 2, clip=32767, seed=3, coherent=1.0, outside=1.0, guide="label", outside_classes=["cello"])
    assert len(ds) == sum(c.label != "cello" for c in index.clips)
    own_starts = []
    for i in range(len(ds)):
        plan = ds.plan(i)
        labels = [index.clips[c].label for c in plan.clips]
        assert labels[-1] == "cello" and "cello" not in labels[:-1] and plan.outside == 1
        assert ds.load(plan)["visual"].shape[0] == 2
        leader, outsider = (index.clips[plan.clips[k]].group for k in (0, -1))
        if leader and leader != outsider:
            own_starts.append(plan.starts[-1] != plan.starts[0])
    assert any(own_starts)
    with pytest.raises(InputError, match="1 class\\(es\\) to guide"):
        MixDataset(index, 2, guide="label", outside_classes=["cello", "flute"])


def test_the_command_makes_ensembles_and_refuses_bad_input_in_one_line(ensembles: Path, tmp_path: Path):
    from typer.testing import CliRunner

    from avsep.cli.app import app

    notes = ["--real-audio", str(ensembles / "notes")]
    run = CliRunner().invoke
    res = run(app, ["data", "ensembles", str(tmp_path / "a"), "--base", str(tmp_path / "none"), *notes])
    assert res.exit_code != 0 and "index file not found" in res.output and not (tmp_path / "a").exists()
    res = run(
        app, ["data", "ensembles", str(tmp_path / "a"), "--base", str(ensembles / "base"), *notes, "--sizes", "2,9"]
    )
    assert res.exit_code != 0 and "9 parts need more" in res.output and not (tmp_path / "a").exists()
    env = {"AVSEP_CACHE_DIR": str(ensembles / "cache")}
    args = ["data", "ensembles", str(tmp_path / "b"), "--base", str(ensembles / "base"), *notes, "--groups", "1"]
    res = run(app, [*args, "--no-progress"], env=env)
    assert res.exit_code == 0 and "1 ensembles" in res.output
    assert len(read_index(tmp_path / "b" / "train.csv").clips) >= 3 + 2
