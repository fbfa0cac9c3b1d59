"""Choices that several commands offer, defined once so they cannot drift apart."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path

from avsep.errors import InputError, check_one_of


class Mask(str, Enum):
    """How the boxes' predicted masks become the share of each mixture bin given to each box.

    ``binary`` thresholds each mask at 0.5 (the method); ``soft`` keeps each mask's value; both
    decide each box alone, so two boxes can claim one bin, or none. ``ratio`` divides each bin
    between the boxes in proportion to their masks squared (:func:`avsep.signal.dsp.sharpen`), so
    the boxes share every bin and their outputs add up to the mixture: right when the boxes hold
    every instrument that plays. ``capped`` divides
    only where the sum exceeds 1, leaving room for sound outside the boxes.
    """

    binary = "binary"
    soft = "soft"
    ratio = "ratio"
    capped = "capped"


#: the --mask help of every command that separates
MASK_HELP = (
    "How the boxes share the sound: binary (each mask at 0.5), soft (each mask's value), ratio (each bin "
    "divided between the boxes: the outputs add up to the mixture), capped (divided only where the boxes "
    "claim more than the bin)."
)

#: the values :class:`Mask` allows, for checks and messages
MASK_MODES = tuple(m.value for m in Mask)

#: The default for ``separate``, ``Separator`` and the evaluations: on the real clips the boxes
#: sharing each bin (ratio) beat each box deciding alone (soft, binary) and the capped share
#: (docs/results.md section 0); the method's binary masks stay one option away.
DEFAULT_MASK = Mask.ratio


class SameInstrument(str, Enum):
    """What to do when boxes' guides name the same instrument, so the network gives them one mask.

    ``off`` leaves the mask shared (each box gets the same part of every bin); ``motion``
    splits it by who moves when (:mod:`avsep.separation.same_instrument`): it needs the video's frames
    between the guide frames, so it reads the window's frames at up to 30 a second.
    """

    off = "off"
    motion = "motion"


#: the --same-instrument help of every command that separates
SAME_INSTRUMENT_HELP = (
    "Boxes whose pictures name the same instrument get the same mask: off (share it), motion (split it by "
    "which box moves when its sound plays; reads more frames)."
)

#: the values :class:`SameInstrument` allows, for checks and messages
SAME_INSTRUMENT_MODES = tuple(m.value for m in SameInstrument)

#: The default for ``separate``, ``Separator`` and the evaluations: off. On the real clips the
#: motion split left the different-instrument duets identical but gained only +0.2 dB on the one
#: video with 30 fps motion and lost 0.7 dB where the frames were 1 a second (docs/results.md
#: section 0).
DEFAULT_SAME_INSTRUMENT = SameInstrument.off


class GuideFrom(str, Enum):
    """What tells the model which instrument a box holds.

    ``names``: a box the user named with one of the model's classes (``--names``, a boxes file,
    the Python API) is guided by that class, the guide a label-trained model learned with; a box
    named ``other`` or with an instrument outside the classes takes what the other boxes leave;
    the other boxes are guided by their frames. ``frames``: every box by its frames, names only name files.
    Names the player finder prints in automatic mode are the frames' own guess and never steer.
    """

    names = "names"
    frames = "frames"


#: the --guide help of every command that separates
GUIDE_HELP = (
    "What tells the model the instrument of a box: names (a box named with one of the model's classes, by "
    "--names or a boxes file, is guided by that class; one named other or piano, voice... takes what the "
    "others leave; the rest by their frames) or frames (names only "
    "name the files)."
)

#: the values :class:`GuideFrom` allows, for checks and messages
GUIDE_MODES = tuple(m.value for m in GuideFrom)

#: The default for ``separate``, ``remix`` and ``Separator``: the user's word. With the true
#: class the shipped model scored +4.15 dB on 63 real duets against +2.32 dB with the frame
#: guide, which names erhu, tuba and clarinet players wrong (issue 28).
DEFAULT_GUIDE = GuideFrom.names

#: Whether a label-trained model over EfficientNet-Lite0 reads the boxes' pictures through the
#: bundled guide head (:mod:`avsep.models.guide_head`) rather than the ImageNet classes
#: gathered, and lets a box the head is unsure of take what the others leave. Chosen on duets
#: of held-out real recordings and photos (``python -m benchmarks.guide_separation``, val):
#: +4.29 dB against +2.03; with an outside player, +3.38 against +1.89 (plain ratio masks, then).
DEFAULT_GUIDE_HEAD = True

#: the sets of ``avsep evaluate-real``: FCSN mixtures, CLIPSep demos, music-solo duets of
#: different instruments and of one instrument twice (reported apart: a class guide alone
#: cannot tell two players of one instrument apart), and two times of one music-solo video side
#: by side (one instrument twice, with the video's motion: what ``--same-instrument motion`` reads)
REAL_SETS = ("fcsn", "clipsep", "duets", "duets-same", "duets-video")

#: the file names a batch takes for videos (in folders; and what ends a list after --names),
#: here so that the command line reads them without loading the pipeline
VIDEO_EXTENSIONS = {".mp4", ".mkv", ".webm", ".mov", ".avi", ".m4v", ".mpg", ".mpeg", ".flv", ".ts", ".wmv"}

#: The pictures ``info --preview`` writes, by the file's extension (as PIL names the formats):
#: a file gets the format its name says, so a viewer that trusts the name reads it.
PICTURE_FORMATS = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG"}


def picture_format(path: Path, option: str) -> str:
    """The format of the picture ``path`` names (:data:`PICTURE_FORMATS`); ``option`` names the
    option that gave it, for the message that refuses any other extension."""
    fmt = PICTURE_FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise InputError(f"{option} {path}: write the picture as {', '.join(PICTURE_FORMATS)}")
    return fmt


# -- the options of a separation and of a batch ---------------------------------------------------
#
# Built once by the command line (cli/app.py, from its flags) and by the Python API (Separator,
# separate_many, from its keywords), checked once when built, with every default written here.

#: The overlap of consecutive windows unless a user picks another (``--overlap``); ``avsep info``
#: looks for players at the guide frames of a separation with this overlap.
DEFAULT_OVERLAP = 0.25
#: Where a batch writes, and the path of each output under it.
DEFAULT_OUT = "separated"
DEFAULT_TEMPLATE = "{stem}/{name}.{ext}"
#: 16-bit WAV: what every player reads.
DEFAULT_FORMAT = "pcm16"
DEFAULT_DEVICE = "auto"
#: Windows per network batch. Batch 1 peaked about 300 MB lower at 720p, but on the shared 2-core
#: machine it ran the PCN up to 6x slower per window (docs/experiments/2026-12-06-speed-round-2.md).
DEFAULT_BATCH_SIZE = 4

#: The command line's flag of each option, for messages (an option's Python name is its field's).
FLAGS = {
    "model": "--model",
    "device": "--device",
    "mask": "--mask",
    "same_instrument": "--same-instrument",
    "guide": "--guide",
    "overlap": "--overlap",
    "batch_size": "--batch-size",
    "backbone_weights": "--backbone-weights",
    "names": "--names",
    "out_dir": "-o",
    "template": "--output-template",
    "source": "--source",
    "fmt": "--format",
    "bitrate": "--bitrate",
    "sample_rate": "--sample-rate",
    "start": "--start",
    "end": "--end",
    "residual": "--residual",
    "mono": "--mono",
    "skip_existing": "--skip-existing",
    "overwrite": "--overwrite",
    "audio_stream": "--audio-stream",
    "video_stream": "--video-stream",
    "jobs": "--jobs",
    "ray": "--ray",
    "gpus_per_job": "--gpus-per-job",
    "report": "--report",
}

_NAMED_ONLY = object()


@dataclass(frozen=True)
class Wording:
    """How a message names an option: by its keyword for the Python API (``sample_rate=10``),
    by its flag for the command line (``--sample-rate 10``), so that each reader is told in the
    words they typed."""

    flags: bool = False

    def __call__(self, field: str, value: object = _NAMED_ONLY, *, quoted: bool = False) -> str:
        """``field`` named alone, or with the ``value`` it was given (``quoted``: the command
        line shows the value's repr, as for a string that may hold spaces)."""
        if not self.flags:
            return field if value is _NAMED_ONLY else f"{field}={value!r}"
        flag = FLAGS[field]
        if value is _NAMED_ONLY:
            return flag
        return f"{flag} {value!r}" if quoted else f"{flag} {value}"


#: The two wordings: the Python API's (the default of every options object) and the CLI's.
API = Wording()
COMMAND_LINE = Wording(flags=True)


#: The bit rates ``--bitrate`` takes, in bits per second.
BITRATE_RANGE = (32_000, 512_000)


def parse_bitrate(value: int | str, say: Wording = API) -> int:
    """``192k``, ``192000`` or ``192000.0`` -> 192000 bits per second, within :data:`BITRATE_RANGE`."""
    text = str(value).strip().lower()
    scale = 1000 if text.endswith("k") else 1
    try:
        bits = round(float(text.removesuffix("k")) * scale)
    except ValueError:
        bits = -1
    low, high = BITRATE_RANGE
    if not low <= bits <= high:
        raise InputError(
            f"{say('bitrate', value, quoted=True)}: give bits per second "
            f"from {low // 1000}k to {high // 1000}k, e.g. 192k"
        )
    return bits


@dataclass(frozen=True)
class SeparationOptions:
    """How a :class:`~avsep.separation.separator.Separator` separates (``avsep separate`` and
    ``avsep remix`` take the same flags); checked when built."""

    model: str | Path | None = None
    device: str = DEFAULT_DEVICE
    mask: str = DEFAULT_MASK.value
    same_instrument: str = DEFAULT_SAME_INSTRUMENT.value
    overlap: float = DEFAULT_OVERLAP
    batch_size: int = DEFAULT_BATCH_SIZE
    backbone_weights: str | Path | None = None
    guide: str = DEFAULT_GUIDE.value
    wording: Wording = field(default=API, compare=False, repr=False)

    def __post_init__(self) -> None:
        say = self.wording
        check_one_of(say("mask"), self.mask, MASK_MODES)
        check_one_of(say("guide"), self.guide, GUIDE_MODES)
        check_one_of(say("same_instrument"), self.same_instrument, SAME_INSTRUMENT_MODES)
        if not 0.0 <= self.overlap <= 0.9:
            raise InputError(f"{say('overlap')} must be between 0 and 0.9, got {self.overlap}")
        if self.batch_size < 1:
            raise InputError(f"{say('batch_size')} must be at least 1, got {self.batch_size}")


@dataclass(frozen=True)
class BatchOptions:
    """What a batch of ``avsep separate`` (or ``Separator.separate_many``) writes, where, and on
    what; the rules that need neither the videos nor the boxes are checked when it is built
    (:func:`avsep.batch.checks.check_options` checks the rest, before any video is read).

    ``out_dir`` ``"-"`` writes one source (``source``: 1-based, or its output name: ``"violin"``)
    of one video to stdout. ``names``:
    one output name per box. ``template``: each output's path under ``out_dir`` (fields
    ``{stem}`` ``{name}`` ``{index}`` ``{ext}``). ``fmt``: pcm16, pcm24, float (WAV), flac or
    flac24, or the compressed mp3, m4a, opus (at ``bitrate``). ``sample_rate`` None keeps the
    input's rate; ``mono`` downmixes the video's channels; ``residual`` also writes the mixture
    minus the sources. Existing outputs fail a video unless ``skip_existing`` (made from this
    video with these options: skipped) or ``overwrite``.
    ``jobs`` > 1 runs that many worker processes, ``ray`` (``"auto"`` or an address) runs on a
    Ray cluster with ``gpus_per_job`` GPUs per video; ``report`` writes a JSON report.
    """

    names: tuple[str, ...] | None = None
    out_dir: str | Path = DEFAULT_OUT
    template: str = DEFAULT_TEMPLATE
    source: int | str | None = None
    fmt: str = DEFAULT_FORMAT
    #: bits per second of mp3, m4a and opus (``192k``, ``192000``); None: the format's default
    bitrate: int | str | None = None
    sample_rate: int | None = None
    residual: bool = False
    mono: bool = False
    skip_existing: bool = False
    overwrite: bool = False
    audio_stream: int | None = None
    video_stream: int | None = None
    #: the part of each video to separate (``--start``/``--end``: seconds or ``M:SS``; None: from
    #: its start, to its end), checked by :class:`avsep.timerange.TimeRange`
    start: float | str | None = None
    end: float | str | None = None
    jobs: int = 1
    ray: str | None = None
    gpus_per_job: float = 0.0
    report: str | Path | None = None
    wording: Wording = field(default=API, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.names is not None:
            object.__setattr__(self, "names", tuple(self.names) or None)
        say = self.wording
        if isinstance(self.source, str) and self.source.strip().isdigit():  # the CLI gives text
            object.__setattr__(self, "source", int(self.source))
        if self.bitrate is not None:
            object.__setattr__(self, "bitrate", parse_bitrate(self.bitrate, say))
        if self.sample_rate is not None and not 1000 <= self.sample_rate <= 384000:
            raise InputError(f"{say('sample_rate', self.sample_rate)}: use a rate between 1000 and 384000 Hz")
        if self.skip_existing and self.overwrite:
            raise InputError(f"{say('skip_existing')} and {say('overwrite')} contradict each other; pick one")
        if self.jobs < 1:
            raise InputError(f"{say('jobs', self.jobs)}: give 1 or more")
        if self.gpus_per_job < 0 or (self.gpus_per_job and self.ray is None):
            raise InputError(
                f"{say('gpus_per_job', self.gpus_per_job)}: give 0 or more, with {say('ray')} "
                f"(local runs use {say('device')})"
            )
        if self.to_stdout and (self.jobs > 1 or self.ray is not None):
            raise InputError(
                f"{say('out_dir', '-')} streams one video; {say('jobs')} and {say('ray')} need an output folder"
            )
        if not self.to_stdout and self.source is not None:
            raise InputError(f"{say('source')} only applies with {say('out_dir', '-')} (stdout)")

    @property
    def to_stdout(self) -> bool:
        """Whether the one output goes to stdout (``-o -``) instead of files."""
        return str(self.out_dir) == "-"

    @property
    def spread(self) -> bool:
        """Whether the videos run elsewhere than in this process (workers or Ray)."""
        return self.jobs > 1 or self.ray is not None
