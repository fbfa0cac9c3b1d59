"""Synthetic media for tests: small videos whose content is known exactly.

Every video is a row of vertical colour panels (panel ``i`` is ``panels[i]``); the sound is the
sum of one sine per panel (``tones[i]`` is panel ``i``'s "instrument"). Tests can therefore check
pixels and spectra against the parameters instead of against stored files. With
``marker=True`` a barcode band at the bottom of the *displayed* frame carries the frame number,
so seeking can be checked frame-exactly (:func:`read_marker`).

Files are written with PyAV, the same library avsep reads with; codecs are picked per container
from encoders this build has (libx264 for mp4/mov/mkv, mpeg4 + PCM for avi, VP8 + Opus for
webm). Everything is kept tiny so a 40 s clip encodes in well under a second.
"""

from __future__ import annotations

import json
import math
import shutil
import subprocess
from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import soundfile as sf

#: Bits of the frame-number barcode; 2**10 frames = 102 s at 10 fps.
MARKER_BITS = 10

#: (video codec, audio codec) per container suffix.
_CODECS: dict[str, tuple[str, str]] = {
    ".mp4": ("libx264", "aac"),
    ".mov": ("libx264", "aac"),
    ".mkv": ("libx264", "aac"),
    ".avi": ("mpeg4", "pcm_s16le"),
    ".webm": ("libvpx", "libopus"),
}

#: Opus only runs at these rates; webm fixtures are therefore always 48 kHz.
_OPUS_RATES = (8000, 12000, 16000, 24000, 48000)


def has_encoder(name: str) -> bool:
    """Whether this FFmpeg build can encode with ``name`` (tests skip on False)."""
    try:
        av.codec.Codec(name, "w")
    except ValueError:  # av's UnknownCodecError
        return False
    return True


def tone(freqs: Sequence[float], duration: float, sample_rate: int, bursts: bool = False, seed: int = 0) -> np.ndarray:
    """Sum of sines at ``freqs`` scaled to peak at most 0.8, float32 mono.

    ``bursts`` adds a 50 ms white-noise burst every second, an onset-rich signal for tests that
    need more than stationary tones.
    """
    n = int(round(duration * sample_rate))
    t = np.arange(n) / sample_rate
    x = np.zeros(n)
    for f in freqs:
        x += np.sin(2 * np.pi * f * t)
    if freqs:
        x *= 0.8 / len(freqs)
    if bursts:
        rng = np.random.default_rng(seed)
        width = int(0.05 * sample_rate)
        for start in range(0, n, sample_rate):
            seg = x[start : start + width]
            seg += 0.2 * rng.standard_normal(len(seg))
    return x.astype(np.float32)


def make_tone_wav(
    path: str | Path,
    freqs: Sequence[float] = (440.0,),
    duration: float = 1.0,
    sample_rate: int = 11025,
    channels: int = 1,
    subtype: str = "PCM_16",
    data: np.ndarray | None = None,
) -> Path:
    """Write a WAV of :func:`tone` (copied to every channel), or of ``data`` (``[n]`` or ``[n, ch]``)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if data is None:
        mono = tone(freqs, duration, sample_rate)
        data = np.repeat(mono[:, None], channels, axis=1)
    sf.write(path, data, sample_rate, subtype=subtype)
    return path


def panel_frame(
    width: int, height: int, panels: Sequence[tuple[int, int, int]], index: int | None = None
) -> np.ndarray:
    """The displayed picture: equal-width vertical panels, plus the barcode when ``index`` is set."""
    img = np.zeros((height, width, 3), np.uint8)
    edges = np.linspace(0, width, len(panels) + 1).round().astype(int)
    for colour, x0, x1 in zip(panels, edges[:-1], edges[1:]):
        img[:, x0:x1] = colour
    if index is not None:
        band = _marker_band(height)
        cells = np.linspace(0, width, MARKER_BITS + 1).round().astype(int)
        for bit in range(MARKER_BITS):
            on = (index >> (MARKER_BITS - 1 - bit)) & 1
            img[height - band :, cells[bit] : cells[bit + 1]] = 255 if on else 0
    return img


def _marker_band(height: int) -> int:
    return max(8, height // 6)


def read_marker(frame: np.ndarray) -> int:
    """Frame number encoded by ``marker=True`` in a displayed HxWx3 frame."""
    height, width = frame.shape[:2]
    band = frame[height - _marker_band(height) :].mean(axis=2)
    cells = np.linspace(0, width, MARKER_BITS + 1).round().astype(int)
    value = 0
    for bit in range(MARKER_BITS):
        x0, x1 = cells[bit], cells[bit + 1]
        pad = max(1, (x1 - x0) // 4)
        centre = band[2:-2, x0 + pad : x1 - pad].mean()
        value = (value << 1) | int(centre > 128)
    return value


def make_video(
    path: str | Path,
    duration: float = 3.0,
    sample_rate: int = 44100,
    channels: int = 1,
    layout: str | None = None,
    panels: Sequence[tuple[int, int, int]] = ((255, 0, 0), (0, 0, 255)),
    width: int = 224,
    height: int = 224,
    fps: float = 10,
    tones: Sequence[float] = (440.0, 660.0),
    pan: Sequence[float] | None = None,
    audio: bool = True,
    video: bool = True,
    rotate: int = 0,
    codec: str | None = None,
    audio_codec: str | None = None,
    gop: int | None = None,
    marker: bool = False,
    bursts: bool = False,
    frame_times: Sequence[float] | None = None,
    audio_start: float = 0.0,
    faststart: bool = False,
    live: bool = False,
    cuts: Sequence[tuple[float, Sequence[tuple[int, int, int]]]] = (),
    bar: bool = False,
    preset: str = "ultrafast",
) -> Path:
    """Write a synthetic clip; the container follows the suffix (.mp4/.mkv/.webm/.mov/.avi).

    ``width``/``height`` are the *displayed* size: with ``rotate`` (degrees clockwise a player
    applies) the coded frames are stored turned the other way and the display matrix is set, the
    way phones record portrait video. ``gop`` is the keyframe interval in frames (default 2 s) so
    seeking has real work to do. ``frame_times`` gives explicit presentation times (variable frame
    rate) instead of ``k / fps``. ``audio_start`` delays the audio stream's timestamps (a late
    audio track). ``faststart`` puts the mp4/mov index first, as web videos do; such a file
    cut short still opens, with the missing end undecodable. ``live`` (mkv/webm) writes through
    a non-seekable sink, like a recorder that never finalised: no duration, no cues. webm audio
    is Opus, so its sample rate is forced to 48 kHz. ``cuts`` are ``(time, panels)`` pairs: from
    ``time`` on the picture shows those panels instead (a camera cut; the sound goes on).
    ``bar`` draws a grey bar (an eighth of the width, the top half of the height) that sweeps
    once across the picture over the clip: motion inside a shot (every two frames differ, yet
    the picture never cuts), which leaves each panel one connected piece.
    ``pan`` (stereo only) places each tone from -1 (left only) to +1 (right only). ``layout``
    (PyAV's name, e.g. "5.1(side)") sets the speakers of the ``channels`` channels.

    PyAV's AAC encoder does not write an edit list, so AAC audio decodes with 1024 priming
    samples (~23 ms at 44.1 kHz) of near-silence in front; compare sounds with that slack.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    suffix = path.suffix.lower()
    default_video, default_audio = _CODECS[suffix]
    if default_video == "libx264" and not has_encoder("libx264"):
        default_video = "mpeg4"  # FFmpeg builds without GPL parts lack x264
    vcodec = codec or default_video
    acodec = audio_codec or default_audio
    if acodec == "libopus" and sample_rate not in _OPUS_RATES:
        sample_rate = 48000
    if acodec == "aac" and channels > 6:
        # PyAV 18 crashes converting 8-channel audio to AAC's planar format.
        raise ValueError("AAC fixtures support up to 6 channels; use audio_codec='pcm_s16le' in .mkv")
    if rotate % 90:
        raise ValueError(f"rotate must be a multiple of 90, got {rotate}")
    turns = (rotate // 90) % 4

    rate = Fraction(fps).limit_denominator(1001)
    if frame_times is None:
        frame_times = [k / rate for k in range(int(math.ceil(duration * fps - 1e-9)))]
        # Constant rate: one tick per frame (AVI cannot represent sparse ticks compactly).
        time_base = 1 / rate
    else:
        # Variable rate: millisecond ticks represent arbitrary frame times closely enough.
        time_base = Fraction(1, 1000)

    options = {"movflags": "+faststart"} if faststart else {}
    sink = _Sink() if live else None
    if sink is not None:
        container = av.open(sink, "w", format=_LIVE_FORMATS[suffix])
    else:
        container = av.open(str(path), "w", options=options)
    vstream = None
    if video:
        coded_w, coded_h = (height, width) if turns % 2 else (width, height)
        vstream = container.add_stream(vcodec, rate=rate)
        vstream.width, vstream.height = coded_w, coded_h
        vstream.pix_fmt = "yuv420p"
        vstream.codec_context.gop_size = gop or max(1, int(round(2 * fps)))
        vstream.codec_context.time_base = time_base
        if vcodec == "libx264":
            vstream.codec_context.options = {"preset": preset}
        else:
            vstream.bit_rate = 2_000_000
        if turns:
            vstream.set_display_rotation(-90 * turns)
    astream = None
    signal = None
    if audio:
        astream = container.add_stream(acodec, rate=sample_rate)
        # FFmpeg's default layout (mono, stereo, ..., 5.1, 7.1) unless ``layout`` names another.
        astream.layout = layout or f"{channels}c"
        mono = tone(tones, duration, sample_rate, bursts=bursts)
        signal = np.repeat(mono[None, :], channels, axis=0)
        if pan is not None:
            if channels != 2 or len(pan) != len(tones):
                raise ValueError("pan places each tone in a stereo clip: give channels=2 and one pan per tone")
            parts = [tone([f], duration, sample_rate) / len(tones) for f in tones]
            signal = np.stack([sum(p * (1 + side * x) / 2 for p, x in zip(parts, pan)) for side in (-1, 1)])

    audio_pos = 0

    def push_audio(until: float) -> None:
        """Encode audio up to ``until`` seconds so packets interleave with the video."""
        nonlocal audio_pos
        end = min(signal.shape[1], int(round(until * sample_rate)))
        step = 1024
        while audio_pos < end:
            chunk = signal[:, audio_pos : min(end, audio_pos + step)]
            # Packed samples: PyAV 18 mishandles planar frames with 8+ channels.
            packed = np.ascontiguousarray(chunk.T).reshape(1, -1)
            frame = av.AudioFrame.from_ndarray(packed, format="flt", layout=astream.layout)
            frame.sample_rate = sample_rate
            frame.pts = audio_pos + int(round(audio_start * sample_rate))
            frame.time_base = Fraction(1, sample_rate)
            for packet in astream.encode(frame):
                container.mux(packet)
            audio_pos += chunk.shape[1]

    if vstream is not None:
        for k, t in enumerate(frame_times):
            if astream is not None:
                push_audio(t - audio_start)
            shown = next((p for at, p in sorted(cuts, reverse=True) if t >= at), panels)
            img = panel_frame(width, height, shown, k if marker else None)
            if bar:
                x = int(t / duration * width)
                img[: height // 2, x : x + max(1, width // 8)] = 128
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(np.rot90(img, turns)), format="rgb24")
            frame.pts = int(round(t / time_base))
            frame.time_base = time_base
            for packet in vstream.encode(frame):
                container.mux(packet)
        for packet in vstream.encode():
            container.mux(packet)
    if astream is not None:
        push_audio(duration + 1.0)
        for packet in astream.encode():
            container.mux(packet)
    container.close()
    if sink is not None:
        path.write_bytes(sink.data)
    return path


_LIVE_FORMATS = {".mkv": "matroska", ".webm": "webm"}


class _Sink:
    """A write-only file object: muxers cannot seek back to finish headers."""

    def __init__(self) -> None:
        self.data = bytearray()

    def write(self, chunk: bytes) -> int:
        self.data += bytes(chunk)
        return len(chunk)


def truncated_copy(path: str | Path, dest: str | Path, fraction: float) -> Path:
    """Copy the first ``fraction`` of ``path``'s bytes to ``dest``: a download cut short."""
    data = Path(path).read_bytes()
    dest = Path(dest)
    dest.write_bytes(data[: int(len(data) * fraction)])
    return dest


def write_frames_video(path: str | Path, frames: np.ndarray, fps: int, audio: np.ndarray, sample_rate: int) -> Path:
    """A Matroska clip of exactly these pictures (``[N, H, W, 3]`` uint8, H and W even) at ``fps``
    and this mono ``audio`` (float, PCM: no codec delay), for tests that need their own motion."""
    path = Path(path)
    with av.open(str(path), "w") as container:
        vstream = container.add_stream("libx264" if has_encoder("libx264") else "mpeg4", rate=fps)
        vstream.width, vstream.height = frames.shape[2], frames.shape[1]
        vstream.pix_fmt = "yuv420p"
        astream = container.add_stream("pcm_s16le", rate=sample_rate)
        astream.layout = "mono"
        for k, img in enumerate(frames):
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(img), format="rgb24")
            frame.pts = k
            frame.time_base = Fraction(1, fps)
            container.mux(vstream.encode(frame))
        container.mux(vstream.encode())
        packed = np.asarray(audio, np.float32).reshape(1, -1)
        chunk = av.AudioFrame.from_ndarray(packed, format="flt", layout="mono")
        chunk.sample_rate = sample_rate
        chunk.pts = 0
        chunk.time_base = Fraction(1, sample_rate)
        container.mux(astream.encode(chunk))
        container.mux(astream.encode())
    return path


def merge_streams(dest: str | Path, *inputs: str | Path) -> Path:
    """Remux every stream of ``inputs`` into one file (no re-encoding): several audio or video
    streams, or a picture and a soundtrack of different lengths."""
    sources = [av.open(str(p)) for p in inputs]
    with av.open(str(dest), "w") as out:
        streams = {}
        for n, src in enumerate(sources):
            for s in src.streams:
                streams[n, s.index] = out.add_stream_from_template(s)
        for n, src in enumerate(sources):
            for packet in src.demux():
                if packet.dts is not None:
                    packet.stream = streams[n, packet.stream.index]
                    out.mux(packet)
    for src in sources:
        src.close()
    return Path(dest)


def layouts_read(path: Path) -> list[str]:
    """The speaker layout of ``path``'s audio as FFmpeg reads it back: PyAV's name, and ffprobe's
    too where it is on PATH (what a user checks with; the header itself is checked apart)."""
    with av.open(str(path)) as container:
        names = [container.streams.audio[0].layout.name]
    if shutil.which("ffprobe"):
        probe = subprocess.run(
            ["ffprobe", "-v", "error", "-show_entries", "stream=channel_layout", "-of", "json", str(path)],
            capture_output=True,
            check=True,
            text=True,
        )
        names.append(json.loads(probe.stdout)["streams"][0]["channel_layout"])
    return names
