"""The Debian programs and files a build needs, found (or reported missing) up front."""

from __future__ import annotations

import importlib
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from avsep.errors import AvsepError
from avsep.train.extra import extra_missing

#: install.sh --train installs the same list (tests/test_packaging.py compares them).
APT_PACKAGES = (
    "fluidsynth",
    "fluid-soundfont-gm",
    "timgm6mb-soundfont",
    "musescore-general-soundfont-small",
    "openclipart-svg",
    "fonts-noto-color-emoji",
    "librsvg2-bin",
)
APT_LINE = (
    "sudo apt-get install --no-install-recommends "
    + " ".join(APT_PACKAGES)
    + " (from a checkout: bash install.sh --train)"
)


#: A font with this suffix is a timidity configuration of GUS patches (Debian's freepats:
#: /etc/timidity/freepats.cfg, recorded notes of other instruments than the soundfonts'), which
#: fluidsynth cannot read: timidity plays it (issue 28: more timbres of the weak classes).
TIMIDITY_CONFIG = ".cfg"


def played_by_timidity(font: Path) -> bool:
    """Whether the font file ``font`` is a :data:`TIMIDITY_CONFIG` (else fluidsynth plays it)."""
    return font.suffix.lower() == TIMIDITY_CONFIG


@dataclass(frozen=True)
class SoundFont:
    key: str
    path: Path
    package: str
    licence: str

    @property
    def player(self) -> str:
        """The program that renders MIDI through this font: ``fluidsynth`` or ``timidity``."""
        return "timidity" if played_by_timidity(self.path) else "fluidsynth"


#: every General MIDI font the build can use; it needs at least two of them
SOUNDFONTS: tuple[SoundFont, ...] = (
    SoundFont("fluidr3", Path("/usr/share/sounds/sf2/FluidR3_GM.sf2"), "fluid-soundfont-gm", "MIT"),
    SoundFont(
        "musescore",
        Path("/usr/share/sounds/sf3/MuseScore_General_Lite.sf3"),
        "musescore-general-soundfont-small",
        "MIT (parts public domain / CC0)",
    ),
    SoundFont("timgm6mb", Path("/usr/share/sounds/sf2/TimGM6mb.sf2"), "timgm6mb-soundfont", "GPL-2"),
    # optional (490 MB): the same font's uncompressed samples; its accordion and guitars are
    # recorded instruments played note by note, the closest a soundfont gets to real playing
    SoundFont(
        "musescore-full",
        Path("/usr/share/sounds/sf2/MuseScore_General_Full.sf2"),
        "musescore-general-soundfont-lossless",
        "MIT (parts public domain / CC0)",
    ),
)

OPENCLIPART_DIR = Path("/usr/share/openclipart/svg")
NOTO_EMOJI_FONT = Path("/usr/share/fonts/truetype/noto/NotoColorEmoji.ttf")
#: the one pixel size the bitmap emoji font can be rendered at
NOTO_EMOJI_SIZE = 109


@dataclass(frozen=True)
class Toolchain:
    fluidsynth: str
    rsvg_convert: str
    soundfonts: tuple[SoundFont, ...]
    openclipart_dir: Path
    emoji_font: Path
    #: the timidity program, where a font needs it (:attr:`SoundFont.player`)
    timidity: str | None = None

    def player(self, font: SoundFont) -> str:
        """The program found for ``font``'s :attr:`~SoundFont.player`."""
        program = self.timidity if font.player == "timidity" else self.fluidsynth
        assert program is not None  # check_toolchain found it
        return program


def _missing(what: str, package: str) -> AvsepError:
    return AvsepError(
        f"avsep data build needs {what} (Debian package {package}), which is missing; "
        f"install the build's packages with: {APT_LINE}"
    )


def check_toolchain(soundfonts: list[Path] | None = None) -> Toolchain:
    """Find fluidsynth, rsvg-convert, two or more installed soundfonts (or the ``soundfonts``
    given instead, one or more: .sf2/.sf3 files or timidity configurations), the clipart and
    the emoji font; timidity where a font needs it.

    Raises :class:`AvsepError` naming what is missing and the ``apt-get install`` line.
    """
    fluidsynth = shutil.which("fluidsynth")
    if fluidsynth is None:
        raise _missing("the fluidsynth program", "fluidsynth")
    rsvg = shutil.which("rsvg-convert")
    if rsvg is None:
        raise _missing("the rsvg-convert program", "librsvg2-bin")
    if soundfonts:
        fonts = []
        for p in dict.fromkeys(Path(p).resolve() for p in soundfonts):  # a font given twice renders once
            if not p.is_file():
                raise AvsepError(f"soundfont {p} does not exist; pass existing .sf2/.sf3 files or a timidity .cfg")
            fonts.append(SoundFont(p.stem.lower(), p, "user-supplied", "see the font's own licence"))
        found = tuple(fonts)
    else:
        found = tuple(f for f in SOUNDFONTS if f.path.is_file())
    if not soundfonts and len(found) < 2:  # the build's timbres: two fonts at least, unless chosen
        absent = [f for f in SOUNDFONTS if not f.path.is_file()]
        names = ", ".join(f"{f.path} ({f.package})" for f in absent)
        raise AvsepError(
            f"avsep data build needs at least two General MIDI soundfonts, found {len(found)} "
            f"(missing: {names}); install them with: {APT_LINE}"
        )
    if not (OPENCLIPART_DIR / "recreation" / "music").is_dir():
        raise _missing(f"the clipart in {OPENCLIPART_DIR}", "openclipart-svg")
    if not NOTO_EMOJI_FONT.is_file():
        raise _missing(f"the emoji font {NOTO_EMOJI_FONT}", "fonts-noto-color-emoji")
    timidity = shutil.which("timidity")
    if timidity is None and any(f.player == "timidity" for f in found):
        raise _missing("the timidity program (to play a .cfg font)", "timidity")
    return Toolchain(fluidsynth, rsvg, found, OPENCLIPART_DIR, NOTO_EMOJI_FONT, timidity)


def timidity_programs(config: Path) -> set[int]:
    """The General MIDI programs of bank 0 that a timidity configuration has patches for,
    following its ``source`` lines. Why: timidity plays a program the configuration lacks from
    its default configuration (Debian's points at FluidR3_GM) without a word, so a clip said
    to come from freepats would be a soundfont's."""
    programs: set[int] = set()
    bank: int | None = None
    for raw in config.read_text(encoding="utf-8", errors="replace").splitlines():
        words = raw.split("#", 1)[0].split()
        if not words:
            continue
        if words[0] == "source" and len(words) > 1:
            programs |= timidity_programs(config.parent / words[1])
        elif words[0] in ("bank", "drumset"):
            bank = int(words[1]) if words[0] == "bank" and len(words) > 1 and words[1].isdigit() else None
        elif bank == 0 and words[0].isdigit() and len(words) > 1:
            programs.add(int(words[0]))
    return programs


def check_python_packages() -> dict[str, str]:
    """The versions of music21 and mido (for the recipe); missing ones name the training extra."""
    versions: dict[str, str] = {}
    for name, attribute in (("music21", "__version__"), ("mido", "version_info")):
        try:
            module = importlib.import_module(name)
        except ImportError as e:
            raise extra_missing("avsep data build", [name]) from e
        versions[name] = str(getattr(module, attribute))
    return versions


def tool_version(exe: str) -> str:
    """First line of ``exe --version`` (for the recipe), or '' if it will not say."""
    try:
        out = subprocess.run([exe, "--version"], capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.SubprocessError):
        return ""
    text = (out.stdout or out.stderr).strip().splitlines()
    return text[0].strip() if text else ""
