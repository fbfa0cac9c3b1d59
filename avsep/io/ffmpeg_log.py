"""FFmpeg's log: dropped (PyAV's default), or sent into Python's logging for ``--debug``.

Why a policy at all: PyAV's log callback takes the GIL, so a decoder thread that logs while the
main thread frees its codec context (under the GIL) waits forever (the test suite hung so:
py-spy showed the main thread in ``avcodec_free_context``, a decoder thread in
``logging_log_callback``). So the log stays off unless asked for, threaded video decoding only
while it is off, and a library that turns it on behind avsep's back is overruled.
"""

from __future__ import annotations

import logging

import av.logging

#: FFmpeg's lines ("moov atom not found") never reach the terminal raw: they go to the loggers
#: ``libav.*`` only when :func:`route_ffmpeg_log` asks (the command line's ``--debug``,
#: :func:`avsep.cli.reporting.ffmpeg_log`). The NullHandler keeps Python's last-resort handler
#: from printing them when nobody configured logging.
logging.getLogger("libav").addHandler(logging.NullHandler())


_log_routed = False


def route_ffmpeg_log(enabled: bool) -> None:
    """Send FFmpeg's warnings into Python's logging (``enabled``) or drop them (PyAV's default).

    Off unless asked for: PyAV's log callback takes the GIL, so a decoder thread that logs
    while the main thread frees its codec context (under the GIL) waits forever; with the log
    on, :class:`~avsep.io.video.FrameReader` decodes on one thread (:func:`decoder_threads`)."""
    global _log_routed
    _log_routed = enabled
    av.logging.set_level(av.logging.WARNING if enabled else None)


def keep_log_policy() -> None:
    """Undo a library that turned PyAV's log on behind avsep's back (``import torchvision``
    sets it to ERROR), which would both print FFmpeg's lines and risk that deadlock."""
    if not _log_routed and av.logging.get_level() is not None:
        av.logging.set_level(None)


def log_routed() -> bool:
    """Whether FFmpeg's log goes through Python (:func:`route_ffmpeg_log`): no second Python
    thread may then decode beside the main one."""
    return _log_routed


def decoder_threads() -> str:
    """The thread type for a video decoder: FFmpeg's own (``AUTO``) unless its log goes through
    Python (:func:`route_ffmpeg_log`), where a logging decoder thread could deadlock a free."""
    return "NONE" if _log_routed else "AUTO"
