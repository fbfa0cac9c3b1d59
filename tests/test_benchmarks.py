"""The benchmarks stay runnable: each imports (avsep's public modules only, no ``sys.path``
edits), and a small one runs end to end on a generated second of sound, as CI runs it."""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = sorted(p.stem for p in (ROOT / "benchmarks").glob("*.py") if p.stem != "__init__")


@pytest.mark.parametrize("name", SCRIPTS)
def test_every_benchmark_imports(name):
    importlib.import_module(f"benchmarks.{name}")


def _private_names(path: Path) -> list[str]:
    """avsep names ``path`` imports or reaches whose last part starts with ``_``, and its
    ``sys.path`` edits."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("avsep"):
            found += [f"{node.module}.{a.name}" for a in node.names if a.name.startswith("_")]
        if isinstance(node, ast.Attribute) and node.attr == "path" and getattr(node.value, "id", "") == "sys":
            found.append("sys.path")
    return found


def test_benchmarks_use_only_the_public_api():
    found = {p.name: _private_names(p) for p in (ROOT / "benchmarks").glob("*.py")}
    assert {name: names for name, names in found.items() if names} == {}


def test_benchmarks_import_each_other_through_the_package():
    """``python -m benchmarks.X`` has the repository, not benchmarks/, on the path: a sibling
    imported by its bare name (even inside a function, behind an option) fails there."""
    bare = {
        path.name: [
            name
            for node in ast.walk(ast.parse(path.read_text()))
            if isinstance(node, (ast.Import, ast.ImportFrom))
            for name in ([node.module] if isinstance(node, ast.ImportFrom) else [a.name for a in node.names])
            if name in SCRIPTS
        ]
        for path in (ROOT / "benchmarks").glob("*.py")
    }
    assert {name: mods for name, mods in bare.items() if mods} == {}


def test_the_private_name_finder_finds_them(tmp_path: Path):
    script = tmp_path / "b.py"
    script.write_text("import sys\nsys.path.insert(0, '.')\nfrom avsep.separation.fullband import _x, y\n")
    assert sorted(_private_names(script)) == ["avsep.separation.fullband._x", "sys.path"]


def test_a_small_benchmark_runs():
    """``python -m benchmarks.flac_encode`` on one second of generated 48 kHz stereo."""
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks.flac_encode", "--seconds", "1", "--repeat", "1"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout.splitlines()
    assert out[0].startswith("1 s of 48000 Hz stereo")
    rows = [line.split() for line in out[2:]]
    assert sorted((r[0], r[1]) for r in rows) == [
        ("PyAV", "16"),
        ("PyAV", "24"),
        ("soundfile", "16"),
        ("soundfile", "24"),
    ]
    assert all(float(r[2]) > 0 and float(r[4]) > 0 for r in rows)


def test_a_json_report_may_name_a_folder_that_does_not_exist(tmp_path: Path):
    from benchmarks import json_out

    path = json_out(tmp_path / "runs" / "bench" / "r.json")
    assert path.parent.is_dir() and path == tmp_path / "runs" / "bench" / "r.json"


def test_the_profiled_child_runs_as_a_plain_script(tmp_path: Path):
    """bench_separate (and bench_phone through it) starts its child as ``python FILE --child``
    from a scratch folder, where the ``benchmarks`` package cannot be imported: the script must
    import only what an installed avsep has."""
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "bench_separate.py"), "--help"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr


def test_guide_confusion_reads_real_frames_as_the_separation_does():
    """A guide head with its own last stage names each real frame from that stage's features
    (``pooled_parts`` with the head), not from the frozen trunk's, as the separation does."""
    import numpy as np
    import torch

    from avsep.models.guide_head import GuideHead, HeadConfig
    from avsep.models.visual import build_trunk, centre_zoom
    from avsep.train.guide_head import named
    from benchmarks.guide_confusion import score_real

    torch.manual_seed(0)
    trunk = build_trunk("efficientnet_lite0")
    head = GuideHead(HeadConfig(tail=True)).eval().requires_grad_(False)  # a stage unlike the trunk's
    rng = np.random.default_rng(0)
    pictures = [("set", "accordion", rng.integers(0, 256, (224, 224, 3), dtype=np.uint8)) for _ in range(8)]
    flat = trunk.normalize(torch.from_numpy(np.stack([p[2] for p in pictures])))
    with torch.no_grad():
        own = named(*head.view_frames(trunk.pooled_parts(flat, head), trunk.pooled_parts(centre_zoom(flat), head)))
        frozen = named(*head.view_frames(trunk.pooled_parts(flat), trunk.pooled_parts(centre_zoom(flat))))
    assert own != frozen  # the two readings differ here, so the test can tell them apart
    assert score_real(trunk, head, pictures)["head"] == own


def test_the_finder_knob_calibration_reads_only_the_guide_heads_val_photos(tmp_path: Path, monkeypatch, request):
    """The finder's knobs are chosen on allowed material only: the knob calibrations' composites come
    from photos of the guide head's val split (never its training photos), and no real clip is
    read (``../shared/realclips`` is evaluation only)."""
    import numpy as np
    from PIL import Image

    import benchmarks.detect_players as bench
    from avsep.train.guide_photos import list_pictures, split_pictures

    rng = np.random.default_rng(0)
    for name in ("violin", "flute", "banjo"):
        folder = tmp_path / "photos" / "kaggle-30" / name
        folder.mkdir(parents=True)
        for k in range(20):
            Image.fromarray(rng.integers(0, 256, (60, 80, 3), dtype=np.uint8)).save(folder / f"{k}.jpg")
    monkeypatch.setattr(bench, "PHOTOS", tmp_path / "photos" / "kaggle-30")

    def no_real_clip(*args):
        raise AssertionError("the calibration read a real clip")

    for reader in ("solo_pool", "fcsn_pool", "real_duet_frame", "solo_videos"):
        monkeypatch.setattr(bench, reader, no_real_clip)
    bench.val_photos.cache_clear()
    request.addfinalizer(bench.val_photos.cache_clear)  # these photos are not the real ones
    split = split_pictures(list_pictures(tmp_path / "photos", erhu_drawings=0))
    used = {str(p.relative_to(tmp_path / "photos")) for files in bench.val_photos().values() for p in files}
    assert used and all(split[key] == "val" for key in used)
    sets = bench.calibration_sets(2, 0)
    assert sorted(sets) == ["moving duets", "moving trios", "still duets", "still trios"]
    moving = sets["moving duets"][0]
    assert moving.later and np.abs(moving.later[0].astype(int) - moving.frame).mean() > 0  # the players move
    assert not sets["still duets"][0].later


def test_a_knob_changes_only_when_allowed_material_prefers_another_by_the_margin():
    from benchmarks.detect_players import KNOB_MARGIN, SET_GUARD, adopt

    assert adopt("k", [1, 2, 3], [0.5, 0.5 + KNOB_MARGIN / 2, 0.5 + 2 * KNOB_MARGIN], 0) == 3
    assert adopt("k", [1, 2, 3], [0.5, 0.5 + KNOB_MARGIN / 2, 0.4], 0) == 1
    assert adopt("k", [1, 2, 3], [0.6, 0.7, 0.4], 2) == 2
    # With each set's scores: the best mean is refused when one set falls by more than the guard.
    sets = [[0.8, 0.8], [0.9, 0.8 - 2 * SET_GUARD], [0.85, 0.8 - SET_GUARD / 2]]
    assert adopt("k", [1, 2, 3], [0.8, 0.8 + 2 * KNOB_MARGIN, 0.8 + KNOB_MARGIN], 0) == 2
    assert adopt("k", [1, 2, 3], [0.8, 0.8 + 2 * KNOB_MARGIN, 0.8 + KNOB_MARGIN], 0, sets) == 1
    sets[1][1] = 0.8 - SET_GUARD / 2
    assert adopt("k", [1, 2, 3], [0.8, 0.8 + 2 * KNOB_MARGIN, 0.8 + KNOB_MARGIN], 0, sets) == 2


def test_bench_phone_trees_take_an_interpreter_each(tmp_path, monkeypatch):
    """``TREE=PYTHON`` compares two venvs: the tree resolved, the interpreter made absolute but
    not resolved (a venv's python is a symlink to the base interpreter, which has no avsep)."""
    from benchmarks.bench_phone import ROOT, parse_trees

    monkeypatch.chdir(tmp_path)
    (tmp_path / "old").mkdir()
    trees = parse_trees("old=venv/bin/python,.")
    assert trees == [((tmp_path / "old").resolve(), str(tmp_path / "venv/bin/python")), (tmp_path.resolve(), None)]
    assert parse_trees("") == [(ROOT, None)]


def test_bench_phone_pairs_each_automatic_run_with_the_boxes_run_beside_it(capsys):
    from benchmarks.bench_phone import print_ratios

    runs = lambda *walls: [{"wall_s": w} for w in walls]  # noqa: E731
    print_ratios(
        {
            ("720p", "boxes", "main"): runs(4.0, 5.0, 4.0),
            ("720p", "auto", "main"): runs(4.4, 5.0, 6.0),
            ("cuts", "auto", "main"): runs(1.0),  # no boxes runs: no ratio
        }
    )
    assert capsys.readouterr().out == "720p main: automatic / boxes 1.10 1.00 1.50, median 1.10\n"


def test_paired_stems_pairs_mixtures_and_brackets_the_difference():
    from benchmarks.paired_stems import paired

    def report(values: dict[str, list[float]]) -> dict:
        details = [
            {"piece": "p", "start_s": float(i), "pair": ["violin", "flute"], "sdri": v} for i, v in enumerate(values)
        ]
        return {"sets": {"2-part": {"details": details}}}

    before = report([[1.0, 3.0], [2.0, 2.0], [0.0, 0.0]])
    same_gain = report([[2.0, 4.0], [3.0, 3.0]])  # one mixture fewer: only shared ones are paired
    r = paired(before, same_gain)["2-part"]
    assert r["mixtures"] == 2 and r["mean"] == r["low"] == r["high"] == pytest.approx(1.0)
    mixed = report([[1.0, 3.0], [4.0, 4.0], [-1.0, -1.0]])  # differences 0, +2, -1
    r = paired(before, mixed)["2-part"]
    assert r["mean"] == pytest.approx(1 / 3) and -1.0 <= r["low"] < r["mean"] < r["high"] <= 2.0
    trio = {"piece": "q", "start_s": 0.0, "pair": ["violin", "flute", "cello"]}
    before["sets"]["3-part"] = {"details": [{**trio, "sdri": [0.0, 0.0, 0.0]}]}
    mixed["sets"]["3-part"] = {"details": [{**trio, "sdri": [3.0, 3.0, 3.0]}]}
    pooled = paired(before, mixed)["2+3-part"]  # differences 0, +2, -1 and +3
    assert pooled["mixtures"] == 4 and pooled["mean"] == pytest.approx(1.0)
