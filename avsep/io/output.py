"""The output formats of separated sound, and the one place that picks a writer for each.

WAV (``pcm16``, ``pcm24``, ``float``: :mod:`avsep.io.wav`) and FLAC (``flac``, ``flac24``:
:mod:`avsep.io.flac`) share one interface: an all-or-nothing file writer used as a context
manager, and a writer to standard output that returns False when the reader left early.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import BinaryIO

import numpy as np

from avsep.io import flac, wav

#: Every output format by CLI name.
FORMATS = (*wav.FORMATS, *flac.FORMATS)


def extension(fmt: str) -> str:
    """The file extension (``{ext}`` of ``--output-template``) of a format."""
    return "flac" if fmt in flac.FORMATS else "wav"


def open_writer(
    path: str | Path, sample_rate: int, channels: int = 1, fmt: str = "pcm16", overwrite: bool = False
) -> wav.AtomicWavWriter:
    """An all-or-nothing writer of ``path`` in ``fmt`` (see :class:`~avsep.io.wav.AtomicWavWriter`)."""
    writer = flac.AtomicFlacWriter if fmt in flac.FORMATS else wav.AtomicWavWriter
    return writer(path, sample_rate, channels, fmt, overwrite=overwrite)


def write_stdout(
    blocks: Iterable[np.ndarray], sample_rate: int, fmt: str = "pcm16", stream: BinaryIO | None = None
) -> bool:
    """Stream ``blocks`` (``[n]`` or ``[n, channels]``) to standard output in ``fmt``; False when
    the reader closed the pipe early."""
    if fmt in flac.FORMATS:
        return flac.write_flac_stdout(blocks, sample_rate, fmt, stream)
    return wav.write_wav_stdout(blocks, sample_rate, fmt, stream)
