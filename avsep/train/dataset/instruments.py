"""The instrument classes of the synthetic set: General MIDI programs, ranges, playing style.

The class names are the 11 of the MUSIC dataset (Zhao et al., "The Sound of Pixels"), spelled
as its directory names, so an index built here and the real MUSIC index share labels, plus
:data:`OTHER`: every instrument outside them, one class, so a model can be told "not one of
the 11" (issue 28). A build makes ``other`` only when asked (``--instruments ...,other``).
"""

from __future__ import annotations

from dataclasses import dataclass

from avsep.models.guide import OTHER


@dataclass(frozen=True)
class Program:
    """One General MIDI program (0-based) and the sounding MIDI range it is played in."""

    program: int
    low: int
    high: int
    name: str


@dataclass(frozen=True)
class InstrumentSpec:
    name: str
    #: candidates; each clip picks one (saxophone: soprano/alto/tenor/baritone, each with its range)
    programs: tuple[Program, ...]
    #: vibrato depth range in cents (0, 0: none), done with pitch bend
    vibrato_cents: tuple[float, float] = (0.0, 0.0)
    #: glide into notes with pitch bend (erhu)
    portamento: bool = False
    #: note lengths are meaningless (struck / plucked): no articulation shortening, no CC11 swells
    plucked: bool = False
    #: long notes are played as a roll of repeated strokes (xylophone)
    roll: bool = False
    #: multiplies the seconds a melody's median note lasts (tuba plays slower)
    tempo_scale: float = 1.0
    #: size of the instrument relative to the height of the player silhouette
    relative_size: float = 0.4
    #: where the instrument sits on the player: (x, y) as fractions of the player's height,
    #: x from the body's centre line, y from the top of the head
    anchor: tuple[float, float] = (0.0, 0.45)
    #: a polyphonic instrument's accompaniment under the melody: "oompah" (bass note, then a
    #: chord: an accordion's left hand) or "arpeggio" (a guitar's picked chords); "" = none
    accompaniment: str = ""
    #: detune range in cents of a second reed sounding with the first (an accordion's musette
    #: tuning beats), played by the sampler in half of the clips; (0, 0) = one reed
    reed_detune_cents: tuple[float, float] = (0.0, 0.0)


_P = Program

SPECS: dict[str, InstrumentSpec] = {
    s.name: s
    for s in (
        InstrumentSpec(
            "accordion",
            (_P(21, 53, 86, "Accordion"),),
            relative_size=0.36,
            anchor=(0.0, 0.38),
            accompaniment="oompah",
            reed_detune_cents=(6.0, 22.0),
        ),
        InstrumentSpec(
            "acoustic_guitar",
            (_P(24, 40, 79, "Acoustic Guitar (nylon)"), _P(25, 40, 81, "Acoustic Guitar (steel)")),
            plucked=True,
            accompaniment="arpeggio",
            tempo_scale=0.95,
            relative_size=0.52,
            anchor=(0.02, 0.45),
        ),
        InstrumentSpec(
            "cello",
            (_P(42, 36, 74, "Cello"),),
            vibrato_cents=(12.0, 30.0),
            tempo_scale=1.1,
            relative_size=0.68,
            anchor=(0.0, 0.6),
        ),
        InstrumentSpec(
            "clarinet",
            (_P(71, 50, 89, "Clarinet"),),
            vibrato_cents=(0.0, 4.0),
            relative_size=0.38,
            anchor=(0.02, 0.36),
        ),
        InstrumentSpec(
            "erhu",
            # No General MIDI font has an erhu: Fiddle (110) or Violin (40), both played with
            # pitch-bend portamento and a wide vibrato in the erhu's range (D4-A6).
            (_P(110, 62, 93, "Fiddle (erhu stand-in)"), _P(40, 62, 93, "Violin (erhu stand-in)")),
            vibrato_cents=(25.0, 55.0),
            portamento=True,
            relative_size=0.5,
            anchor=(0.0, 0.5),
        ),
        InstrumentSpec(
            "flute",
            (_P(73, 60, 96, "Flute"),),
            vibrato_cents=(8.0, 22.0),
            tempo_scale=0.95,
            relative_size=0.42,
            anchor=(0.12, 0.16),
        ),
        InstrumentSpec(
            "saxophone",
            (
                _P(64, 56, 87, "Soprano Sax"),
                _P(65, 49, 81, "Alto Sax"),
                _P(66, 44, 76, "Tenor Sax"),
                _P(67, 36, 69, "Baritone Sax"),
            ),
            vibrato_cents=(6.0, 25.0),
            relative_size=0.44,
            anchor=(0.04, 0.42),
        ),
        InstrumentSpec(
            "trumpet",
            (_P(56, 54, 82, "Trumpet"),),
            vibrato_cents=(0.0, 12.0),
            relative_size=0.3,
            anchor=(0.1, 0.2),
        ),
        InstrumentSpec(
            "tuba",
            (_P(58, 28, 58, "Tuba"),),
            vibrato_cents=(0.0, 6.0),
            tempo_scale=1.3,
            relative_size=0.48,
            anchor=(0.02, 0.42),
        ),
        InstrumentSpec(
            "violin",
            (_P(40, 55, 93, "Violin"),),
            vibrato_cents=(12.0, 32.0),
            relative_size=0.34,
            anchor=(-0.06, 0.24),
        ),
        InstrumentSpec(
            "xylophone",
            (_P(13, 65, 98, "Xylophone"),),
            plucked=True,
            roll=True,
            tempo_scale=0.85,
            relative_size=0.6,
            anchor=(0.0, 0.6),
        ),
        InstrumentSpec(
            OTHER,
            # General MIDI instruments outside the 11: what a duet's "other" player may be
            (
                _P(0, 36, 96, "Acoustic Grand Piano"),
                _P(6, 41, 89, "Harpsichord"),
                _P(19, 36, 84, "Church Organ"),
                _P(46, 36, 91, "Harp"),
                _P(41, 48, 88, "Viola"),
                _P(43, 28, 60, "Contrabass"),
                _P(57, 40, 72, "Trombone"),
                _P(60, 41, 77, "French Horn"),
                _P(68, 58, 91, "Oboe"),
                _P(70, 34, 72, "Bassoon"),
                _P(105, 48, 84, "Banjo"),
                _P(104, 48, 84, "Sitar"),
                _P(27, 40, 84, "Electric Guitar (clean)"),
                _P(52, 48, 79, "Choir Aahs"),
                _P(22, 60, 84, "Harmonica"),
            ),
            vibrato_cents=(0.0, 15.0),
            relative_size=0.5,
            anchor=(0.0, 0.45),
        ),
    )
}

#: the 11 class names, in MUSIC's (alphabetical) order; a build's default
INSTRUMENTS: list[str] = sorted(n for n in SPECS if n != OTHER)
#: every class a build can make: the 11, then OTHER
CLASSES: list[str] = [*INSTRUMENTS, OTHER]
