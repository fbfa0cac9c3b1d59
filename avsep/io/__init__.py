"""Reading video and audio, writing WAV: the only part of avsep that touches media files.

Everything here reports bad input as :class:`avsep.errors.InputError` and write failures as
:class:`avsep.errors.AvsepError`, with one line naming the file; raw ``av``/``OSError``
exceptions do not escape for problems the user can fix.
"""

from avsep.io.audio import MODEL_SR, Resampler, load_audio, stream_audio
from avsep.io.media import AudioStreamInfo, MediaInfo, VideoStreamInfo, probe
from avsep.io.video import FrameReader, crop_boxes
from avsep.io.wav import FORMATS, AtomicWavWriter, write_wav_stdout

__all__ = [
    "FORMATS",
    "MODEL_SR",
    "AtomicWavWriter",
    "AudioStreamInfo",
    "FrameReader",
    "MediaInfo",
    "Resampler",
    "VideoStreamInfo",
    "crop_boxes",
    "load_audio",
    "probe",
    "stream_audio",
    "write_wav_stdout",
]
