"""The output formats of separated sound, and the one place that picks a writer for each.

WAV (``pcm16``, ``pcm24``, ``float``: :mod:`avsep.io.wav`) and FLAC (``flac``, ``flac24``:
:mod:`avsep.io.flac`) share one interface: an all-or-nothing file writer used as a context
manager, and a writer to standard output that returns False when the reader left early.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import BinaryIO

import numpy as np

from avsep.io import flac, wav
from avsep.timing import stage

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


def write_outputs(
    paths: Sequence[Path],
    blocks: Iterable[np.ndarray],
    sample_rate: int,
    fmt: str = "pcm16",
    *,
    channels: int = 1,
    overwrite: bool = False,
    before_rename: Callable[[], None] | None = None,
) -> None:
    """Row ``i`` of every ``[rows, n]`` (or ``[rows, channels, n]``) block into ``paths[i]`` in
    ``fmt`` (WAV or FLAC, :func:`open_writer`): all of the files, or none (an error or Ctrl-C
    drops every temporary file). What the batch and
    :meth:`avsep.separation.separator.SeparationResult.save` write with. ``before_rename`` runs once every
    block is written, before the first file takes its name (the batch's provenance record)."""
    with ExitStack() as stack:
        with stage("write"):
            writers = [
                stack.enter_context(open_writer(p, sample_rate, channels, fmt, overwrite=overwrite)) for p in paths
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
