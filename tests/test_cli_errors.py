"""Issue 6: hostile and broken inputs. Each case is generated here and must end in one clear
line on stderr naming the file, the documented exit code (docs/errors.md), no traceback, no
partial output; odd-but-valid inputs must simply work.
"""

from __future__ import annotations

import errno
import os
import shlex
import shutil
import signal
import subprocess
import time

import numpy as np
import pytest
import soundfile as sf
import torch
from typer.testing import CliRunner

from avsep.cli.app import app
from tests.cli_support import GREEN, SINGLE_THREAD, SMALL, YELLOW, cli, cli_command, cli_process, error_line, wavs
from tests.media import make_tone_wav, truncated_copy

pytestmark = pytest.mark.usefixtures("fast_model")


def fails(*args: object, code: int, says: str) -> str:
    """Run a command that must fail with ``code`` and one error line containing ``says``."""
    line = error_line(cli(*args, code=code))
    assert says in line, line
    return line


# -- unusable inputs: exit 2, one line naming the file, nothing written ----------------------------


def _no_audio(tmp_path, shared_video):
    return shared_video("silent-film.mp4", audio=False, **SMALL)


def _audio_only(tmp_path, shared_video):
    return make_tone_wav(tmp_path / "song.wav", duration=1.0)


def _no_video_stream(tmp_path, shared_video):
    return shared_video("radio.mp4", video=False, **SMALL)


def _empty(tmp_path, shared_video):
    path = tmp_path / "empty.mp4"
    path.touch()
    return path


def _truncated(tmp_path, shared_video):
    return truncated_copy(shared_video("clip.mp4", **SMALL), tmp_path / "cut.mp4", 0.5)


def _random_bytes(tmp_path, shared_video):
    path = tmp_path / "noise.mp4"
    path.write_bytes(np.random.default_rng(0).integers(0, 256, 5000, dtype=np.uint8).tobytes())
    return path


def _directory(tmp_path, shared_video):
    path = tmp_path / "folder.mp4"
    path.mkdir()
    return path


def _missing(tmp_path, shared_video):
    return tmp_path / "nowhere.mp4"


UNUSABLE = {
    "no audio stream": (_no_audio, "no audio stream"),
    "audio-only file": (_audio_only, "no video stream"),
    "no video stream": (_no_video_stream, "no video stream"),
    "empty file": (_empty, "empty file (0 bytes)"),
    "truncated mp4": (_truncated, "may be truncated or corrupt"),
    "random bytes": (_random_bytes, "not a video or audio file"),
    "directory named like a video": (_directory, "is a directory"),
    "missing file": (_missing, "no such file"),
}


@pytest.mark.parametrize("case", UNUSABLE, ids=list(UNUSABLE))
def test_unusable_input(case, tmp_path, shared_video):
    make, message = UNUSABLE[case]
    video = make(tmp_path, shared_video)
    line = fails("separate", video, "-o", tmp_path / "out", code=2, says=message)
    assert line.startswith(f"error: {video}")
    assert not (tmp_path / "out").exists()


def test_unreadable_file(shared_video, tmp_path, monkeypatch):
    """Root reads anything whatever its mode, so the permission check itself is made to fail."""
    video = tmp_path / "locked.mp4"
    shutil.copy(shared_video("clip.mp4", **SMALL), video)
    video.chmod(0)
    access = os.access
    monkeypatch.setattr(os, "access", lambda p, mode, **kw: False if str(p) == str(video) else access(p, mode, **kw))
    fails("separate", video, "-o", tmp_path / "out", code=2, says="permission denied; make the file readable")
    assert not (tmp_path / "out").exists()


def test_failures_do_not_stop_a_batch(tmp_path, shared_video):
    bad = [make(tmp_path, shared_video) for make, _ in UNUSABLE.values()]
    good = shared_video("clip.mp4", **SMALL)
    result = cli("separate", *bad[:4], good, *bad[4:], "-o", tmp_path / "out", code=2)
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == len(bad)
    assert sorted(wavs(tmp_path / "out")) == [f"{good.stem}/source1.wav", f"{good.stem}/source2.wav"]


def test_debug_shows_the_traceback(tmp_path):
    result = CliRunner().invoke(app, ["separate", str(tmp_path / "nowhere.mp4"), "--debug", "-o", str(tmp_path)])
    assert result.exit_code == 2
    assert "Traceback" in result.stderr and "InputError" in result.stderr
    assert error_line(result).endswith("nowhere.mp4: no such file; check the path")


def test_debug_shows_the_traceback_of_a_video_failing_mid_batch(tmp_path, shared_video):
    """A video that fails while it is separated (not while the inputs are listed) prints its
    traceback with --debug, and the batch goes on to the next video."""
    bad, good = _truncated(tmp_path, shared_video), shared_video("clip.mp4", **SMALL)
    args = ["separate", str(bad), str(good), "-o", str(tmp_path / "out"), "-q", "--debug"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2, result.stderr
    assert "Traceback" in result.stderr and "InputError" in result.stderr
    assert error_line(result).startswith(f"error: {bad}")
    assert sorted(wavs(tmp_path / "out")) == [f"{good.stem}/source1.wav", f"{good.stem}/source2.wav"]


def test_an_unexpected_error_mid_batch_asks_for_a_report(tmp_path, shared_video, monkeypatch):
    from avsep.batch.job import BatchJob

    def broken(*_args, **_kwargs):
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr(BatchJob, "separate_one", broken)
    video = shared_video("clip.mp4", **SMALL)
    line = fails("separate", video, "-o", tmp_path / "out", "--report", tmp_path / "r.json", code=1, says=str(video))
    assert line.endswith("unexpected ZeroDivisionError: division by zero (please report it; --debug shows where)")
    assert "failed" in (tmp_path / "r.json").read_text() and "division by zero" in (tmp_path / "r.json").read_text()


def test_markup_like_paths_are_printed_verbatim(tmp_path):
    video = tmp_path / "take [bold]1[/].mp4"
    assert f"{video}: no such file" in fails("separate", video, "-o", tmp_path, code=2, says="[bold]")


# -- odd but valid inputs work ---------------------------------------------------------------------


def _durations_near(folder, seconds):
    """Every output lasts ``seconds``, give or take AAC's priming (1024 samples, 0.13 s at 8 kHz)."""
    durations = [i.duration for i in wavs(folder).values()]
    return durations and all(abs(d - seconds) < 0.15 for d in durations)


def test_half_second_video_is_padded_and_works(shared_video, tmp_path):
    video = shared_video("short.mp4", duration=0.5, width=64, height=48)
    cli("separate", video, "-o", tmp_path)
    assert _durations_near(tmp_path, 0.5)


def test_silent_audio_gives_silent_files_and_a_warning(shared_video, tmp_path):
    video = shared_video("mute.mp4", tones=(), panels=(GREEN, YELLOW), **SMALL)  # players found
    result = cli("separate", video, "-o", tmp_path, "-q")
    assert result.stderr.splitlines() == [
        f"warning: {video}: the audio is silent, so the separated files are silent too"
    ]
    for wav in tmp_path.rglob("*.wav"):
        assert not sf.read(str(wav))[0].any()


@pytest.mark.parametrize(
    "spec",
    [
        {"name": "six.mp4", "channels": 6},
        {"name": "eight.mkv", "channels": 8, "audio_codec": "pcm_s16le"},
        {"name": "low.mp4", "sample_rate": 8000},
        {"name": "high.mp4", "sample_rate": 96000},
        {"name": "vfr.mp4", "frame_times": [0, 0.04, 0.5, 0.55, 1.3, 2.0, 2.02, 2.9]},
        {"name": "rotated.mp4", "rotate": 90, "width": 48, "height": 64},
    ],
    ids=["6ch", "8ch", "8kHz", "96kHz", "vfr", "rotated"],
)
def test_unusual_but_valid_inputs(shared_video, tmp_path, spec):
    kwargs = {**SMALL, **spec}
    video = shared_video(kwargs.pop("name"), **kwargs)
    cli("separate", video, "-o", tmp_path)
    out = wavs(tmp_path)
    assert len(out) == 2
    assert {i.samplerate for i in out.values()} == {spec.get("sample_rate", 44100)}
    assert _durations_near(tmp_path, 3.0)


def test_rotated_video_boxes_are_in_displayed_pixels(shared_video, tmp_path, monkeypatch):
    """Displayed 48x64 (coded 64x48, turned 90°): left half red, right half blue."""
    from avsep.separation.separator import Separator

    video = shared_video("portrait.mp4", rotate=90, duration=1.0, width=48, height=64)
    assert "48x64 (displayed), 10 fps, rotated 90°" in cli("info", video).stdout
    crops = []
    guide = Separator.guide
    monkeypatch.setattr(Separator, "guide", lambda self, c, memo=None: crops.append(c) or guide(self, c, memo))
    cli("separate", video, "--boxes", "0,0,24,64", "24,0,48,64", "-o", tmp_path)
    colours = np.concatenate(crops).mean(axis=(0, 2, 3, 4))  # [boxes, 3]
    np.testing.assert_allclose(colours, [[255, 0, 0], [0, 0, 255]], atol=25)


def test_path_with_spaces_and_non_ascii(shared_video, tmp_path):
    folder = tmp_path / "my clips"
    folder.mkdir()
    video = folder / "dúo violín – toma 1.mp4"
    shutil.copy(shared_video("clip.mp4", **SMALL), video)
    cli("separate", video, "-o", tmp_path / "salida ñ", "--names", "violín", "flûte")
    assert sorted(wavs(tmp_path / "salida ñ")) == [f"{video.stem}/flûte.wav", f"{video.stem}/violín.wav"]


# -- bad boxes and options: exit 2 before anything is decoded ---------------------------------------


@pytest.mark.parametrize(
    ("boxes", "message"),
    [
        (["100,100,200,200"], "lies outside the 64x48 frame"),
        (["30,0,10,48"], "inverted (need x0 < x1 and y0 < y1)"),
        (["10,10,10,40"], "zero-area"),
        (["a,b,c,d"], "not numbers"),
        (["1,2,3"], "expected 4 numbers x0,y0,x1,y1, got 3"),
        (["1,2,3,4,5"], "got 5"),
        ([f"{i},0,{i + 5},40" for i in range(0, 45, 5)], "9 boxes given; at most 8"),
    ],
    ids=["outside", "inverted", "zero-area", "non-numeric", "three numbers", "five numbers", "nine boxes"],
)
def test_bad_boxes(shared_video, tmp_path, boxes, message):
    fails("separate", shared_video("clip.mp4", **SMALL), "--boxes", *boxes, "-o", tmp_path, code=2, says=message)
    assert wavs(tmp_path) == {}


def test_box_a_few_pixels_outside_is_clipped(shared_video, tmp_path):
    cli("separate", shared_video("clip.mp4", **SMALL), "--boxes", "-3,-2,32,50", "32,0,68,48", "-o", tmp_path)
    assert len(wavs(tmp_path)) == 2


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--overlap", "0.95"], "--overlap must be between 0 and 0.9"),
        (["--sample-rate", "10"], "use a rate between 1000 and 384000 Hz"),
        (["--sources", "0"], "--sources 0: give at least 1"),
        (["--names", "a", "b", "c", "--sources", "2"], "--names gives 3 names for 2 boxes"),
        (["--names", "a", "a"], "output names must differ"),
        (["--names", "../up", "b"], "is not usable as a file name"),
        (["--output-template", "{stem}/{nope}.wav"], "unknown field 'nope'"),
        (["--output-template", "{stem}.wav"], "gives the same path to two outputs"),
        (["--skip-existing", "--overwrite"], "contradict each other"),
        (["--source", "1"], "--source only applies with -o -"),
    ],
    ids=lambda v: v if isinstance(v, str) else " ".join(v),
)
def test_bad_options(shared_video, tmp_path, args, message):
    fails("separate", shared_video("clip.mp4", **SMALL), *args, "-o", tmp_path, code=2, says=message)
    assert wavs(tmp_path) == {}


# -- outputs: exists, not writable, disk full -----------------------------------------------------


def test_existing_output_is_refused_unless_asked(shared_video, tmp_path):
    video = shared_video("clip.mp4", **SMALL)
    target = tmp_path / video.stem / "source1.wav"
    precious = make_tone_wav(target, duration=0.1).read_bytes()
    fails(
        "separate",
        video,
        "-o",
        tmp_path,
        code=2,
        says="already exists; pass --overwrite to replace it or --skip-existing",
    )
    assert target.read_bytes() == precious and sorted(wavs(tmp_path)) == [f"{video.stem}/source1.wav"]
    # --skip-existing skips only outputs provably the video's own (a record beside them)
    fails("separate", video, "-o", tmp_path, "--skip-existing", code=2, says="no record says which video made them")
    cli("separate", video, "-o", tmp_path, "--overwrite")
    assert len(wavs(tmp_path)) == 2 and sf.info(str(target)).samplerate == 44100


def test_same_name_twice_in_a_batch(shared_video, tmp_path):
    """take1/clip.mp4 and take2/clip.mp4 map to the same place: the batch is refused before any work."""
    for take in ("take1", "take2"):
        (tmp_path / take).mkdir()
        shutil.copy(shared_video("clip.mp4", **SMALL), tmp_path / take / "clip.mp4")
    fails(
        "separate",
        tmp_path / "take1",
        tmp_path / "take2",
        "-o",
        tmp_path / "out",
        "--overwrite",
        code=2,
        says=f"with those of {tmp_path / 'take1' / 'clip.mp4'} in this batch (same name); put their folder in the path",
    )
    assert not (tmp_path / "out").exists()
    given = [tmp_path / "take1" / "clip.mp4", tmp_path / "take2" / "clip.mp4"]  # as files: no tree to mirror
    cli("separate", *given, "-o", tmp_path / "both", "--output-template", "{parent}/{stem}/{name}.{ext}", "-q")
    assert sorted(wavs(tmp_path / "both")) == [f"{t}/clip/source{i}.wav" for t in ("take1", "take2") for i in (1, 2)]


def test_output_folder_not_writable(shared_video, tmp_path, monkeypatch):
    """Root writes anywhere, so the folder's refusal is simulated where the writer asks for it."""
    import avsep.io.wav

    def refuse(*args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(avsep.io.wav.tempfile, "mkstemp", refuse)
    fails(
        "separate",
        shared_video("clip.mp4", **SMALL),
        "-o",
        tmp_path,
        code=1,
        says="permission denied; choose a folder you can write to",
    )
    assert wavs(tmp_path) == {}


#: How a folder refuses new files, as root sees it too: a read-only mount (EROFS, when avsep
#: makes the folder), an immutable folder (``chattr +i``: EPERM), a folder without write
#: permission (EACCES), a pseudo file system (``-o /proc/x``: mkdir finds no parent, ENOENT).
REFUSALS = [(errno.EROFS, False), (errno.EPERM, True), (errno.EACCES, True), (errno.ENOENT, False)]

#: Every command that writes outputs, with ``{ro}`` for the folder that refuses them.
WRITERS = {
    "separate": ["separate", "{video}", "-b", "0,0,32,48", "32,0,64,48", "-o", "{ro}", "-q"],
    "report": ["separate", "{video}", "-b", "0,0,32,48", "-o", "{tmp}/out", "--report", "{ro}/r.json", "-q"],
    "remix": ["remix", "{video}", "-b", "0,0,32,48", "32,0,64,48", "-o", "{ro}/mixed.mp4", "-q"],
    "locate": ["locate", "{video}", "-b", "0,0,32,48", "32,0,64,48", "-o", "{ro}", "-q"],
    "preview": ["info", "{video}", "-b", "0,0,32,48", "--preview", "{ro}/p.png", "-q"],
}


@pytest.mark.parametrize("command", WRITERS)
@pytest.mark.parametrize(("code", "exists"), REFUSALS, ids=[errno.errorcode[c] for c, _ in REFUSALS])
def test_a_folder_that_refuses_files_is_one_line(command, code, exists, shared_video, tmp_path, monkeypatch):
    """Root writes anywhere, so the refusal is simulated in the system calls: making a folder
    under ``ro`` and creating a file there (claims, temporary files) fail with ``code``."""
    ro = tmp_path / "ro"
    if exists:
        ro.mkdir()
    mkdir, open_ = os.mkdir, os.open

    def refuse(call):
        def refused(path, *args, **kwargs):
            if str(path).startswith(str(ro)):
                raise OSError(code, os.strerror(code), str(path))
            return call(path, *args, **kwargs)

        return refused

    monkeypatch.setattr(os, "mkdir", refuse(mkdir))
    monkeypatch.setattr(os, "open", refuse(open_))
    video = shared_video("clip.mp4", **SMALL)
    args = [a.format(video=video, ro=ro, tmp=tmp_path) for a in WRITERS[command]]
    line = fails(*args, code=1, says=f"cannot write {ro}")
    assert line.endswith(f"{os.strerror(code).lower()}; choose a folder you can write to"), line
    assert not ro.exists() or not any(ro.rglob("*"))
    assert not (tmp_path / "out").exists()  # an unwritable report stops the batch before any work


def test_disk_full_leaves_nothing(shared_video, tmp_path, monkeypatch):
    """ENOSPC after the WAV headers: both outputs of the video disappear, temporaries included."""
    fdopen = os.fdopen

    class FillingDisk:
        writes = 0

        def __init__(self, handle):
            self._handle = handle

        def write(self, data):
            FillingDisk.writes += 1
            if FillingDisk.writes > 3:
                raise OSError(errno.ENOSPC, "No space left on device")
            return self._handle.write(data)

        def __getattr__(self, name):
            return getattr(self._handle, name)

    monkeypatch.setattr(os, "fdopen", lambda fd, *a, **k: FillingDisk(fdopen(fd, *a, **k)))
    fails(
        "separate",
        shared_video("clip.mp4", **SMALL),
        "-o",
        tmp_path,
        code=1,
        says="no space left on device; free some disk space",
    )
    assert wavs(tmp_path) == {}


# -- weights -----------------------------------------------------------------------------------------


def test_missing_weights_file(shared_video, tmp_path):
    fails(
        "separate",
        shared_video("clip.mp4", **SMALL),
        "--model",
        tmp_path / "gone.pt",
        "-o",
        tmp_path,
        code=1,
        says="model file not found",
    )


def test_weights_with_wrong_sha256_are_refused(shared_video, tiny_weights, tmp_path, monkeypatch):
    (original,) = tiny_weights.glob("*.pt")
    payload = torch.load(original, weights_only=True)
    first = next(iter(payload["state_dict"]))
    payload["state_dict"][first] = payload["state_dict"][first] + 1
    folder = tmp_path / "weights"
    folder.mkdir()
    torch.save(payload, folder / original.name)
    # A bundled file is caught by its name's hash before it is unpickled ...
    monkeypatch.setenv("AVSEP_WEIGHTS_DIR", str(folder))
    fails(
        "separate",
        shared_video("clip.mp4", **SMALL),
        "-o",
        tmp_path / "out",
        code=1,
        says=f"file name says sha256 {original.name[-11:-3]}… but the file's sha256 is",
    )
    assert not (tmp_path / "out").exists()
    # ... any other file by the hash of the weights it records.
    renamed = (folder / original.name).rename(folder / "edited.pt")
    fails(
        "separate",
        shared_video("clip.mp4", **SMALL),
        "--model",
        renamed,
        "-o",
        tmp_path / "out",
        code=1,
        says="sha256 of the weights does not match the recorded hash",
    )
    assert not (tmp_path / "out").exists()


# -- signals and pipes: real processes ----------------------------------------------------------------


@pytest.mark.slow
def test_ctrl_c_during_a_batch(shared_video, tiny_weights, tmp_path):
    """SIGINT once the first video's files exist: they stay, the second's temporaries go, exit 130."""
    first = shared_video("clip.mp4", **SMALL)
    # Long enough (about 60 windows) that SIGINT always lands while it is being separated.
    second = shared_video("long.mp4", duration=360.0, sample_rate=8000, channels=1, width=64, height=48, fps=1)
    out = tmp_path / "out"
    done = [out / first.stem / "source1.wav", out / first.stem / "source2.wav"]
    process = cli_process(
        "separate",
        first,
        second,
        "-o",
        out,
        env={"AVSEP_WEIGHTS_DIR": str(tiny_weights)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )

    def second_started() -> bool:  # its temporaries exist: the first video is wholly behind us
        return any((out / second.stem).glob(".*.tmp"))

    deadline = time.monotonic() + 120
    while not (all(p.exists() for p in done) and second_started()) and process.poll() is None:
        assert time.monotonic() < deadline, "the second video never started"
        time.sleep(0.02)
    assert process.poll() is None, "the batch ended before the second video's temporaries were seen"
    process.send_signal(signal.SIGINT)
    stderr = process.communicate(timeout=60)[1].decode()
    assert process.returncode == 130, f"SIGINT sent while the second video ran, yet: {stderr}"
    assert "Traceback" not in stderr
    assert f"interrupted while separating {second}" in stderr
    assert "the 2 file(s) of the 1 finished video(s) were kept" in stderr  # files counted as files
    assert sorted(wavs(out)) == [f"{first.stem}/source1.wav", f"{first.stem}/source2.wav"]
    assert [p.name for p in out.iterdir()] == [first.stem]  # no empty folder left for the second


def test_ctrl_c_while_the_cli_imports(monkeypatch, capsys):
    """The entry point's own handler: an interrupt during ``import avsep.cli.app`` exits 130 quietly."""
    import sys

    import avsep.__main__ as entry
    from avsep.cli.reporting import EXIT_INTERRUPTED

    class Interrupting:
        """A meta-path finder that raises KeyboardInterrupt as the CLI module starts importing."""

        def find_spec(self, name, path=None, target=None):
            if name == "avsep.cli.app":
                raise KeyboardInterrupt
            return None

    monkeypatch.delitem(sys.modules, "avsep.cli.app")
    monkeypatch.setattr(sys, "meta_path", [Interrupting(), *sys.meta_path])
    with pytest.raises(SystemExit) as exit_info:
        entry.main()
    assert exit_info.value.code == EXIT_INTERRUPTED == 130
    assert capsys.readouterr().err == "interrupted\n"


@pytest.mark.slow
def test_stdout_closed_early(shared_video, tiny_weights):
    """``avsep separate x.mp4 -o - --source 1 | head -c 100``: quiet exit 141, no traceback.

    12 s: several windows, so the WAV goes out in several writes and one lands after ``head``
    left (a pipe may take a short file's single write whole)."""
    video = shared_video("clip.mp4", **{**SMALL, "duration": 12.0})
    command = shlex.join([*cli_command("separate", video, "-o", "-", "--source", "1", "-q")])
    done = subprocess.run(
        ["bash", "-o", "pipefail", "-c", f"{command} | head -c 100 | wc -c"],
        env={**os.environ, **SINGLE_THREAD, "AVSEP_WEIGHTS_DIR": str(tiny_weights)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.stdout.strip() == "100"
    assert done.returncode == 141, done.stderr
    assert "Traceback" not in done.stderr and "Error" not in done.stderr
    assert all(line.startswith("warning: ") for line in done.stderr.splitlines())


@pytest.mark.parametrize("command", ["separate", "preview", "remix"])
def test_a_folder_that_refuses_files_is_said_before_the_video_is_read(command, shared_video, tmp_path, monkeypatch):
    """An existing folder that takes no file (read-only, immutable) is found by a probe before any
    work: the preview's refusal came after the info and the player search, separate's after the
    model loaded."""
    import avsep.io.media

    ro = tmp_path / "ro"
    ro.mkdir()
    open_ = os.open

    def refused(path, *args, **kwargs):
        if str(path).startswith(str(ro)):
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(path))
        return open_(path, *args, **kwargs)

    def unread(*args, **kwargs):
        raise AssertionError("the video was read")

    monkeypatch.setattr(os, "open", refused)
    monkeypatch.setattr(avsep.io.media, "probe", unread)
    video = shared_video("clip.mp4", **SMALL)
    args = [a.format(video=video, ro=ro, tmp=tmp_path) for a in WRITERS[command]]
    fails(*args, code=1, says=f"cannot write {ro}")
