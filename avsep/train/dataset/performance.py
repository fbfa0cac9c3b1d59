"""A melody played like a musician would, and written as MIDI.

:func:`arrange` turns a melody (:mod:`avsep.train.dataset.melodies`) into a :class:`Performance`
for one instrument: a segment of the clip's length, transposed into the instrument's range, at a
tempo set from the melody's note values, with rubato, timing jitter, phrase dynamics, accents,
articulation, pitch-bend vibrato and (erhu) pitch-bend portamento; :func:`accompany` adds a
second part; :func:`arrange_ensemble` plays several voices of one work together.
:func:`write_midi` writes performances back to back into one MIDI file so that one fluidsynth
run renders many clips."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from avsep.train.dataset.instruments import InstrumentSpec, Program
from avsep.train.dataset.melodies import FAMILY_OF_KEY, Melody, Performance


def _choose_shift(lo: int, hi: int, prog: Program, rng: np.random.Generator) -> int:
    centre = (prog.low + prog.high) / 2
    width = prog.high - prog.low
    shifts = np.arange(prog.low - lo, prog.high - hi + 1)
    if len(shifts) == 0:
        return int(round(centre - (lo + hi) / 2))
    mid = (lo + hi) / 2 + shifts
    w = np.exp(-0.5 * ((mid - centre) / (width / 5 + 1)) ** 2)
    return int(shifts[int(rng.choice(len(shifts), p=w / w.sum()))])


def _fold(p: int, prog: Program) -> int:
    while p < prog.low:
        p += 12
    while p > prog.high:
        p -= 12
    return p


def _choose_start(
    looped: list[tuple[float, float, int]],
    window_q: float,
    total_q: float,
    rng: np.random.Generator,
    voices: Sequence[Sequence[tuple[float, float, int]]] = (),
) -> float:
    """A start (in quarters) on a note onset whose ``window_q`` window is mostly sounding notes:
    the best of up to 6 random onsets, the first that covers 75 %. Given the ``voices`` of an
    ensemble (``looped`` then holds all their notes), the window must be covered in each of them,
    so that no part rests through most of it."""

    def covered(notes: Sequence[tuple[float, float, int]], cand: float) -> float:
        return sum(max(0.0, min(on + d, cand + window_q) - max(on, cand)) for on, d, _ in notes) / window_q

    starts = [on for on, _, _ in looped if on + window_q <= total_q] or [0.0]
    start_q, best = starts[0], -1.0
    for _ in range(6):
        cand = float(starts[int(rng.integers(len(starts)))])
        cov = min(covered(v, cand) for v in voices) if voices else covered(looped, cand)
        if cov > best:
            start_q, best = cand, cov
        if cov >= 0.75:
            break
    return start_q


def _timing(spq: float, rng: np.random.Generator) -> Callable[[float], float]:
    """Quarters -> seconds: a lead-in and rubato (a slow sine time warp, monotonic) at ``spq``
    seconds per quarter; an ensemble's parts share one."""
    lead = rng.uniform(0.0, 0.3)
    warp_p = rng.uniform(3.0, 9.0)
    warp_a = rng.uniform(0.0, 0.05) * warp_p / (2 * math.pi)
    warp_ph = rng.uniform(0, 2 * math.pi)

    def t_of(q: float) -> float:
        t = q * spq
        return lead + t + warp_a * (math.sin(2 * math.pi * t / warp_p + warp_ph) - math.sin(warp_ph))

    return t_of


def _notes(
    seg: Sequence[tuple[float, float, int]],
    t_of: Callable[[float], float],
    spec: InstrumentSpec,
    prog: Program,
    shift: int,
    clip_s: float,
    rng: np.random.Generator,
) -> list[tuple[float, float, int, int]]:
    """One player's notes (start, end, pitch, velocity) of ``seg`` (quarters from the clip's
    start): per-note timing jitter, articulation, phrase dynamics and accents on the beat."""
    artic = 0.98 if spec.plucked else rng.uniform(0.8, 0.97)
    base_vel = rng.uniform(58, 104)
    dyn_p = rng.uniform(3.0, 8.0)
    dyn_ph = rng.uniform(0, 2 * math.pi)
    dyn_a = rng.uniform(4, 16)
    out: list[tuple[float, float, int, int]] = []
    for k, (on, d, p) in enumerate(seg):
        s = max(0.0, t_of(on) + float(rng.normal(0, 0.008)))
        nxt = t_of(seg[k + 1][0]) if k + 1 < len(seg) else t_of(on + d)
        e = s + max(0.05, (t_of(on + d) - t_of(on)) * artic * rng.uniform(0.95, 1.0))
        e = min(e, nxt - 0.004) if k + 1 < len(seg) else e
        if out and s <= out[-1][0] + 0.02:
            s = out[-1][0] + 0.02
        if e <= s + 0.03:
            e = s + 0.05
        if s >= clip_s:
            break
        vel = base_vel + dyn_a * math.sin(2 * math.pi * s / dyn_p + dyn_ph)
        vel += 6 if abs(on - round(on)) < 1e-6 else 0  # on the beat
        vel += rng.normal(0, 5)
        out.append((s, min(e, clip_s + 0.5), _fold(p + shift, prog), int(np.clip(round(vel), 20, 127))))
    return out


def arrange(
    melody: Melody, spec: InstrumentSpec, prog: Program, clip_s: float, rng: np.random.Generator
) -> Performance:
    """A ``clip_s``-second performance of a segment of ``melody`` on ``prog``."""
    notes = list(melody.notes)
    fam = FAMILY_OF_KEY[melody.family]
    durs = np.array([d for _, d, _ in notes])
    median_q = float(np.median(durs))
    spq = rng.uniform(*fam.median_note_s) * spec.tempo_scale / median_q  # seconds per quarter
    spq = float(np.clip(spq, 0.12, 1.6))
    end_q = notes[-1][0] + notes[-1][1]
    # loop short tunes (with a beat of rest) until they outlast the clip
    period = end_q + 1.0
    reps = max(1, math.ceil((clip_s + 2.0) / (period * spq)))
    looped = [(on + r * period, d, p) for r in range(reps) for on, d, p in notes]
    total_q = period * reps - 1.0
    window_q = clip_s / spq
    start_q = _choose_start(looped, window_q, total_q, rng)
    seg = [(on - start_q, d, p) for on, d, p in looped if start_q <= on < start_q + window_q]
    pitches = [p for *_, p in seg]
    shift = _choose_shift(min(pitches), max(pitches), prog, rng)
    t_of = _timing(spq, rng)
    out = _notes(seg, t_of, spec, prog, shift, clip_s, rng)
    if spec.roll:
        out = _roll(out, rng)
    if spec.accompaniment and out:
        out = sorted(out + accompany(out, spec.accompaniment, prog, spq, clip_s, rng))
    perf = Performance(
        program=prog.program,
        bend_range=12 if spec.portamento else 2,
        notes=out,
        info={
            "melody": melody.id,
            "start_quarter": round(start_q, 4),
            "seconds_per_quarter": round(spq, 4),
            "transpose": shift,
            "program": prog.program,
        },
    )
    _add_bends(perf, spec, rng)
    if not spec.plucked:
        _add_expression(perf, clip_s, rng)
    return perf


def arrange_ensemble(
    parts: Sequence[tuple[Sequence[tuple[float, float, int]], InstrumentSpec, Program]],
    family: str,
    clip_s: float,
    rng: np.random.Generator,
) -> list[Performance] | None:
    """Voices of one work (notes in quarters) played together for ``clip_s`` seconds, one
    :class:`Performance` per ``(notes, spec, program)`` part: one tempo, one start and one rubato
    for all of them, each part moved by whole octaves into its instrument's range, so that the
    parts keep the work's harmony and its beat, as an ensemble's players do. Each player keeps
    their own timing jitter, dynamics, vibrato and expression. None when the work is shorter than
    the clip or a part has no note in it."""
    every = sorted(n for notes, _, _ in parts for n in notes)
    median_q = float(np.median([d for _, d, _ in every]))
    spq = float(np.clip(rng.uniform(*FAMILY_OF_KEY[family].median_note_s) / median_q, 0.12, 1.6))
    total_q = max(on + d for on, d, _ in every)
    window_q = clip_s / spq
    if total_q < window_q:
        return None
    start_q = _choose_start(every, window_q, total_q, rng, [notes for notes, _, _ in parts])
    t_of = _timing(spq, rng)
    perfs = []
    for notes, spec, prog in parts:
        seg = [(on - start_q, d, p) for on, d, p in notes if start_q <= on < start_q + window_q]
        if not seg:
            return None
        middle = (min(p for *_, p in seg) + max(p for *_, p in seg)) / 2
        shift = 12 * round(((prog.low + prog.high) / 2 - middle) / 12)
        perf = Performance(
            program=prog.program,
            bend_range=12 if spec.portamento else 2,
            notes=_notes(seg, t_of, spec, prog, shift, clip_s, rng),
            info={"start_quarter": round(start_q, 4), "seconds_per_quarter": round(spq, 4), "transpose": shift},
        )
        _add_bends(perf, spec, rng)
        if not spec.plucked:
            _add_expression(perf, clip_s, rng)
        perfs.append(perf)
    return perfs


_MAJOR = (0, 2, 4, 5, 7, 9, 11)


def accompany(
    melody: list[tuple[float, float, int, int]],
    style: str,
    prog: Program,
    spq: float,
    clip_s: float,
    rng: np.random.Generator,
) -> list[tuple[float, float, int, int]]:
    """Chords under a melody, as a polyphonic instrument's player adds them.

    The key is the major scale that holds most of the melody's sounding time; each bar (2 or 4
    beats) gets the diatonic triad (I, ii, IV, V or vi) that shares most pitch classes with the
    melody notes sounding in it. ``oompah``: the root low on the first beat, the chord on the
    next (an accordion's bass and chord buttons); ``arpeggio``: root then the chord's tones,
    picked one after another and left to ring (a guitar). Softer than the melody, below it.
    """
    weight = np.zeros(12)
    for s, e, p, _ in melody:
        weight[p % 12] += e - s
    tonic = int(np.argmax([sum(weight[(t + d) % 12] for d in _MAJOR) for t in range(12)]))
    scale = [(tonic + d) % 12 for d in _MAJOR]
    triads = {deg: (scale[deg], scale[(deg + 2) % 7], scale[(deg + 4) % 7]) for deg in (0, 1, 3, 4, 5)}
    bar = spq * (2 if rng.random() < 0.5 else 4)
    vel = int(np.clip(np.mean([v for *_, v in melody]) - rng.uniform(10, 25), 25, 110))
    bass_lo = prog.low  # the lowest octave the instrument (or the sampler's recordings) has
    out: list[tuple[float, float, int, int]] = []
    t = min(s for s, *_ in melody)
    while t < clip_s:
        sounding = [p % 12 for s, e, p, _ in melody if s < t + bar and e > t]
        fit = {
            deg: sum(pc in chord for pc in sounding) + (0.5 if deg in (0, 3, 4) else 0.0)
            for deg, chord in triads.items()
        }
        chord = triads[max(fit, key=lambda d: (fit[d], -d))]
        root = bass_lo + (chord[0] - bass_lo) % 12
        tones = sorted(root + 12 + (pc - chord[0]) % 12 for pc in chord)
        if style == "oompah":
            half = bar / 2
            out.append((t, t + 0.8 * half, root, vel))
            out += [(t + half, t + 0.8 * bar, p, max(20, vel - 8)) for p in tones]
        else:  # arpeggio: each tone rings to the end of the bar
            picks = [root, *tones]
            step = bar / len(picks)
            out += [(t + k * step, t + bar - 0.01, p, max(20, vel - 4 * (k % 2))) for k, p in enumerate(picks)]
        t += bar
    return [(s, min(e, clip_s + 0.5), p, v) for s, e, p, v in out if s < clip_s]


def _roll(notes: list[tuple[float, float, int, int]], rng: np.random.Generator) -> list[tuple[float, float, int, int]]:
    """Long notes of a struck instrument become rolls: strokes at 9-15 Hz, alternating hands."""
    rate = rng.uniform(9.0, 15.0)
    min_len = rng.uniform(0.3, 0.6)
    out: list[tuple[float, float, int, int]] = []
    for s, e, p, v in notes:
        if e - s < min_len:
            out.append((s, e, p, v))
            continue
        n = max(2, int((e - s) * rate))
        step = (e - s) / n
        for k in range(n):
            vel = int(np.clip(v - (0 if k == 0 else 12) - (6 if k % 2 else 0) + rng.normal(0, 4), 20, 127))
            out.append((s + k * step, s + (k + 1) * step - 0.004, p, vel))
    return out


def _add_bends(perf: Performance, spec: InstrumentSpec, rng: np.random.Generator) -> None:
    depth = rng.uniform(*spec.vibrato_cents)
    rate = rng.uniform(4.6, 6.4)
    step = 1 / 50
    cents_per_unit = perf.bend_range * 100 / 8191
    last = 0
    bends: list[tuple[float, int]] = []
    prev = None
    for s, e, p, _ in perf.notes:
        glide = 0.0
        glide_t = 0.0
        if spec.portamento and prev is not None and s - prev[1] < 0.08 and 0 < abs(prev[2] - p) <= 9:
            if rng.random() < 0.6:
                glide = (prev[2] - p) * 100.0
                glide_t = rng.uniform(0.05, 0.16)
        delay = rng.uniform(0.12, 0.3)
        t = s
        while t < e:
            c = 0.0
            if glide and t - s < glide_t:
                x = (t - s) / glide_t
                c += glide * (1 - (3 * x * x - 2 * x**3))
            if depth > 0 and t - s > delay:
                ramp = min(1.0, (t - s - delay) / 0.25)
                c += depth * ramp * math.sin(2 * math.pi * rate * (t - s - delay))
            v = int(np.clip(round(c / cents_per_unit), -8192, 8191))
            if v != last:
                bends.append((t, v))
                last = v
            if not glide and depth <= 0:
                break
            t += step
        if last != 0:  # back to centre before the next note
            bends.append((min(e, t), 0))
            last = 0
        prev = (s, e, p)
    perf.bends = bends


def _add_expression(perf: Performance, clip_s: float, rng: np.random.Generator) -> None:
    """Slow swells on CC11 (expression), every 0.1 s."""
    a = rng.uniform(0, 22)
    per = rng.uniform(2.5, 7.0)
    ph = rng.uniform(0, 2 * math.pi)
    last = -1
    t = 0.0
    while t < clip_s:
        v = int(np.clip(round(112 + a * math.sin(2 * math.pi * t / per + ph) - a / 2), 40, 127))
        if v != last:
            perf.controls.append((t, 11, v))
            last = v
        t += 0.1


TICKS_PER_BEAT = 960


TEMPO_US = 500_000  # 120 bpm: 1920 ticks a second


TICKS_PER_SECOND = TICKS_PER_BEAT * 1_000_000 / TEMPO_US


def write_midi(items: Sequence[tuple[float, Performance]], path: Path, end_s: float) -> None:
    """Write ``(offset_s, performance)`` pairs, each reset before it starts, as one MIDI file."""
    import mido

    ev: list[tuple[float, int, int, object]] = []  # time, priority, serial, message
    serial = 0

    def add(t: float, prio: int, msg: object) -> None:
        nonlocal serial
        ev.append((t, prio, serial, msg))
        serial += 1

    for off, perf in items:
        t0 = max(0.0, off - 0.4)
        add(t0, 0, mido.Message("control_change", control=120, value=0))  # all sound off
        add(t0, 0, mido.Message("control_change", control=121, value=0))  # reset controllers
        add(t0, 0, mido.Message("program_change", program=perf.program))
        for cc, v in ((101, 0), (100, 0), (6, perf.bend_range), (38, 0), (101, 127), (100, 127)):
            add(t0, 0, mido.Message("control_change", control=cc, value=v))
        add(t0, 0, mido.Message("control_change", control=7, value=100))
        add(t0, 0, mido.Message("control_change", control=10, value=64))
        add(t0, 0, mido.Message("control_change", control=11, value=127))
        add(t0, 0, mido.Message("pitchwheel", pitch=0))
        for t, cc, v in perf.controls:
            add(off + t, 1, mido.Message("control_change", control=cc, value=v))
        for t, v in perf.bends:
            add(off + t, 1, mido.Message("pitchwheel", pitch=v))
        for s, e, p, vel in perf.notes:
            add(off + e, 2, mido.Message("note_off", note=p, velocity=0))
            add(off + s, 3, mido.Message("note_on", note=p, velocity=vel))
    add(end_s, 4, mido.Message("control_change", control=123, value=0))
    ev.sort(key=lambda x: (round(x[0] * TICKS_PER_SECOND), x[1], x[2]))
    mid = mido.MidiFile(ticks_per_beat=TICKS_PER_BEAT)
    track = mido.MidiTrack()
    mid.tracks.append(track)
    track.append(mido.MetaMessage("set_tempo", tempo=TEMPO_US, time=0))
    cur = 0
    for t, _, _, msg in ev:
        tick = int(round(t * TICKS_PER_SECOND))
        track.append(msg.copy(time=tick - cur))  # type: ignore[attr-defined]
        cur = tick
    mid.save(str(path))
