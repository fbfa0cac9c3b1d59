"""Streaming WAV output that never leaves a partial file behind.

Separation of a long input runs for minutes and writes as it goes. :class:`AtomicWavWriter`
writes to a hidden temporary file next to the target and renames it into place only when
everything succeeded, so an interrupted or failed run leaves either the old state or a complete
file, never a truncated WAV that looks valid.

The RIFF encoding is done here rather than with libsndfile because disk errors must reach us as
``OSError``s with an errno (``ENOSPC``, ``EACCES``, ...) to be reported properly; through
libsndfile they surface as a bare short-write assertion.
"""

from __future__ import annotations

import errno
import os
import struct
import sys
import tempfile
import weakref
from collections.abc import Iterable
from itertools import chain
from pathlib import Path
from types import TracebackType
from typing import BinaryIO

import av
import numpy as np

from avsep.errors import AvsepError, InputError, already_exists, os_reason, write_error

#: Output sample formats by CLI name, with the matching soundfile subtype names.
FORMATS = {"pcm16": "PCM_16", "pcm24": "PCM_24", "float": "FLOAT"}

#: Bytes per sample per format.
_WIDTH = {"pcm16": 2, "pcm24": 3, "float": 4}

_WAVE_FORMAT_PCM = 1
_WAVE_FORMAT_IEEE_FLOAT = 3
_WAVE_FORMAT_EXTENSIBLE = 0xFFFE
#: Tail of the KSDATAFORMAT_SUBTYPE GUIDs; the first two bytes are the format code.
_GUID_TAIL = b"\x00\x00\x00\x00\x10\x00\x80\x00\x00\xaa\x00\x38\x9b\x71"
#: Speaker masks of mono and stereo, what a reader assumes of a plain PCM file; a file of more
#: channels whose layout is not known declares no speaker positions (mask 0).
_CHANNEL_MASK = {1: 0x4, 2: 0x3}
#: The speakers of WAVE_FORMAT_EXTENSIBLE's channel mask, bit ``i`` for name ``i`` (FFmpeg's names,
#: as PyAV gives them; the bits are FFmpeg's too). A file's channels come in this order.
_SPEAKERS = tuple("FL FR FC LFE BL BR FLC FRC BC SL SR TC TFL TFC TFR TBL TBC TBR".split())

#: Largest data chunk a RIFF size field can describe.
_MAX_DATA = 0xFFFFFFFF - 72


def _check_format(fmt: str, formats: dict = FORMATS) -> None:
    if fmt not in formats:
        raise InputError(f"unknown output format {fmt!r}; use one of {', '.join(formats)}")


def default_layout(channels: int) -> str:
    """FFmpeg's default layout for a bare channel count (mono, stereo, then ``3c`` to ``8c``, which
    PyAV names 2.1, 4.0, 5.0, 5.1, 6.1, 7.1): what the compressed encoders and the muxer, which
    need a layout, write whatever the input's. It names positions (an LFE for three channels),
    so a writer that can leave them unsaid (WAV, FLAC: :func:`speaker_layout`) does not use it
    for a layout it does not know."""
    return "mono" if channels == 1 else "stereo" if channels == 2 else f"{channels}c"


def speaker_layout(channels: int, layout: str | None) -> av.AudioLayout | None:
    """``layout`` (PyAV's name of the input's layout) when it puts ``channels`` channels on
    speakers a WAV channel mask can name, in its order; None when it is not given, holds another
    count (a downmix), leaves the speakers unspecified ("6 channels") or names others, so that
    a writer never invents positions the input did not have."""
    if not layout:
        return None
    try:
        known = av.AudioLayout(layout)
    except (ValueError, av.error.FFmpegError):
        return None
    return known if known.nb_channels == channels and _speaker_mask(known) else None


def _speaker_mask(layout: av.AudioLayout) -> int:
    """WAVE_FORMAT_EXTENSIBLE's channel mask of ``layout``; 0 when one of its speakers has no bit
    (or is unspecified) or they are not in the mask's order."""
    bits = [_SPEAKERS.index(c.name) if c.name in _SPEAKERS else -1 for c in layout.channels]
    if not bits or min(bits) < 0 or bits != sorted(set(bits)):
        return 0
    return sum(1 << bit for bit in bits)


def channel_mask(channels: int, layout: str | None = None) -> int:
    """The channel mask a WAV of ``channels`` channels declares: the input's ``layout`` when it
    names the speakers (a 5.1 video's stems say which is the centre, which the LFE), else mono's
    or stereo's, else none."""
    known = speaker_layout(channels, layout)
    return _speaker_mask(known) if known is not None else _CHANNEL_MASK.get(channels, 0)


def _header(sample_rate: int, channels: int, fmt: str, data_bytes: int, mask: int) -> bytes:
    """RIFF/WAVE header for ``data_bytes`` of samples on the speakers of ``mask``
    (:func:`channel_mask`).

    WAVE_FORMAT_EXTENSIBLE is used for more than two channels or more than 16 bits, as the
    format's specification asks (and libsndfile/FFmpeg write), and for one or two channels on
    other speakers than mono's or stereo's; a plain mono or stereo 16-bit file stays plain PCM,
    which every reader opens (Python 3.11's ``wave`` reads no other). Float also gets its ``fact``
    chunk. The header size depends only on channels, format and mask, so it can be rewritten in
    place once the length is known.
    """
    width = _WIDTH[fmt]
    code = _WAVE_FORMAT_IEEE_FLOAT if fmt == "float" else _WAVE_FORMAT_PCM
    block_align = width * channels
    fields = (channels, sample_rate, sample_rate * block_align, block_align, width * 8)
    if channels > 2 or width > 2 or mask != _CHANNEL_MASK.get(channels):
        fmt_chunk = struct.pack("<HHIIHH", _WAVE_FORMAT_EXTENSIBLE, *fields)
        fmt_chunk += struct.pack("<HHI", 22, width * 8, mask)
        fmt_chunk += struct.pack("<H", code) + _GUID_TAIL
    else:
        fmt_chunk = struct.pack("<HHIIHH", code, *fields)
    chunks = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt_chunk)) + fmt_chunk
    if fmt == "float":
        frames = min(data_bytes // block_align, 0xFFFFFFFF)
        chunks += b"fact" + struct.pack("<II", 4, frames)
    chunks += b"data" + struct.pack("<I", data_bytes)
    riff_size = min(len(chunks) + data_bytes, 0xFFFFFFFF)
    return b"RIFF" + struct.pack("<I", riff_size) + chunks


def as_frames(block: np.ndarray, channels: int) -> np.ndarray:
    """Samples ``[n]`` (mono) or ``[n, channels]`` as float32 ``[n, channels]``."""
    data = np.asarray(block, dtype=np.float32)
    if data.ndim == 1:
        data = data[:, None]
    if data.ndim != 2 or data.shape[1] != channels:
        raise ValueError(f"expected {channels} channel(s) as [n] or [n, {channels}], got shape {np.shape(block)}")
    return data


def pcm_ints(data: np.ndarray, bits: int) -> np.ndarray:
    """Float samples as 16-bit (``<i2``) or 24-bit (in ``<i4``) integers, clipped to [-1, 1]
    instead of wrapping; NaN (a diverged model) becomes silence rather than an undefined integer."""
    clipped = np.clip(np.nan_to_num(data, nan=0.0), -1.0, 1.0)
    if bits == 16:
        return np.round(clipped * 32767.0).astype("<i2")
    return np.round(clipped.astype(np.float64) * 8388607.0).astype("<i4")


def _encode(block: np.ndarray, channels: int, fmt: str) -> bytes:
    """Samples as little-endian WAV bytes."""
    data = as_frames(block, channels)
    if fmt == "float":
        return data.astype("<f4").tobytes()
    if fmt == "pcm16":
        return pcm_ints(data, 16).tobytes()
    # Packed in C order first: the rows of a separation arrive transposed, and a byte view of
    # a non-contiguous array is refused.
    return np.ascontiguousarray(pcm_ints(data, 24)).view(np.uint8).reshape(-1, 4)[:, :3].tobytes()


def _discard(handle: BinaryIO, temp: str) -> None:
    """Close and delete a temporary file, ignoring errors (it may already be gone)."""
    try:
        handle.close()
    except OSError:
        pass
    try:
        os.unlink(temp)
    except OSError:
        pass


class AtomicWavWriter:
    """Write a WAV to ``path`` all-or-nothing; use as a context manager. ``layout`` is the
    input's speaker layout (PyAV's name), declared when it fits the channels (:func:`channel_mask`).

    Samples go to ``<dir>/.<name>.<random>.tmp``; a clean exit (or :meth:`close`) renames that
    onto ``path``, an exception (KeyboardInterrupt included) or :meth:`abort` deletes it. A writer
    dropped without either is cleaned up when garbage-collected or at interpreter exit.
    Subclasses encode other formats (:class:`avsep.io.flac.AtomicFlacWriter`) by overriding
    :attr:`formats`, :meth:`_begin`, :meth:`write` and :meth:`_finish`.
    """

    #: The ``fmt`` names this writer encodes.
    formats: dict = FORMATS

    def __init__(
        self,
        path: str | Path,
        sample_rate: int,
        channels: int = 1,
        fmt: str = "pcm16",
        overwrite: bool = False,
        *,
        layout: str | None = None,
    ) -> None:
        _check_format(fmt, self.formats)
        if sample_rate <= 0 or channels <= 0:
            raise ValueError(f"bad WAV parameters: {sample_rate} Hz, {channels} channel(s)")
        self.path = Path(path)
        self.sample_rate = sample_rate
        self.channels = channels
        self.fmt = fmt
        self.overwrite = overwrite
        self.layout = layout
        self._mask = channel_mask(channels, layout)  # the header's, written at the start and the end
        self._data_bytes = 0
        self._committed = False
        self._check_target()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, self._temp = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".tmp", dir=self.path.parent)
        except OSError as exc:
            raise write_error(self.path, exc) from None
        self._file: BinaryIO = os.fdopen(fd, "wb")
        self._cleanup = weakref.finalize(self, _discard, self._file, self._temp)
        try:
            # mkstemp creates 0600; give the result the permissions a plain open() would.
            umask = os.umask(0)
            os.umask(umask)
            os.fchmod(fd, 0o666 & ~umask)
            self._begin()
        except OSError as exc:
            self.abort()
            raise write_error(self.path, exc) from None

    def _begin(self) -> None:
        """Start the file: a header with a placeholder length."""
        self._file.write(_header(self.sample_rate, self.channels, self.fmt, 0, self._mask))

    def _finish(self) -> None:
        """Complete the file once every sample is written: the header with the true length."""
        self._file.seek(0)
        self._file.write(_header(self.sample_rate, self.channels, self.fmt, self._data_bytes, self._mask))

    def _check_target(self) -> None:
        if self.path.is_dir():
            raise InputError(f"{self.path}: is a directory; give a file name for the output")
        if self.path.exists() and not self.overwrite:
            raise already_exists(self.path, more=" or --skip-existing to keep it")

    def write(self, block: np.ndarray) -> None:
        """Append samples: float ``[n]`` for mono or ``[n, channels]``."""
        data = _encode(block, self.channels, self.fmt)
        if self._data_bytes + len(data) > _MAX_DATA:
            self.abort()
            raise AvsepError(
                f"cannot write {self.path}: longer than a WAV file can hold (4 GiB); "
                "use --format pcm16 or split the input"
            )
        try:
            self._file.write(data)
        except OSError as exc:
            self.abort()
            raise write_error(self.path, exc) from None
        self._data_bytes += len(data)

    def close(self) -> Path:
        """Finish the header, flush to disk and rename into place; returns the final path.

        The fsync comes before the rename so that a crash cannot leave a complete-looking name
        over incomplete data, and so that space errors reported late (NFS, quotas) still abort.
        Closing again is a no-op; closing an aborted writer is a bug (ValueError).
        """
        if self._committed:
            return self.path
        if not self._cleanup.alive:
            raise ValueError(f"the writer for {self.path} was aborted; nothing to close")
        try:
            self._check_target()
            self._finish()
            self._file.flush()
            os.fsync(self._file.fileno())
            self._file.close()
            os.replace(self._temp, self.path)
        except OSError as exc:
            self.abort()
            raise write_error(self.path, exc) from None
        except BaseException:
            self.abort()
            raise
        self._cleanup.detach()
        self._committed = True
        return self.path

    def abort(self) -> None:
        """Drop everything written so far (idempotent)."""
        self._cleanup()

    def __enter__(self) -> AtomicWavWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()


def write_wav_stdout(
    blocks: Iterable[np.ndarray],
    sample_rate: int,
    fmt: str = "pcm16",
    stream: BinaryIO | None = None,
    layout: str | None = None,
) -> bool:
    """Stream a WAV to ``stream`` (default: standard output) while ``blocks`` are produced.

    The channel count comes from the first block (``[n]`` mono or ``[n, ch]``); ``layout`` as
    :class:`AtomicWavWriter`'s. The length is
    unknown up front, so the header declares the largest size; readers stop at end of stream,
    which is how FFmpeg and sox write WAV to pipes. If ``stream`` is seekable (stdout redirected
    to a file) the header is rewritten with the true size at the end.

    Returns True when everything was written, False when the reader closed the pipe early
    (``| head``, a player that quit): not a failure, so the caller should stop producing and exit
    quietly. Standard output is then pointed at /dev/null so that the interpreter's final flush
    does not print a BrokenPipeError traceback on the way out. An exception raised while
    producing ``blocks`` propagates; what was already sent stays sent (a pipe cannot be undone).
    """
    _check_format(fmt)
    out = stream if stream is not None else sys.stdout.buffer
    iterator = iter(blocks)
    first = next(iterator, None)
    channels = 1 if first is None or np.ndim(first) == 1 else np.shape(first)[1]
    mask = channel_mask(channels, layout)
    try:
        out.write(_header(sample_rate, channels, fmt, _MAX_DATA, mask))
        written = 0
        for block in chain([] if first is None else [first], iterator):
            data = _encode(block, channels, fmt)
            out.write(data)
            written += len(data)
        out.flush()
        if _seekable(out) and written <= _MAX_DATA:
            out.seek(0)
            out.write(_header(sample_rate, channels, fmt, written, mask))
            out.seek(0, os.SEEK_END)
            out.flush()
    except OSError as exc:
        if exc.errno != errno.EPIPE:  # BrokenPipeError has EPIPE too
            raise AvsepError(f"cannot write to standard output: {os_reason(exc)}") from None
        _silence_stdout(out)
        return False
    return True


def _seekable(out: BinaryIO) -> bool:
    try:
        return out.seekable()
    except (AttributeError, OSError, ValueError):
        return False


def _silence_stdout(out: BinaryIO) -> None:
    if out is not getattr(sys.stdout, "buffer", None):
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, sys.stdout.fileno())
    finally:
        os.close(devnull)
