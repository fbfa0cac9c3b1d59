"""The inference pipeline and the Python API.

>>> from avsep import Separator
>>> sep = Separator()                                   # the bundled model
>>> result = sep.separate_file("duet.mp4", boxes=[(0, 0, 112, 224), (112, 0, 224, 224)])
>>> result.sources.shape                                # [boxes, samples] at the video's rate

Everything streams: audio is decoded block by block, cut into overlapping windows
(:mod:`avsep.signal.chunking`), each window's 3 guide frames are decoded by seeking, windows are batched
through the visual trunk and the mask network, and finished samples are handed on as soon as no
later window can change them. :meth:`Separator.stream` is that stream for a probed file
(:class:`~avsep.io.media.MediaInfo`, the file handle every reader takes) and a
:class:`~avsep.boxes.players.BoxPlan`; the rest are thin wrappers over it:
:meth:`Separator.stream_file` probes a path once and resolves its ``boxes``
(:mod:`avsep.boxes.request`), :meth:`Separator.separate_file` collects the stream for short files,
:meth:`Separator.separate_many` writes files and folders of videos as ``avsep separate`` does
(:mod:`avsep.batch.job`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from avsep.batch.job import Outcome, output_names
from avsep.batch.run import separate_paths
from avsep.batch.streams import SeparationStream, output_channels
from avsep.boxes.box import Box
from avsep.boxes.detect import PlayerFinder, player_finder
from avsep.boxes.players import AutoBoxesWarning, BoxPlan
from avsep.boxes.request import FIND, BoxRequest, plan_boxes
from avsep.errors import InputError
from avsep.io.audio import Resampler, resample_rows
from avsep.io.media import MediaInfo, check_separable, probe
from avsep.io.output import extension, write_outputs
from avsep.io.soundtrack import check_soundtrack
from avsep.io.video import resize_frames
from avsep.models.device import select_device
from avsep.options import (
    DEFAULT_BATCH_SIZE,
    DEFAULT_DEVICE,
    DEFAULT_GUIDE,
    DEFAULT_GUIDE_HEAD,
    DEFAULT_MASK,
    DEFAULT_OUT,
    DEFAULT_OVERLAP,
    DEFAULT_SAME_INSTRUMENT,
    SeparationOptions,
)
from avsep.separation import fullband, same_instrument
from avsep.separation.engine import STFT_FRAME_TIMES, Engine, SilentAudioWarning
from avsep.separation.named import NamedGuides, named_guides
from avsep.separation.reuse import CropMemo
from avsep.signal import dsp
from avsep.signal.chunking import Window, Windower, num_windows
from avsep.timing import stage

#: Names users of the API import from here, though they live lower in the house.
__all__ = [
    "AutoBoxesWarning",
    "SeparationResult",
    "SeparationStream",
    "Separator",
    "SilentAudioWarning",
    "check_separable",
    "select_device",
]


@dataclass
class SeparationResult:
    """Separated signals, one row per box, at ``sample_rate``; the residual if asked for.

    ``names``: one output name per source (the boxes' names, the players found, or ``sourceN``),
    what ``avsep separate`` would call the files. ``unsure``: per source, the windows in which
    its pictures showed none of the model's instruments, so it took what the others leave
    (:attr:`~avsep.batch.streams.SeparationStream.unsure`; None for arrays). ``layout``: the
    speakers of the sources' channels (PyAV's name, the video's when they keep its channels;
    :attr:`~avsep.batch.streams.SeparationStream.layout`), which :meth:`save` declares as the CLI does.
    """

    sources: np.ndarray
    sample_rate: int
    residual: np.ndarray | None = None
    names: list[str] = field(default_factory=list)
    unsure: np.ndarray | None = None
    layout: str | None = None

    def __post_init__(self) -> None:
        if not self.names:
            self.names = output_names(len(self.sources), None, residual=False)

    def save(self, folder: str | Path, format: str = "pcm16", *, overwrite: bool = False) -> list[Path]:
        """Write ``folder/<name>.<ext>`` per source (and the residual) with the CLI's writer
        (:func:`avsep.io.output.write_outputs`): all the files or none, an existing one replaced only
        with ``overwrite``; ``format`` pcm16, pcm24, float (``.wav``), flac or flac24 (``.flac``);
        ``[S, channels, n]`` sources give files of that many channels, on the speakers of
        :attr:`layout` (a 5.1 video's stems say which is the centre). Returns the paths written."""
        labels = output_names(len(self.sources), self.names, residual=self.residual is not None)
        paths = [Path(folder) / f"{name}.{extension(format)}" for name in labels]
        rows = self.sources if self.residual is None else np.concatenate([self.sources, self.residual[None]])
        channels = rows.shape[1] if rows.ndim == 3 else 1
        write_outputs(
            paths, [rows], self.sample_rate, format, channels=channels, overwrite=overwrite, layout=self.layout
        )
        return paths


class Separator(Engine):
    """Separates the instrument in each box of a video.

    Parameters are fixed per instance so that a batch of files reuses one loaded model.
    ``cycles`` overrides the PCN's number of recurrent cycles (a speed/quality knob).
    ``full_band`` applies the masks to the mixture at the output rate and per channel
    (:mod:`avsep.separation.fullband`, with ``extension`` above 5.5 kHz); ``False`` masks the model's mono
    11,025 Hz signal and resamples it up (nothing above 5.5 kHz; for comparison).
    ``guide_head``: tell a label-trained model over EfficientNet-Lite0 what each box shows with
    the bundled guide head (:mod:`avsep.models.guide_head`), and let a box the head is unsure
    of take what the others leave (:meth:`~avsep.separation.engine.Engine.model_guides`);
    ``False``: the ImageNet classes gathered. On by default: on duets of held-out real
    recordings and photos it separated +4.29 dB against +2.03 (plain ratio masks, when chosen;
    docs/experiments/2026-12-06-rest-for-other.md).
    ``same_instrument``: ``motion`` splits the mask of boxes whose guides name the same
    instrument by which box moves when (:mod:`avsep.separation.same_instrument`; :class:`avsep.options.SameInstrument`).
    ``guide``: ``names`` lets a box's name, when it is one of the model's classes, guide that box,
    and one named ``other`` or with an instrument outside them take what the others leave
    (:mod:`avsep.separation.named`); ``frames`` guides every box by its pictures.
    """

    def __init__(
        self,
        model: str | Path | None = None,
        *,
        device: str = DEFAULT_DEVICE,
        mask: str = DEFAULT_MASK.value,
        overlap: float = DEFAULT_OVERLAP,
        batch_size: int = DEFAULT_BATCH_SIZE,
        backbone_weights: str | Path | None = None,
        cycles: int | None = None,
        full_band: bool = True,
        extension: str = fullband.DEFAULT_EXTENSION,
        guide_head: bool = DEFAULT_GUIDE_HEAD,
        same_instrument: str = DEFAULT_SAME_INSTRUMENT.value,
        guide: str = DEFAULT_GUIDE.value,
    ) -> None:
        # checked when built: a mistake answers before the model loads
        options = SeparationOptions(model, device, mask, same_instrument, overlap, batch_size, backbone_weights, guide)
        super().__init__(options, cycles=cycles, full_band=full_band, extension=extension, guide_head=guide_head)

    @classmethod
    def from_options(
        cls,
        options: SeparationOptions,
        *,
        cycles: int | None = None,
        full_band: bool = True,
        extension: str = fullband.DEFAULT_EXTENSION,
        guide_head: bool = DEFAULT_GUIDE_HEAD,
    ) -> Separator:
        """The Separator of ``options`` built (and checked) by its caller: the command line's,
        whose messages name its flags; the other arguments as for the constructor."""
        separator = cls.__new__(cls)
        Engine.__init__(
            separator, options, cycles=cycles, full_band=full_band, extension=extension, guide_head=guide_head
        )
        return separator

    # -- automatic boxes --------------------------------------------------------------------

    #: the finder behind automatic boxes, built on first use; False: impossible
    _finder: PlayerFinder | None | bool = None

    def player_finder(self) -> PlayerFinder | None:
        """The finder behind automatic boxes (:func:`avsep.boxes.detect.player_finder` of this model's
        trunk, the one every command uses), built once. None if it cannot classify."""
        if self._finder is None:
            finder = player_finder(self.trunk)
            if finder is not None:
                finder.trunk.to(self.device)
                if finder.head is not None:
                    finder.head.to(self.device)
                finder.motion_splits = self.same_instrument == "motion"
            self._finder = finder or False
        return self._finder or None

    def guides_for_names(self, names: Sequence[str | None] | None, count: int) -> NamedGuides | None:
        """What the user's ``names`` of ``count`` boxes guide (:mod:`avsep.separation.named`), or None
        where they cannot: ``guide="frames"``, no name per box, or a model not trained with labels."""
        return named_guides(names, count, self.guide_space) if self.options.guide == "names" else None

    def plan(
        self, request: BoxRequest, media: MediaInfo, on_frame: Callable[[int, int], None] | None = None
    ) -> BoxPlan:
        """:func:`~avsep.boxes.request.plan_boxes` for a separation that follows: a search starts its work."""
        if request.kind == FIND:
            self.audio_ahead(media)
        finder, ahead = self.player_finder, self.guide_parts
        return plan_boxes(request, media, finder, overlap=self.overlap, on_frame=on_frame, ahead=ahead)

    def find_players(
        self,
        source: str | Path | MediaInfo,
        *,
        sources: int | None = None,
        video_stream: int | None = None,
        on_frame: Callable[[int, int], None] | None = None,
    ) -> BoxPlan:
        """Automatic boxes for a video (a path or its probe result; :func:`avsep.boxes.request.plan_boxes`):
        strips with a :attr:`~avsep.boxes.players.BoxPlan.note` when the players cannot be found."""
        media = source if isinstance(source, MediaInfo) else probe(source, video_stream=video_stream)
        request = BoxRequest(FIND, sources=sources)
        return plan_boxes(request, media, self.player_finder, overlap=self.overlap, on_frame=on_frame)

    # -- arrays -----------------------------------------------------------------------------

    def separate_arrays(
        self,
        audio: np.ndarray,
        sample_rate: int,
        frames_per_box: Sequence[np.ndarray] | None = None,
        *,
        guides: torch.Tensor | None = None,
        names: Sequence[str | None] | None = None,
        motion_frames: Sequence[np.ndarray] | None = None,
        motion_times: Sequence[float] | None = None,
    ) -> np.ndarray:
        """Separate a mono (or ``[n, channels]``) signal with one fixed set of frames per box.

        ``frames_per_box[i]`` is ``[F, H, W, 3]`` uint8 pictures of source ``i`` (any size; they
        are resized to 224 x 224). Instead of pictures, ``guides`` ``[S, D]`` may give the guide
        vectors themselves (e.g. :func:`avsep.models.guide.label_guide` for an oracle model).
        ``names``: one per box; a box whose name is one of the model's classes is guided by it
        (:meth:`guides_for_names`), so its pictures may be None.
        Returns ``[S, n]`` at ``sample_rate``, or ``[S, channels, n]`` for ``[n, channels]``
        audio on the full-band path (the band-limited one downmixes). ``motion_frames[i]``
        ``[N, H, W, 3]``: pictures of source ``i`` at ``motion_times`` (seconds; default: spread
        evenly over the audio), for ``same_instrument="motion"``.
        """
        audio = np.asarray(audio, dtype=np.float32)
        if audio.ndim not in (1, 2) or audio.size == 0:
            raise InputError("audio must be a non-empty 1-D array or [samples, channels]")
        by_channel = audio.ndim == 2
        native = audio if by_channel else audio[:, None]  # [n, channels]
        audio = native.mean(axis=1) if by_channel else audio
        named = self.guides_for_names(names, len(names or ()))
        if guides is not None:
            visual = guides.to(self.device, torch.float32)
        elif not frames_per_box and not (named and named.all_named):
            raise InputError("frames_per_box is empty; give the pictures of at least one source")
        else:  # one guide per box: the boxes may come with different numbers of frames

            def pictures() -> torch.Tensor:
                return torch.cat([self.guide(resize_frames(f)[None, None], CropMemo()) for f in frames_per_box], 1)

            visual = (named.apply(pictures, 1) if named else pictures())[0].to(self.device, torch.float32)
        to_model = Resampler(sample_rate, dsp.SAMPLE_RATE)
        with stage("resample in"):
            model_audio = np.concatenate([to_model.push(audio), to_model.flush()])
        tap = None
        if self.full_band:
            tap = fullband.MixtureTap(sample_rate, native.shape[1])
            tap.push(native, sample_rate)
            tap.push(None, sample_rate)
        motion_for = None
        if motion_frames is not None and self.splits(len(visual)):
            if motion_times is None:
                count = len(motion_frames[0])
                motion_times = (np.arange(count) + 0.5) * len(audio) / sample_rate / max(count, 1)
            track = same_instrument.MotionTrack(motion_frames, motion_times)

            def motion_for(wins: list[Window]) -> np.ndarray:
                return np.stack([track.window(w.start / dsp.SAMPLE_RATE, STFT_FRAME_TIMES) for w in wins])

        rows = self.run_windows(
            Windower(self.overlap)([model_audio]),
            lambda wins: visual.expand(len(wins), -1, -1),
            len(visual),
            residual=False,
            tap=tap,
            motion_for=motion_for,
        )
        separated = np.concatenate(list(rows), axis=-1)
        if tap is not None:
            return separated if by_channel else separated[:, 0]
        return resample_rows(separated, dsp.SAMPLE_RATE, sample_rate, audio.shape[0])

    # -- files ------------------------------------------------------------------------------

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
    ) -> SeparationStream:
        """The separation of the probed file ``media`` (streams chosen) along ``plan``, as a
        stream of output blocks; the boxes of ``plan`` must already fit the frame
        (:func:`~avsep.boxes.request.plan_boxes`). ``sample_rate`` ``None`` keeps the input's rate.
        ``on_window(done, total)`` is called after each window (progress bars). Outputs keep the
        audio stream's channels on the full-band path, unless ``mono`` downmixes them. ``names``:
        the user's name of each box (never the finder's guesses), which guide the boxes they
        name with one of the model's classes (:meth:`guides_for_names`)."""
        check_separable(media)
        out_rate = sample_rate or media.audio.sample_rate
        total = num_windows(media.duration, self.overlap)
        channels = output_channels(media.audio, mono, self.full_band)
        tap = fullband.MixtureTap(out_rate, channels) if self.full_band else None
        named = self.guides_for_names(names, len(plan.sources))
        if named is not None and not self.splits(len(plan.sources)):
            named.warn_alike(media.path, self.options.wording)
        unsure = np.zeros(len(plan.sources), dtype=np.int64)
        audio, self._audio = self._audio, None  # its sound, decoded while its players were found
        blocks = self.blocks(media, plan, residual, out_rate, on_window, total, tap, named, unsure, audio)
        guided = named.describe() if named else None
        return SeparationStream(media, plan.boxes, out_rate, total, residual, blocks, plan, channels, guided, unsure)

    def stream_file(
        self,
        source: str | Path | MediaInfo,
        boxes: Sequence[Box] | BoxPlan | str | None = None,
        *,
        sources: int | None = None,
        sample_rate: int | None = None,
        residual: bool = False,
        audio_stream: int | None = None,
        video_stream: int | None = None,
        on_window: Callable[[int, int], None] | None = None,
        mono: bool = False,
        names: Sequence[str] | None = None,
    ) -> SeparationStream:
        """Probe ``source`` once (unless it is already a probe result) and :meth:`stream` it.

        ``boxes`` are ``(x0, y0, x1, y1)`` in pixels of the displayed frame, or a
        :class:`~avsep.boxes.players.BoxPlan` (boxes that change over time); ``None`` or ``"auto"``
        finds the players (:meth:`find_players`; ``sources`` fixes their number), falling back to
        vertical strips with an :class:`AutoBoxesWarning`; ``"strips"`` cuts the frame into
        ``sources`` (default 2) vertical strips (:class:`~avsep.boxes.request.BoxRequest`).
        ``names``: one per given box (a boxes file's own by default); a name that is one of the
        model's classes guides its box. Found players are guided by their frames. Other
        arguments as for :meth:`stream`.
        """
        request = BoxRequest.from_api(boxes, sources=sources)
        if isinstance(source, MediaInfo):
            media = source
        else:
            media = probe(source, audio_stream=audio_stream, video_stream=video_stream)
        check_separable(media)
        check_soundtrack(media, audio_stream)
        plan = self.plan(request, media)
        given = request.guiding(names or plan.names)
        return self.stream(
            media, plan, sample_rate=sample_rate, residual=residual, on_window=on_window, mono=mono, names=given
        )

    def separate_file(
        self, source: str | Path | MediaInfo, boxes: Sequence[Box] | BoxPlan | str | None = None, **kwargs
    ) -> SeparationResult:
        """Separate a whole file into memory (use :meth:`stream_file` for long videos); ``kwargs``
        as for :meth:`stream_file`."""
        return collect(self.stream_file(source, boxes, **kwargs))

    def separate_many(
        self,
        inputs: str | Path | Iterable[str | Path],
        out_dir: str | Path = DEFAULT_OUT,
        boxes: Sequence[Box] | BoxPlan | str | None = None,
        **options,
    ) -> list[Outcome]:
        """Separate videos and folders of videos into WAV files under ``out_dir``, with the
        rules of ``avsep separate``: recursion into folders, output names and template,
        ``skip_existing``/``overwrite``, each video's files written all together or not at all.
        One failed video does not stop the others. See :func:`avsep.batch.run.separate_paths` for
        ``options``; returns one :class:`~avsep.batch.job.Outcome` per input.
        """
        return separate_paths(self, inputs, out_dir, boxes, **options)


def collect(stream: SeparationStream) -> SeparationResult:
    """A whole stream in memory: the sources, and the residual when the stream has one."""
    parts = list(stream.blocks)
    rows = len(stream.boxes) + int(stream.residual)
    empty = np.zeros((rows, 0) if stream.channels == 1 else (rows, stream.channels, 0), np.float32)
    out = np.concatenate(parts, axis=-1) if parts else empty
    names = stream.plan.names if stream.plan is not None else None
    return SeparationResult(
        sources=out[: len(stream.boxes)],
        sample_rate=stream.sample_rate,
        residual=out[-1] if stream.residual else None,
        names=output_names(len(stream.boxes), names, residual=False),
        unsure=stream.unsure,
        layout=stream.layout,
    )
