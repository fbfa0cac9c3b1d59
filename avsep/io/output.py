"""The output formats of separated sound, and the one place that picks a writer for each.

WAV (``pcm16``, ``pcm24``, ``float``: :mod:`avsep.io.wav`), FLAC (``flac``, ``flac24``:
:mod:`avsep.io.flac`) and the compressed MP3, M4A and Opus (:mod:`avsep.io.encoded`, with a bit
rate and tags) share one interface: an all-or-nothing file writer used as a context
manager, and a writer to standard output that returns False when the reader left early.
"""

from __future__ import annotations

import string
import warnings
from collections.abc import Callable, Iterable, Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import BinaryIO

import numpy as np

from avsep.errors import InputError
from avsep.io import encoded, flac, wav
from avsep.io.media import MediaInfo
from avsep.io.soundtrack import SoundtrackWarning
from avsep.options import BatchOptions
from avsep.timing import stage

#: Every output format by CLI name.
FORMATS = (*wav.FORMATS, *flac.FORMATS, *encoded.FORMATS)

#: The formats that take a bit rate (``--bitrate``).
LOSSY = tuple(encoded.FORMATS)


def check_format(options: BatchOptions) -> None:
    """``--format`` is one of :data:`FORMATS`; ``--bitrate`` goes with a compressed one; M4A,
    whose index is written last, cannot stream to ``-o -``."""
    say, fmt = options.wording, options.fmt
    if fmt not in FORMATS:
        raise InputError(f"{say('fmt', fmt, quoted=True)}: use one of {', '.join(FORMATS)}")
    if options.bitrate is not None and fmt not in LOSSY:
        raise InputError(
            f"{say('bitrate')} applies to {', '.join(LOSSY)}; {fmt} is lossless (give {say('fmt')} mp3, m4a or opus)"
        )
    if options.to_stdout and fmt in encoded.FORMATS and not encoded.FORMATS[fmt].streams:
        raise InputError(
            f"{say('fmt', fmt)} cannot stream to {say('out_dir', '-')} "
            "(an M4A's index is written last); use mp3 or opus"
        )
    if not options.to_stdout:
        check_template_extension(options)


def fixed_extension(template: str) -> str | None:
    """The extension ``template`` writes whatever the format (``flac`` of ``{name}.flac``), as
    written; None when its file name ends in a field (``{name}.{ext}``) or its last part has no dot."""
    try:
        parts = list(string.Formatter().parse(template))
    except ValueError:
        return None  # a broken template: rendering it says what is wrong
    tail = parts[-1][0] if parts and parts[-1][1] is None else ""
    name = tail.replace("\\", "/").rsplit("/", 1)[-1]
    fixed = name.rpartition(".")[2] if "." in name else ""
    return fixed or None


def check_template_extension(options: BatchOptions) -> None:
    """An extension fixed in ``--output-template`` must be the one ``--format`` writes: MP3 data
    in a ``.flac`` file misleads every player and tool that trusts the name."""
    fixed, ext = fixed_extension(options.template), extension(options.fmt)
    if fixed is None or fixed.lower() == ext:
        return
    say = options.wording
    matching = [f for f in FORMATS if extension(f) == fixed.lower()]
    instead = f" or give {say('fmt')} {' or '.join(matching)}" if matching else ""
    raise InputError(
        f"{say('template', options.template, quoted=True)} ends in .{fixed} but {say('fmt', options.fmt)} "
        f"writes .{ext} files; end it with .{{ext}}{instead}"
    )


def written_rate(fmt: str, sample_rate: int) -> int:
    """The rate a file of ``fmt`` is written at for samples at ``sample_rate``: theirs, unless the
    format's encoder does not take it (:func:`avsep.io.encoded.encoder_rate`)."""
    return encoded.encoder_rate(fmt, sample_rate) if fmt in encoded.FORMATS else sample_rate


def check_output_audio(media: MediaInfo, options: BatchOptions, channels: int) -> None:
    """What ``options.fmt`` makes of ``media``'s sound, checked once it is probed and before any
    work: a format that cannot hold ``channels`` (each output's) is refused; one whose encoder
    changes the rate asked for (the video's, or ``sample_rate``) says so, since outputs are at
    that rate unless a user asks otherwise."""
    fmt, say = options.fmt, options.wording
    if fmt in flac.FORMATS:
        flac.check_channels(channels, say)
    if fmt not in encoded.FORMATS:
        return
    encoded.check_channels(fmt, channels, say)
    rate = options.sample_rate or media.audio.sample_rate
    written = written_rate(fmt, rate)
    if written != rate:
        asked = say("sample_rate", rate) if options.sample_rate else f"the video's {rate} Hz"
        warnings.warn(
            f"{media.path}: {fmt.upper()} cannot be written at {rate} Hz, so the outputs are {written} Hz "
            f"rather than {asked}; a lossless {say('fmt')} (flac, pcm24) keeps the rate",
            SoundtrackWarning,
            stacklevel=2,
        )


def extension(fmt: str) -> str:
    """The file extension (``{ext}`` of ``--output-template``) of a format."""
    if fmt in encoded.FORMATS:
        return encoded.FORMATS[fmt].extension
    return "flac" if fmt in flac.FORMATS else "wav"


def stem_tags(name: str, video: str) -> dict[str, str]:
    """The tags of the output ``name`` separated from ``video`` (its file name), which the
    compressed formats carry: a music player lists the stems by name, under the video's."""
    return {"title": name, "album": Path(video).stem, "comment": f"avsep: {name} from {video}"}


def open_writer(
    path: str | Path,
    sample_rate: int,
    channels: int = 1,
    fmt: str = "pcm16",
    overwrite: bool = False,
    *,
    bitrate: int | None = None,
    tags: dict[str, str] | None = None,
    layout: str | None = None,
) -> wav.AtomicWavWriter:
    """An all-or-nothing writer of ``path`` in ``fmt`` (see :class:`~avsep.io.wav.AtomicWavWriter`);
    ``bitrate`` and ``tags`` apply to the compressed formats, the input's speaker ``layout``
    (PyAV's name) to WAV and FLAC (the compressed ones write the channel count's default)."""
    if fmt in encoded.FORMATS:
        return encoded.AtomicLossyWriter(
            path, sample_rate, channels, fmt, overwrite=overwrite, bitrate=bitrate, tags=tags
        )
    writer = flac.AtomicFlacWriter if fmt in flac.FORMATS else wav.AtomicWavWriter
    return writer(path, sample_rate, channels, fmt, overwrite=overwrite, layout=layout)


def write_stdout(
    blocks: Iterable[np.ndarray],
    sample_rate: int,
    fmt: str = "pcm16",
    stream: BinaryIO | None = None,
    bitrate: int | None = None,
    layout: str | None = None,
) -> bool:
    """Stream ``blocks`` (``[n]`` or ``[n, channels]``) to standard output in ``fmt`` (``layout``
    as :func:`open_writer`'s); False when the reader closed the pipe early."""
    if fmt in encoded.FORMATS:
        return encoded.write_lossy_stdout(blocks, sample_rate, fmt, stream, bitrate)
    if fmt in flac.FORMATS:
        return flac.write_flac_stdout(blocks, sample_rate, fmt, stream, layout)
    return wav.write_wav_stdout(blocks, sample_rate, fmt, stream, layout)


def write_outputs(
    paths: Sequence[Path],
    blocks: Iterable[np.ndarray],
    sample_rate: int,
    fmt: str = "pcm16",
    *,
    channels: int = 1,
    overwrite: bool = False,
    before_rename: Callable[[], None] | None = None,
    bitrate: int | None = None,
    tags: Sequence[dict[str, str]] | None = None,
    layout: str | None = None,
) -> None:
    """Row ``i`` of every ``[rows, n]`` (or ``[rows, channels, n]``) block into ``paths[i]`` in
    ``fmt`` (:func:`open_writer`; ``bitrate`` and ``tags[i]`` for the compressed formats, ``layout``
    for WAV and FLAC): all of
    the files, or none (an error or Ctrl-C drops every temporary file). What the batch and
    :meth:`avsep.separation.separator.SeparationResult.save` write with. ``before_rename`` runs once every
    block is written, before the first file takes its name (the batch's provenance record)."""
    with ExitStack() as stack:
        with stage("write"):
            writers = [
                stack.enter_context(
                    open_writer(
                        p,
                        sample_rate,
                        channels,
                        fmt,
                        overwrite,
                        bitrate=bitrate,
                        tags=tags[i] if tags else None,
                        layout=layout,
                    )
                )
                for i, p in enumerate(paths)
            ]
        for block in blocks:
            with stage("write"):
                for writer, row in zip(writers, block):
                    writer.write(output_frames(row))
        with stage("write"):
            if before_rename is not None:
                before_rename()
            for writer in reversed(writers):  # the order of leaving the stack; closing twice is a no-op
                writer.close()


def output_frames(row: np.ndarray) -> np.ndarray:
    """One output's samples as writers take them: ``[n]`` mono, ``[channels, n]`` -> ``[n, channels]``."""
    return row.T if row.ndim == 2 else row
