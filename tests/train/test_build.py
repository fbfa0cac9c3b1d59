"""``avsep data build``: layout, audio, frames, index, splits, determinism, missing packages.

One tiny build (33 clips of 4 s at 1 fps, every instrument in every split) is shared by most
tests; it takes a few seconds once music21 is importable. A second identical build checks
determinism by hashing every file.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from PIL import Image

from avsep.errors import AvsepError, InputError
from avsep.train.dataset import INSTRUMENTS, build_dataset, system
from avsep.train.dataset.layout import SPLITS
from avsep.train.index import read_index

MUSIC_CLASSES = {
    "accordion", "acoustic_guitar", "cello", "clarinet", "erhu", "flute",
    "saxophone", "trumpet", "tuba", "violin", "xylophone",
}  # fmt: skip

TINY = dict(seed=3, hours=0.02, clip_seconds=4.0, fps=1, progress=False)

needs_toolchain = pytest.mark.skipif(
    shutil.which("fluidsynth") is None or shutil.which("rsvg-convert") is None,
    reason="needs the Debian build packages: " + system.APT_LINE,
)


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("melody-cache")


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory, cache_dir: Path) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("build") / "ds"
    summary = build_dataset(out, cache_dir=cache_dir, **TINY)
    return out, summary


def _clips(root: Path) -> list[dict]:
    return [json.loads(line) for line in (root / "clips.jsonl").read_text().splitlines()]


def _tree_hash(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_instruments_cover_music() -> None:
    assert MUSIC_CLASSES <= set(INSTRUMENTS)
    assert INSTRUMENTS == sorted(INSTRUMENTS)


@needs_toolchain
def test_layout(tiny: tuple[Path, dict]) -> None:
    root, summary = tiny
    for name in ("audio", "frames", "train.csv", "val.csv", "test.csv", "meta.json", "README.txt", "clips.jsonl"):
        assert (root / name).exists(), name
    assert not list(root.parent.glob(".ds.partial-*"))
    meta = json.loads((root / "meta.json").read_text())
    assert meta["sample_rate"] == 11025 and meta["fps"] == 1 and meta["frames_per_clip"] == 4
    assert meta["seed"] == 3
    assert summary["clips"] == meta["num_clips"] == 33
    for split in SPLITS:
        assert set(meta["counts"][split]) == set(INSTRUMENTS)
        assert all(n >= 1 for n in meta["counts"][split].values())
    assert {p.name for p in (root / "audio").iterdir()} == set(INSTRUMENTS)
    readme = (root / "README.txt").read_text()
    assert "erhu" in readme and "public domain" in readme and "Open Font License" in readme


@needs_toolchain
def test_audio_non_silent_at_11025(tiny: tuple[Path, dict]) -> None:
    root, _ = tiny
    for name in INSTRUMENTS:
        wavs = sorted((root / "audio" / name).glob("*.wav"))
        assert len(wavs) >= 3, name
        for w in wavs:
            info = sf.info(str(w))
            assert info.samplerate == 11025 and info.channels == 1, w
            x, _ = sf.read(str(w))
            assert len(x) == 4 * 11025
            rms = float(np.sqrt(np.mean(x**2)))
            assert rms > 0.01, (w, rms)
            assert np.max(np.abs(x)) <= 1.0
            # sound in most of the clip, not one note and silence
            env = np.sqrt(np.mean(x[: len(x) // 1102 * 1102].reshape(-1, 1102) ** 2, axis=1))
            assert (env > 0.05 * env.max()).mean() > 0.5, w


@needs_toolchain
def test_frames(tiny: tuple[Path, dict]) -> None:
    root, _ = tiny
    for clip in _clips(root):
        files = sorted((root / clip["frames"]).glob("*.jpg"))
        assert [f.name for f in files] == [f"{i:06d}.jpg" for i in range(1, clip["num_frames"] + 1)]
        first = np.asarray(Image.open(files[0]).convert("RGB"), np.float32)
        assert first.shape == (224, 224, 3)
        last = np.asarray(Image.open(files[-1]).convert("RGB"), np.float32)
        assert 0 < np.abs(first - last).mean() < 40  # the same scene, moving a little


@needs_toolchain
def test_index_csvs(tiny: tuple[Path, dict]) -> None:
    root, _ = tiny
    seen: set[str] = set()
    for split in SPLITS:
        text = (root / f"{split}.csv").read_text()
        first = text.splitlines()[0].split(",")
        assert len(first) == 3 and first[2].isdigit()  # no header (Sound of Pixels convention)
        written = [line.split(",") for line in text.splitlines()]
        assert not any(Path(audio).is_absolute() or Path(frames).is_absolute() for audio, frames, _ in written)
        rows = read_index(root / f"{split}.csv").clips
        assert {r.label for r in rows} == set(INSTRUMENTS)
        for r in rows:
            assert r.audio.is_file()
            assert r.frames_dir.is_dir() and len(list(r.frames_dir.glob("*.jpg"))) == r.num_frames
            assert r.frames_dir.parent.name == r.label
            rel = r.audio.relative_to(root).as_posix()
            assert rel not in seen
            seen.add(rel)
    clips = _clips(root)
    assert len(seen) == len(clips)
    assert {c["audio"] for c in clips} == seen
    assert all({"augmentation", "performance", "scene"} <= set(c) for c in clips)


@needs_toolchain
def test_splits_disjoint_by_melody_and_picture(tiny: tuple[Path, dict]) -> None:
    root, _ = tiny
    clips = _clips(root)
    train = [c for c in clips if c["split"] == "train"]
    held = [c for c in clips if c["split"] != "train"]
    assert not {c["work"] for c in train} & {c["work"] for c in held}
    assert not {c["melody"] for c in train} & {c["melody"] for c in held}
    assert not {c["picture_group"] for c in train} & {c["picture_group"] for c in held}
    assert not {c["picture"] for c in train} & {c["picture"] for c in held}
    # the meta's picture plan says the same
    meta = json.loads((root / "meta.json").read_text())
    for name, plan in meta["pictures"].items():
        assert not set(plan["train"]) & (set(plan["val"]) | set(plan["test"])), name


@needs_toolchain
def test_same_seed_same_files(tiny: tuple[Path, dict], tmp_path: Path, cache_dir: Path) -> None:
    root, _ = tiny
    again = tmp_path / "again"
    build_dataset(again, cache_dir=cache_dir, **TINY)
    assert _tree_hash(again) == _tree_hash(root)


@needs_toolchain
def test_other_seed_other_files(tmp_path: Path, cache_dir: Path) -> None:
    fonts = [f.path for f in system.SOUNDFONTS if f.path.suffix == ".sf2" and f.path.is_file()]
    if len(fonts) < 2:
        pytest.skip("needs the two .sf2 fonts")
    kw = dict(
        hours=0.001,
        instruments=["violin"],
        clip_seconds=3,
        fps=1,
        progress=False,
        cache_dir=cache_dir,
        soundfonts=fonts,
    )
    a = build_dataset(tmp_path / "a", seed=1, **kw)
    b = build_dataset(tmp_path / "b", seed=2, **kw)
    assert a["clips"] == b["clips"] == 3
    wa = sorted((tmp_path / "a" / "audio" / "violin").glob("*.wav"))[0].read_bytes()
    wb = sorted((tmp_path / "b" / "audio" / "violin").glob("*.wav"))[0].read_bytes()
    assert wa != wb


def test_missing_fluidsynth_is_a_clear_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    real = shutil.which
    monkeypatch.setattr(system.shutil, "which", lambda name, *a, **k: None if name == "fluidsynth" else real(name))
    with pytest.raises(AvsepError, match=r"fluidsynth.*apt-get install .*fluidsynth") as info:
        build_dataset(tmp_path / "x", hours=0.001, progress=False)
    assert "\n" not in str(info.value)
    assert not (tmp_path / "x").exists()


def test_missing_fluidsynth_on_path(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(AvsepError, match="apt-get install"):
        system.check_toolchain()


def test_missing_soundfonts_is_a_clear_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    if shutil.which("fluidsynth") is None or shutil.which("rsvg-convert") is None:
        pytest.skip("fluidsynth is missing anyway")
    fonts = tuple(system.SoundFont(f.key, tmp_path / f.path.name, f.package, f.licence) for f in system.SOUNDFONTS)
    monkeypatch.setattr(system, "SOUNDFONTS", fonts)
    with pytest.raises(AvsepError, match="soundfonts.*apt-get install"):
        system.check_toolchain()


FAKE_TIMIDITY = """#!{python}
import sys
import numpy as np
import soundfile as sf
args = sys.argv[1:]
open({log!r}, "w").write(" ".join(args))
rate = int(args[args.index("-s") + 1])
t = np.arange(int(rate * 40)) / rate
sf.write(args[args.index("-o") + 1], 0.1 * np.sin(2 * np.pi * 440 * t), rate, subtype="PCM_16")
"""


@needs_toolchain
def test_a_timidity_configuration_is_played_by_timidity(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A .cfg font (GUS patches: Debian's freepats) is rendered by timidity with its own reverb
    and chorus off, at the build's rate; a build given it alone needs timidity, and says so."""
    import sys

    from avsep.train.dataset.instruments import SPECS
    from avsep.train.dataset.melodies import Melody
    from avsep.train.dataset.performance import arrange
    from avsep.train.dataset.render import RenderJob, render_batch, synth_command

    cfg = tmp_path / "freepats.cfg"
    (tmp_path / "more.cfg").write_text("bank 0\n 24 Tone/024.pat\nbank 1\n 25 Tone/x.pat\n")
    cfg.write_text(
        "dir /nowhere\ndrumset 0\n 35 Drum/kick.pat\nbank 0\n 21 Tone/021.pat amp=90 # accordion\nsource more.cfg\n"
    )
    assert system.timidity_programs(cfg) == {21, 24}  # bank 0 only, its sources followed
    bin_dir, log = tmp_path / "bin", tmp_path / "args.txt"
    bin_dir.mkdir()
    for program in ("fluidsynth", "rsvg-convert"):  # the build's other programs, and no timidity
        (bin_dir / program).symlink_to(shutil.which(program))
    monkeypatch.setenv("PATH", str(bin_dir))
    with pytest.raises(AvsepError, match="timidity"):
        system.check_toolchain([cfg])
    fake = bin_dir / "timidity"
    fake.write_text(FAKE_TIMIDITY.format(python=sys.executable, log=str(log)))
    fake.chmod(0o755)
    tools = system.check_toolchain([cfg])  # one chosen font is enough
    (font,) = tools.soundfonts
    assert font.player == "timidity" and tools.player(font) == str(fake)
    sf2 = system.SoundFont("x", Path("x.sf2"), "p", "l")
    assert sf2.player == "fluidsynth" and tools.player(sf2) == tools.fluidsynth
    command = synth_command("timidity", cfg, Path("in.mid"), Path("out.wav"))
    assert command[:3] == ["timidity", "-c", str(cfg)] and "-EFreverb=0" in command and "-EFchorus=0" in command
    assert "--preserve-silence" in command  # else the slots move half a second earlier than they are cut
    assert synth_command("fluidsynth", Path("a.sf2"), Path("in.mid"), Path("out.wav"))[0] == "fluidsynth"
    mel = Melody("test/x#0", "test/x", "bach", "x", tuple((float(i), 1.0, 60 + i) for i in range(8)))
    perf = arrange(mel, SPECS["accordion"], SPECS["accordion"].programs[0], 3.0, np.random.default_rng(0))
    jobs = [RenderJob(perf, tmp_path / "out" / f"{k}.wav", (0, k)) for k in range(2)]
    render_batch(tools.player(font), font.path, jobs, 3.0, tmp_path)
    assert f"-c {cfg}" in log.read_text() and "-s 11025" in log.read_text()
    violin = arrange(mel, SPECS["violin"], SPECS["violin"].programs[0], 3.0, np.random.default_rng(0))
    with pytest.raises(AvsepError, match="no patch for General MIDI program.* 40"):  # not timidity's default font
        render_batch(tools.player(font), font.path, [RenderJob(violin, tmp_path / "v.wav", (0,))], 3.0, tmp_path)
    for job in jobs:
        x, rate = sf.read(str(job.out_path))
        assert rate == 11025 and len(x) == 3 * 11025 and np.sqrt(np.mean(x**2)) > 0.01


def test_bad_arguments(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="unknown instrument banjo"):
        build_dataset(tmp_path / "x", instruments=["violin", "banjo"], progress=False)
    with pytest.raises(InputError, match="--hours"):
        build_dataset(tmp_path / "x", hours=0, progress=False)
    with pytest.raises(InputError, match="--fps"):
        build_dataset(tmp_path / "x", fps=0, progress=False)


@needs_toolchain
def test_refuses_foreign_or_existing_output(tmp_path: Path, tiny: tuple[Path, dict]) -> None:
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("mine")
    with pytest.raises(InputError, match="not empty"):
        build_dataset(foreign, hours=0.001, progress=False)
    assert (foreign / "notes.txt").read_text() == "mine"
    root, _ = tiny
    with pytest.raises(InputError, match="--overwrite"):
        build_dataset(root, hours=0.001, progress=False)


def test_plan_counts_and_picture_split() -> None:
    from avsep.train.dataset.build import plan_counts
    from avsep.train.dataset.pictures import PictureGroup, PictureSource, split_groups

    counts = plan_counts(list(INSTRUMENTS), 1.0, 12.0)
    assert sum(sum(c.values()) for c in counts.values()) == 300
    assert all(c["val"] >= 1 and c["test"] >= 1 and c["train"] >= 1 for c in counts.values())
    groups = [PictureGroup(f"g{i}", (PictureSource(f"g{i}", "procedural", str(i)),)) for i in range(7)]
    s = split_groups(groups, 0, "violin")
    assert not {g.id for g in s["train"]} & {g.id for g in s["val"] + s["test"]}
    assert s["val"] and s["test"] and len(s["train"]) >= 4


def test_arrange_stays_in_range_and_writes_midi(tmp_path: Path) -> None:
    mido = pytest.importorskip("mido")
    from avsep.train.dataset.instruments import SPECS
    from avsep.train.dataset.melodies import Melody, fingerprint
    from avsep.train.dataset.performance import arrange, write_midi

    notes = tuple((float(i) * 0.5, 0.5, 60 + (i * 7) % 12) for i in range(40))
    mel = Melody("test/x#0", "test/x", "ryans", "x", notes)
    assert fingerprint(notes) is not None
    for name in ("tuba", "erhu", "xylophone"):
        spec = SPECS[name]
        prog = spec.programs[0]
        perf = arrange(mel, spec, prog, 6.0, np.random.default_rng(0))
        assert perf.notes and all(prog.low <= p <= prog.high for _, _, p, _ in perf.notes)
        assert all(0 <= s < e for s, e, _, _ in perf.notes) and max(s for s, *_ in perf.notes) < 6.0
        write_midi([(0.5, perf)], tmp_path / f"{name}.mid", 7.0)
        msgs = list(mido.MidiFile(str(tmp_path / f"{name}.mid")))
        assert any(m.type == "program_change" and m.program == prog.program for m in msgs)
    erhu = arrange(mel, SPECS["erhu"], SPECS["erhu"].programs[0], 6.0, np.random.default_rng(1))
    assert erhu.bend_range == 12 and erhu.bends


def test_polyphonic_instruments_get_chords_under_the_melody() -> None:
    from avsep.train.dataset.instruments import SPECS
    from avsep.train.dataset.melodies import Melody
    from avsep.train.dataset.performance import accompany, arrange

    # a C major tune: the chords must come from C major
    tune = [60, 64, 67, 65, 62, 59, 60, 64, 69, 65, 67, 71, 72, 67, 64, 60] * 3
    mel = Melody("test/c#0", "test/c", "bach", "x", tuple((0.5 * i, 0.5, p) for i, p in enumerate(tune)))
    violin = arrange(mel, SPECS["violin"], SPECS["violin"].programs[0], 6.0, np.random.default_rng(0))
    for name in ("accordion", "acoustic_guitar"):
        spec = SPECS[name]
        perf = arrange(mel, spec, spec.programs[0], 6.0, np.random.default_rng(0))
        onsets = [s for s, *_ in perf.notes]
        assert len(perf.notes) > len(violin.notes)  # melody plus accompaniment
        assert max(onsets.count(t) for t in onsets) >= (3 if name == "accordion" else 1)  # chords
        assert all(0 <= s < 6.0 and e > s for s, e, _, _ in perf.notes)
        assert min(p for *_, p, _ in perf.notes) >= spec.programs[0].low
    chords = accompany(
        [(0.0, 2.0, 72, 90), (2.0, 4.0, 71, 90)],
        "oompah",
        SPECS["accordion"].programs[0],
        0.5,
        4.0,
        np.random.default_rng(0),
    )
    c_major = {0, 2, 4, 5, 7, 9, 11}
    assert {p % 12 for *_, p, _ in chords} <= c_major and all(v < 90 for *_, v in chords)


def _mounted_cli():
    """The build command mounted the way the main CLI does it: ``avsep data build``."""
    import typer

    from avsep.cli.data import app

    root = typer.Typer()
    data = typer.Typer()

    @root.callback()
    def main() -> None:
        pass

    root.add_typer(data, name="data")
    data.registered_commands.extend(app.registered_commands)
    return root


def test_cli_build_command(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from avsep.cli.data import app

    assert [c.name for c in app.registered_commands] == ["build", "ensembles"]
    cli = _mounted_cli()
    res = CliRunner().invoke(cli, ["data", "build", "--help"])
    assert res.exit_code == 0 and "--hours" in res.output and "--instruments" in res.output
    res = CliRunner().invoke(cli, ["data", "build", str(tmp_path / "x"), "--instruments", "violin,banjo"])
    assert res.exit_code == 2 and "unknown instrument banjo" in res.output
    assert not (tmp_path / "x").exists()


@pytest.mark.slow
@needs_toolchain
def test_every_program_sounds_in_every_font(tmp_path: Path) -> None:
    """Every instrument's programs give sound in every installed soundfont."""
    from avsep.train.dataset.instruments import SPECS
    from avsep.train.dataset.melodies import Melody
    from avsep.train.dataset.performance import arrange
    from avsep.train.dataset.render import RenderJob, render_batch

    tools = system.check_toolchain()
    notes = tuple((float(i), 1.0, 60 + (i * 5) % 12) for i in range(16))
    mel = Melody("test/x#0", "test/x", "bach", "x", notes)
    for font in tools.soundfonts:
        jobs = []
        for name in INSTRUMENTS:
            for prog in SPECS[name].programs:
                perf = arrange(mel, SPECS[name], prog, 3.0, np.random.default_rng(prog.program))
                jobs.append(RenderJob(perf, tmp_path / font.key / f"{name}-{prog.program}.wav", (0, prog.program)))
        render_batch(tools.player(font), font.path, jobs, 3.0, tmp_path)  # raises on silence
        for j in jobs:
            x, sr = sf.read(str(j.out_path))
            assert sr == 11025 and np.sqrt(np.mean(x**2)) > 0.01, j.out_path


@pytest.mark.slow
@needs_toolchain
def test_default_clip_length_build(tmp_path: Path, cache_dir: Path) -> None:
    """The default recipe (12 s clips at 2 fps) for two instruments."""
    s = build_dataset(
        tmp_path / "ds", seed=5, hours=0.05, instruments=["erhu", "tuba"], progress=False, cache_dir=cache_dir
    )
    assert s["clips"] == 15
    rows = read_index(tmp_path / "ds" / "train.csv").clips
    assert rows and all(r.num_frames == 24 for r in rows)
    x, sr = sf.read(str(rows[0].audio))
    assert sr == 11025 and len(x) == 12 * 11025


@pytest.fixture(scope="module")
def real_build(tmp_path_factory: pytest.TempPathFactory, cache_dir: Path) -> tuple[Path, dict, Path]:
    from tests.train.real_material import make_tree

    src = tmp_path_factory.mktemp("real-material")
    audio, photos = make_tree(src)
    out = tmp_path_factory.mktemp("real-build") / "ds"
    summary = small_real_build(out, cache_dir, "cello,flute,violin,erhu", [audio], photos=[photos], hours=0.05)
    return out, summary, src


def small_real_build(out: Path, cache_dir: Path, instruments: str, audio: list[Path], **kw) -> dict:
    """A build of 4-s clips at 1 fps from real material (the tests' trees), seed 1."""
    options = dict(seed=1, clip_seconds=4.0, fps=1, progress=False, cache_dir=cache_dir) | kw
    return build_dataset(out, instruments=instruments, real_audio=audio, **options)


@needs_toolchain
def test_real_material_build_counts_its_sources(real_build: tuple[Path, dict, Path]) -> None:
    root, summary, _ = real_build
    stats = summary["sources_per_class"]
    assert stats["violin"]["minutes"]["recorded"] > 0 and stats["violin"]["minutes"]["sampled"] > 0
    assert stats["flute"]["minutes"]["recorded"] == 0 and stats["flute"]["minutes"]["sampled"] > 0
    assert stats["cello"]["minutes"]["recorded"] > 0 and stats["cello"]["minutes"]["sampled"] == 0
    assert stats["erhu"]["minutes"]["soundfont"] > 0 and summary["no_real_audio"] == ["erhu"]
    assert stats["violin"]["pictures"]["photo"] > 0 and stats["violin"]["pictures"]["drawn"] == 0
    assert stats["cello"]["pictures"]["photo"] == 0  # no photo of a cello: drawings
    assert summary["ignored_classes"] == {"theremin": 3}
    clips = _clips(root)
    kinds = {c["audio_kind"] for c in clips}
    assert kinds == {"recorded", "sampled", "soundfont"}
    real_rows = read_index(root / "test-real.csv").clips
    real_ids = {r.audio.stem for r in real_rows}
    for c in clips:
        if c["id"] in real_ids:
            assert c["split"] == "test" and c["audio_kind"] != "soundfont" and c["picture_kind"] == "photo"
    meta = json.loads((root / "meta.json").read_text())
    licences = meta["real_material"]["licences"]
    assert licences["flute"]["sampled-notes"] == ["CC-BY 3.0 test notes"]
    assert "test photos, public domain" in meta["real_material"]["picture_licences"]["violin"]
    assert "violin / photos" in (root / "README.txt").read_text()


@needs_toolchain
def test_real_material_splits_share_no_file_pitch_or_photo(real_build: tuple[Path, dict, Path]) -> None:
    root, _, _ = real_build
    clips = _clips(root)
    by_split: dict[str, dict[str, set]] = {s: {"files": set(), "pitches": set(), "photos": set()} for s in SPLITS}
    for c in clips:
        src = c["audio_source"]
        if src["source"] == "recordings":
            by_split[c["split"]]["files"] |= set(src["files"])
        if c["picture_kind"] == "photo":
            by_split[c["split"]]["photos"].add(c["picture"])
    held = json.loads((root / "meta.json").read_text())["real_material"]["held_out"]
    for name in ("violin", "flute"):
        notes = held[name]["sampled-notes"]
        assert notes["val"] and notes["test"] and not set(notes["val"]) & set(notes["test"])
    for key in ("files", "photos"):
        assert not by_split["train"][key] & (by_split["val"][key] | by_split["test"][key]), key
    # the same material split the same way in another build (ablation builds share held-out sets)
    recorded = held["cello"]["recordings"]
    assert recorded["val"] and recorded["test"]


@needs_toolchain
def test_real_audio_clips_are_resampled_and_levelled(real_build: tuple[Path, dict, Path]) -> None:
    root, _, _ = real_build
    for c in _clips(root):
        if c["audio_kind"] == "soundfont":
            continue
        x, sr = sf.read(str(root / c["audio"]))
        assert sr == 11025 and len(x) == 4 * 11025
        rms_db = 20 * np.log10(np.sqrt(np.mean(x**2)))
        assert abs(rms_db - c["audio_source"]["rms_dbfs"]) < 1.5  # PCM16 and the fades


def test_mix_option_is_checked() -> None:
    from avsep.train.dataset.build import parse_mix

    assert parse_mix("recordings=2,soundfont=1") == {"recordings": 2.0, "soundfont": 1.0}
    with pytest.raises(InputError, match="--mix"):
        parse_mix("recordings=x")
    with pytest.raises(InputError, match="unknown: synth"):
        parse_mix("synth=1")


@needs_toolchain
def test_a_build_makes_other_from_instruments_outside_the_11(tmp_path: Path, cache_dir: Path) -> None:
    from tests.train.real_material import write_notes, write_recordings

    audio = tmp_path / "audio"
    write_recordings(audio / "orchestra" / "viola", 6, 8.0)
    write_notes(audio / "orchestra" / "banjo", "banjo", range(50, 62))
    summary = small_real_build(tmp_path / "ds", cache_dir, "violin,other", [audio], hours=0.03)
    minutes = summary["sources_per_class"]["other"]["minutes"]
    assert minutes["recorded"] > 0 and minutes["sampled"] == 0  # a banjo's notes make no "other" melody
    clips = _clips(tmp_path / "ds")
    assert {c["label"] for c in clips} == {"violin", "other"}
    # no photos given: "other" is drawn from clipart and emoji of instruments outside the 11
    assert {c["picture"].split(":")[0] for c in clips if c["label"] == "other"} <= {"openclipart", "emoji"}
    assert set(read_index(tmp_path / "ds" / "train.csv").classes) == {"other", "violin"}
