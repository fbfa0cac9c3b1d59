"""What a separation will hear of a probed video, said before any work: which audio track, and
how much of it the range holds.

A video's audio track can end before its picture (a recorder stopped early, a soundtrack cut in
an editor), and a file can hold several tracks (a commentary, a second language, a test tone).
The outputs are as long as the sound the range holds, from the track the options choose; when
that is not what a user would assume (the whole range, the one track), a warning says so before
the first window, and a range that holds no sound at all is refused: outputs of no samples are
never written. Decoding re-checks what the container only declares (:mod:`avsep.io.audio`).
"""

from __future__ import annotations

import warnings

from avsep.errors import InputError
from avsep.io.media import EARLY_END_S, MediaInfo
from avsep.options import API, Wording


class SoundtrackWarning(UserWarning):
    """The outputs differ from what the video and the options would suggest: shorter than the
    range (the audio ends first), from one of several tracks, or at another sample rate."""


def audio_end(info: MediaInfo) -> float | None:
    """Where the selected audio track's declared end lies, in seconds of the file (None: the
    container does not say)."""
    audio = info.audio
    return None if audio is None or audio.duration is None else audio.offset + audio.duration


def check_soundtrack(info: MediaInfo, chosen: int | None = None, say: Wording = API) -> None:
    """Say which of several audio tracks is separated (``chosen``: the one the options asked
    for; None: the first), refuse a range (``info.start``) that begins after the track's end or
    ends before a late track begins, and warn when the track ends before the range (or the whole
    video) does."""
    if chosen is None and len(info.audios) > 1 and info.audios.index(info.audio) == 0:  # not chosen in the probe
        _say_track(info, say)
    stop = info.start + info.duration
    begin = info.audio.offset if info.audio is not None else 0.0
    if begin > 0 and stop <= begin:  # a late track (the picture first): silence before it
        if info.end is None:
            raise InputError(f"{info.path}: the audio track starts at {begin:.2f} s, after the video's end; no sound")
        raise InputError(
            f"{say('end')} {info.end:g}: the audio track of {info.path} starts at {begin:.2f} s, so the range holds "
            f"no sound; give an {say('end')} after {begin:.2f}"
        )
    end = audio_end(info)
    if end is None:
        return
    if info.start > 0 and end <= info.start:
        raise InputError(
            f"{say('start')} {info.start:g}: the audio track of {info.path} ends at {end:.2f} s, so the range "
            f"holds no sound; give a {say('start')} before {end:.2f}"
        )
    if end < stop - EARLY_END_S:
        before = "the video's end" if info.end is None else f"{say('end')} {info.end:g}"
        warnings.warn(
            f"{info.path}: the audio track ends at {end:.2f} s, before {before} ({stop:.2f} s), "
            f"so the outputs are {end - info.start:.2f} s long",
            SoundtrackWarning,
            stacklevel=2,
        )


def _say_track(info: MediaInfo, say: Wording) -> None:
    """The warning that the first of several audio tracks is separated, and how to choose another."""
    count = len(info.audios)
    track = info.audio
    other = say("audio_stream", 1) if count == 2 else f"{say('audio_stream')} N (1 to {count - 1})"
    warnings.warn(
        f"{info.path} has {count} audio streams; separating audio stream 0 ({track.codec}, "
        f"{track.sample_rate} Hz, {track.channels} ch); choose another with {other}",
        SoundtrackWarning,
        stacklevel=3,
    )
