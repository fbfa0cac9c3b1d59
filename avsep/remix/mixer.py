"""``avsep remix``: separate a video, rebalance its sources and put the sound back under the
picture, or write the sources as tracks of one video for an editor (``--stems``).

The remix is the sum of every source times its gain (``--gain NAME=DB``, ``--solo``, ``--mute``)
plus the residual (the mixture minus the sources), so whatever the boxes did not take (the room,
an instrument without a box) stays as it was, and with no gain given the remix is the original
mixture. The separation runs full band and per channel (:mod:`avsep.separation.fullband`), at the
soundtrack's own rate and channels; :func:`avsep.io.mux.write_video` copies the picture packet
for packet and encodes the new track (the input's codec where it can, else AAC). Gains that push
the sum over full scale are not limited here; the encoder may (AAC turns such passages down) and
what it leaves clips: :func:`warn_if_over_full_scale` says so.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from avsep.batch.job import BatchJob
from avsep.batch.streams import Progress
from avsep.errors import InputError, already_exists
from avsep.io.mux import CONTAINERS, Track, audio_codec, container_for, takes, write_video
from avsep.remix.balance import Balance
from avsep.separation.separator import Separator

logger = logging.getLogger(__name__)

#: Title of the original soundtrack in a ``--stems`` file.
ORIGINAL_TITLE = "original mix"
#: The container of a default output whose input's container cannot be written (AVI, MPEG-TS,
#: ...): Matroska holds any picture and sound codec, so the picture is still copied untouched.
FALLBACK_SUFFIX = ".mkv"


#: FFmpeg's AAC encoder may keep its output under this peak by turning down each frame that would
#: go over it (its "clip avoidance"): a remix of the bundled duet peaking at 2.13 came out at 0.96,
#: turned down by a different amount every second, while steady tones at 2.0 went through as they
#: were (and clip when played). avsep applies no limiter of its own: the sum is what is asked.
AAC_CEILING = 0.95


@dataclass
class Peak:
    """The largest absolute sample of a track as it streams to the encoder (full scale 1.0)."""

    value: float = 0.0

    def see(self, samples: np.ndarray) -> None:
        self.value = max(self.value, float(np.abs(samples).max(initial=0.0)))


def mixed(blocks: Iterable[np.ndarray], factors: np.ndarray, peak: Peak | None = None) -> Iterator[list[np.ndarray]]:
    """``[sources + residual, (channels,) n]`` blocks -> one remixed ``[n, channels]`` track;
    ``peak`` sees every remixed sample (:func:`warn_if_over_full_scale`)."""
    for block in blocks:
        out = np.tensordot(factors, block, axes=1)
        if peak is not None:
            peak.see(out)
        yield [out.T if out.ndim == 2 else out]


def warn_if_over_full_scale(peak: float, codec: str) -> None:
    """Say so when gains push the remix over full scale: the encoder or the player then changes
    it (the AAC encoder may turn those passages down, what is left over clips), so the remix is no
    longer each source times its gain plus the residual there, and nothing else would tell."""
    if not peak > 1.0:
        return
    if codec == "aac":
        cut = 20 * math.log10(peak / AAC_CEILING)
        effect = (
            f"the AAC encoder may turn those passages down (by up to {cut:.1f} dB) and what it leaves clips when played"
        )
    else:
        effect = f"those passages clip (in the {codec} track or when played)"
    logger.warning(
        "the remix goes %.1f dB over full scale (peak %.2f); %s, so the balance there is not the one "
        "asked for; give smaller --gain values (or --mute, --solo) to avoid it",
        20 * math.log10(peak),
        peak,
        effect,
    )


def stems(blocks: Iterable[np.ndarray], sources: int, with_mixture: bool = False) -> Iterator[list[np.ndarray]]:
    """``[sources + residual, (channels,) n]`` blocks -> one ``[n, channels]`` track per source,
    after the mixture's own track when ``with_mixture``."""
    for block in blocks:
        rows = ([block.sum(0)] if with_mixture else []) + list(block[:sources])
        yield [row.T if row.ndim == 2 else row for row in rows]


def default_output(video: Path, with_stems: bool) -> Path:
    """``clip.remix.mp4`` beside the video; ``clip.stems.mkv`` (MP4 and MOV stay so). An input
    whose container avsep cannot write (``clip.avi``) gets ``clip.remix.mkv``, with a warning
    saying so: the default must never be a name the command itself then refuses."""
    if with_stems:
        suffix = video.suffix if video.suffix.lower() in (".mp4", ".mov", ".mkv") else FALLBACK_SUFFIX
        return video.with_name(f"{video.stem}.stems{suffix}")
    if video.suffix.lower() in CONTAINERS:
        return video.with_name(f"{video.stem}.remix{video.suffix}")
    dest = video.with_name(f"{video.stem}.remix{FALLBACK_SUFFIX}")
    logger.warning(
        "%s: avsep cannot write a video as %s; writing the remix to %s instead (or give -o as %s)",
        video.name,
        video.suffix or "a name without a suffix",
        dest.name,
        ", ".join(sorted(CONTAINERS)),
    )
    return dest


def remix_video(
    separator: Separator,
    job: BatchJob,
    video: Path,
    dest: Path,
    balance: Balance,
    progress: Progress,
    *,
    with_stems: bool = False,
) -> Path:
    """Separate ``video`` with ``job``'s box rules and write the remix (or the stems) to ``dest``."""
    if with_stems and not balance.empty:
        raise InputError("--stems writes the sources as they are; --gain, --solo and --mute apply to a remix")
    if dest.resolve() == video.resolve():
        raise InputError(f"{dest}: is the input video; write the remix to another file (-o)")
    container = container_for(dest)
    if dest.exists() and not job.options.overwrite:
        raise already_exists(dest, job.options.wording("overwrite"))
    media, plan, names = job.box_plan(separator, video, progress)
    factors = None if with_stems else balance.factors(names)
    request = job.request.for_video(video)
    given = request.guiding(job.given_names(request))
    stream = separator.stream(media, plan, residual=True, on_window=progress.window, names=given)
    progress.set_windows(stream.num_windows, video.name)
    codec = audio_codec(stream.info.audio.codec, container)
    copy = with_stems and takes(container, stream.info.audio.codec)
    peak = Peak()
    if with_stems:
        # The original soundtrack's packets are copied; a codec the container cannot hold is
        # encoded again from the mixture (the sum of the sources and the residual).
        tracks = [Track(name, codec) for name in ([] if copy else [ORIGINAL_TITLE]) + names]
        blocks = stems(stream.blocks, len(names), with_mixture=not copy)
    else:
        tracks = [Track("remix", codec)]
        blocks = mixed(stream.blocks, factors, peak)
    written = write_video(
        stream.info,
        dest,
        tracks,
        blocks,
        sample_rate=stream.sample_rate,
        channels=stream.channels,
        copy_audio=ORIGINAL_TITLE if copy else None,
        overwrite=job.options.overwrite,
    )
    warn_if_over_full_scale(peak.value, codec)
    return written
