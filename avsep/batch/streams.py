"""What a batch drives and reads: a separator (:class:`Streams`, which
:class:`avsep.separation.separator.Separator` is), the stream of one separation
(:class:`SeparationStream`, also what the Python API's ``stream`` returns), and the progress it
tells a display (:class:`Progress`). Here, below the separation, so that the batch never imports
the separation it drives.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

import numpy as np

from avsep.boxes.box import Box
from avsep.boxes.players import BoxPlan
from avsep.io.media import AudioStreamInfo, MediaInfo
from avsep.options import BatchOptions

if TYPE_CHECKING:
    from avsep.boxes.request import BoxRequest
    from avsep.models.serialize import Checkpoint


class Progress(Protocol):
    """What a batch tells a progress display (:class:`avsep.progress.SeparationProgress`)."""

    def set_windows(self, total: int, description: str | None = None) -> None: ...

    def window(self, done: int, total: int) -> None: ...


class Silent:
    """The progress display of a batch nobody watches."""

    def set_windows(self, total: int, description: str | None = None) -> None:
        pass

    def window(self, done: int, total: int) -> None:
        pass


@dataclass
class SeparationStream:
    """A separation in progress: ``blocks`` yields ``[rows, n]`` float32 at ``sample_rate``.

    Rows are the boxes in order, then the residual when ``residual`` was asked for. With more
    than one output channel (full band, a stereo video) blocks are ``[rows, channels, n]``.
    """

    info: MediaInfo
    boxes: list[Box]
    sample_rate: int
    num_windows: int
    residual: bool
    blocks: Iterator[np.ndarray] = field(repr=False)
    #: Where each source's box is over time (names and class guesses in automatic mode).
    plan: BoxPlan | None = None
    #: Channels of every output: the video's, or 1 (``mono``, or the band-limited path).
    channels: int = 1
    #: What the user's names guide (:meth:`~avsep.separation.named.NamedGuides.describe`), if any.
    guided: str | None = None
    #: Per box guided by its frames, the windows in which the guide head saw none of the
    #: model's instruments in it, so that it took what the other boxes leave (counted as the
    #: blocks are made; :meth:`avsep.separation.engine.Engine.model_guides`).
    unsure: np.ndarray | None = None

    @property
    def layout(self) -> str | None:
        """The speaker layout of the outputs (PyAV's name): the audio stream's when they keep its
        channels, None (the count's default) for a downmix."""
        audio = self.info.audio
        return audio.layout if audio is not None and audio.channels == self.channels else None


class Streams(Protocol):
    """The separator a batch drives (:class:`avsep.separation.separator.Separator`)."""

    checkpoint: Checkpoint  # its sha256 names the model in the provenance records
    full_band: bool  # the outputs keep the video's channels (:func:`output_channels`)

    def plan(
        self, request: BoxRequest, media: MediaInfo, on_frame: Callable[[int, int], None] | None = None
    ) -> BoxPlan: ...

    def stream(
        self,
        media: MediaInfo,
        plan: BoxPlan,
        *,
        sample_rate: int | None = None,
        residual: bool = False,
        on_window: Callable[[int, int], None] | None = None,
        mono: bool = False,
        names: Sequence[str | None] | None = None,
    ) -> SeparationStream: ...


def output_channels(audio: AudioStreamInfo, mono: bool, full_band: bool) -> int:
    """The channels of every output of a separation of ``audio``: its own on the full-band path,
    else one (``mono``, or the band-limited path, which masks the model's mono signal). The batch
    checks them against the format before any work; the separator writes them."""
    return 1 if mono or not full_band else max(1, audio.channels)


def guide_note(
    stream: SeparationStream, finding: bool, names: Sequence[str] | None, options: BatchOptions, labels: Sequence[str]
) -> str:
    """What the line that reports a video adds about the guide: which boxes the user's names
    guided, or, when players were found, that names only name the files; and which boxes
    (``labels``: the outputs' names) took what the others leave because their pictures showed
    none of the model's instruments (never silently)."""
    said = ""
    if stream.guided:
        said = f"; {stream.guided}"
    elif finding and names:
        said = f"; {options.wording('names')} only name the files of players found (give boxes to guide by them)"
    if stream.unsure is not None and stream.unsure.any():
        windows = stream.num_windows
        unsure = [f"{lab} in {int(n)} of {windows} windows" for lab, n in zip(labels, stream.unsure) if n]
        said += f"; no instrument of the model's seen, so taking what the other boxes leave: {', '.join(unsure)}"
    return said
