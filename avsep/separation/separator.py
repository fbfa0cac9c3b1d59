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

import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from avsep.batch.job import Outcome, output_names, write_outputs
from avsep.batch.run import separate_paths
from avsep.boxes.box import Box
from avsep.boxes.detect import PlayerFinder, player_finder
from avsep.boxes.players import AutoBoxesWarning, BoxPlan
from avsep.boxes.request import FIND, BoxRequest, plan_boxes
from avsep.errors import InputError, check_one_of
from avsep.io.audio import Resampler, stream_audio
from avsep.io.media import MediaInfo, check_separable, probe
from avsep.io.output import extension
from avsep.io.video import FrameReader, crop_boxes
from avsep.models.device import inference_threads, select_device
from avsep.models.guide import picture_kind
from avsep.models.guide_head import TRUNK as HEAD_TRUNK
from avsep.models.serialize import Checkpoint, load_checkpoint, load_guide_head
from avsep.models.visual import build_trunk
from avsep.models.weights import guide_head_file, resolve_model
from avsep.options import DEFAULT_MASK, DEFAULT_SAME_INSTRUMENT, MASK_MODES, SAME_INSTRUMENT_MODES
from avsep.separation import fullband, same_instrument
from avsep.signal import dsp
from avsep.signal.chunking import Stitcher, Window, Windower, num_windows
from avsep.timing import stage, timed_iter

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

#: Peak level (full scale 1.0) below which an input counts as silent: under half a 16-bit step.
SILENCE_PEAK = 1e-5

#: Most crops per visual-trunk forward on the CPU (rounded down to whole boxes: 6 = 2 boxes of
#: 3 frames). Measured on 2 cores (benchmarks/README.md): 6 crops per forward ran about 1.5x
#: faster per crop than 24 and peaked about 250 MB lower.
TRUNK_CROPS_CPU = 8

#: Times (s) of a window's STFT frames from its first sample (``center=True``: frame j at j hops).
STFT_FRAME_TIMES = np.arange(dsp.WINDOW_FRAMES) * dsp.HOP / dsp.SAMPLE_RATE


class SilentAudioWarning(UserWarning):
    """The input's audio is silent, so every separated output is silent too."""


@dataclass
class SeparationResult:
    """Separated signals, one row per box, at ``sample_rate``; the residual if asked for.

    ``names``: one output name per source (the boxes' names, the players found, or ``sourceN``),
    what ``avsep separate`` would call the files.
    """

    sources: np.ndarray
    sample_rate: int
    residual: np.ndarray | None = None
    names: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.names:
            self.names = output_names(len(self.sources), None, residual=False)

    def save(self, folder: str | Path, format: str = "pcm16", *, overwrite: bool = False) -> list[Path]:
        """Write ``folder/<name>.<ext>`` per source (and the residual) with the CLI's writer
        (:func:`avsep.batch.job.write_outputs`): all the files or none, an existing one replaced only
        with ``overwrite``; ``format`` pcm16, pcm24, float (``.wav``), flac or flac24 (``.flac``);
        ``[S, channels, n]`` sources give files of that many channels. Returns the paths written."""
        labels = output_names(len(self.sources), self.names, residual=self.residual is not None)
        paths = [Path(folder) / f"{name}.{extension(format)}" for name in labels]
        rows = self.sources if self.residual is None else np.concatenate([self.sources, self.residual[None]])
        channels = rows.shape[1] if rows.ndim == 3 else 1
        write_outputs(paths, [rows], self.sample_rate, format, channels=channels, overwrite=overwrite)
        return paths


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


class Separator:
    """Separates the instrument in each box of a video.

    Parameters are fixed per instance so that a batch of files reuses one loaded model.
    ``cycles`` overrides the PCN's number of recurrent cycles (a speed/quality knob).
    ``full_band`` applies the masks to the mixture at the output rate and per channel
    (:mod:`avsep.separation.fullband`, with ``extension`` above 5.5 kHz); ``False`` masks the model's mono
    11,025 Hz signal and resamples it up (nothing above 5.5 kHz; for comparison).
    ``guide_head``: tell a label-trained model over EfficientNet-Lite0 what each box shows with
    the bundled guide head (:mod:`avsep.models.guide_head`) instead of the ImageNet classes
    gathered. Off by default: it names more instruments on held-out photos but separated the
    real clips worse (docs/results.md section 5).
    ``same_instrument``: ``motion`` splits the mask of boxes whose guides name the same
    instrument by which box moves when (:mod:`avsep.separation.same_instrument`; :class:`avsep.options.SameInstrument`).
    """

    def __init__(
        self,
        model: str | Path | None = None,
        *,
        device: str = "auto",
        mask: str = DEFAULT_MASK.value,
        overlap: float = 0.25,
        batch_size: int = 4,
        backbone_weights: str | Path | None = None,
        cycles: int | None = None,
        full_band: bool = True,
        extension: str = fullband.DEFAULT_EXTENSION,
        guide_head: bool = False,
        same_instrument: str = DEFAULT_SAME_INSTRUMENT.value,
    ) -> None:
        with stage("model load"):  # avsep.timing: reported when someone listens
            check_one_of("--mask", mask, MASK_MODES)
            check_one_of("--same-instrument", same_instrument, SAME_INSTRUMENT_MODES)
            if not 0.0 <= overlap <= 0.9:
                raise InputError(f"--overlap must be between 0 and 0.9, got {overlap}")
            if batch_size < 1:
                raise InputError(f"--batch-size must be at least 1, got {batch_size}")
            check_one_of("extension", extension, fullband.EXTENSIONS)
            self.device = select_device(device)
            self.checkpoint: Checkpoint = load_checkpoint(resolve_model(model))
            if cycles is not None:
                if self.checkpoint.arch != "pcn" or cycles < 1:
                    raise InputError("--cycles applies to PCN models only and must be >= 1")
                cfg = self.checkpoint.model.config
                self.checkpoint.model.config = type(cfg)(**{**cfg.__dict__, "cycles": cycles})
            self.model = self.checkpoint.model.to(self.device).eval()
            self.trunk = build_trunk(self.checkpoint.backbone, backbone_weights).to(self.device)
            #: the guide kind the model was trained with (avsep.models.guide), and the kind the
            #: pictures of a box give it (a label-trained model reads the frames' class posterior)
            self.guide_kind = self.checkpoint.guide
            self.picture_kind = picture_kind(self.guide_kind)
            if guide_head and self.picture_kind == "classes" and self.checkpoint.backbone == HEAD_TRUNK:
                head = _guide_head()
                self.trunk.class_head = head.to(self.device) if head is not None else None
            #: how the boxes' masks share each bin (avsep.options.Mask)
            self.mask = mask
            #: what boxes of one instrument do with their shared mask (avsep.options.SameInstrument)
            self.same_instrument = same_instrument
            self.overlap = overlap
            self.batch_size = batch_size
            self.full_band = full_band
            self.extension = extension
        self._finder: PlayerFinder | None | bool = None  # built on first use; False: impossible

    # -- building blocks --------------------------------------------------------------------

    @torch.inference_mode()
    def guide(self, crops: np.ndarray) -> torch.Tensor:
        """Visual guide features ``[B, S, D]`` from crops ``[B, S, F, 224, 224, 3]`` uint8, on
        :data:`~avsep.models.device.INFERENCE_THREADS` threads: the same bytes in any process."""
        with inference_threads(self.device):
            return self._guide(crops)

    def _guide(self, crops: np.ndarray) -> torch.Tensor:
        """:meth:`guide` on the current threads. On the CPU the crops go through the trunk a few
        at a time (:data:`TRUNK_CROPS_CPU`): each crop's features do not depend on the others,
        and small batches keep the trunk's activations in cache and its peak memory low.
        """
        b, s = crops.shape[:2]
        with stage("visual trunk"):
            frames = torch.from_numpy(np.require(crops, requirements="CW"))  # torch wants writable
            frames = frames.reshape(b * s, *frames.shape[2:])
            per = TRUNK_CROPS_CPU // frames.shape[1] if self.device.type == "cpu" else len(frames)
            per = max(1, per)
            feats = [
                self.trunk.guide(frames[i : i + per].to(self.device), self.picture_kind)
                for i in range(0, len(frames), per)
            ]
            return torch.cat(feats).reshape(b, s, -1)

    @torch.inference_mode()
    def separate_windows(
        self,
        audio: np.ndarray,
        visual: torch.Tensor,
        residual: bool = False,
        mixture: np.ndarray | None = None,
        grid: fullband.Grid | None = None,
        motion: np.ndarray | None = None,
    ) -> np.ndarray:
        """Separate windows ``[B, 65535]`` given guides ``[B, S, D]`` -> ``[B, S(+1), 65535]``.

        The STFT and the network's audio-only first pass are computed once per window and
        shared by all of its boxes. Given the windows' ``mixture`` ``[B, C, L]`` at the rate of
        ``grid``, the masks are applied to it instead: ``[B, S(+1), C, L]`` (full band). Given
        each box's ``motion`` ``[B, S, frames]`` and ``same_instrument="motion"``, boxes of one
        instrument split their shares by it (:func:`avsep.separation.same_instrument.split_by_motion`).
        """
        with inference_threads(self.device):  # the same bytes in any process (--jobs)
            return self._separate_windows(audio, visual, residual, mixture, grid, motion)

    def _separate_windows(
        self,
        audio: np.ndarray,
        visual: torch.Tensor,
        residual: bool,
        mixture: np.ndarray | None,
        grid: fullband.Grid | None,
        motion: np.ndarray | None,
    ) -> np.ndarray:
        """:meth:`separate_windows` on the current threads."""
        x = torch.from_numpy(np.require(audio, np.float32, "CW")).to(self.device)
        with stage("stft"):
            spec = dsp.stft(x)
            net_input = dsp.network_input(spec.magnitude)
        with stage("mask net"):
            masks = self.model(net_input, visual)  # [B, S, H, W]
        with stage("mask+istft"):
            shares = dsp.mask_shares(masks, self.mask)  # [B, S, 512, T]: both paths start here
            if motion is not None and self.same_instrument == "motion":
                split = same_instrument.split_by_motion(
                    shares.cpu().numpy(), spec.magnitude.cpu().numpy(), visual.float().cpu().numpy(), motion
                )
                shares = torch.from_numpy(split).to(shares.device)
            if mixture is not None:
                mix = torch.from_numpy(mixture).to(self.device)
                out = fullband.apply_masks(shares, mix, grid, residual, self.extension)
                return out.float().cpu().numpy()
            out = dsp.apply_shares(spec, shares)
        if residual:
            out = torch.cat([out, (x - out.sum(1)).unsqueeze(1)], 1)
        return out.float().cpu().numpy()

    # -- automatic boxes --------------------------------------------------------------------

    def player_finder(self) -> PlayerFinder | None:
        """The finder behind automatic boxes (:func:`avsep.boxes.detect.player_finder` of this model's
        trunk, the one every command uses), built once. None if it cannot classify."""
        if self._finder is None:
            finder = player_finder(self.trunk)
            if finder is not None:
                finder.trunk.to(self.device)
                if finder.head is not None:
                    finder.head.to(self.device)
            self._finder = finder or False
        return self._finder or None

    def find_players(
        self,
        source: str | Path | MediaInfo,
        *,
        sources: int | None = None,
        video_stream: int | None = None,
        on_frame: Callable[[int, int], None] | None = None,
    ) -> BoxPlan:
        """Automatic boxes for a video (a path or its probe result; see
        :func:`avsep.boxes.request.plan_boxes`): vertical strips with a
        :attr:`~avsep.boxes.players.BoxPlan.note` when the players cannot be found."""
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
        motion_frames: Sequence[np.ndarray] | None = None,
        motion_times: Sequence[float] | None = None,
    ) -> np.ndarray:
        """Separate a mono (or ``[n, channels]``) signal with one fixed set of frames per box.

        ``frames_per_box[i]`` is ``[F, H, W, 3]`` uint8 pictures of source ``i`` (any size; they
        are resized to 224 x 224). Instead of pictures, ``guides`` ``[S, D]`` may give the guide
        vectors themselves (e.g. :func:`avsep.models.guide.label_guide` for an oracle model).
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
        if guides is not None:
            visual = guides.to(self.device, torch.float32)
        elif not frames_per_box:
            raise InputError("frames_per_box is empty; give the pictures of at least one source")
        else:  # one guide per box: the boxes may come with different numbers of frames
            visual = torch.cat([self.guide(_resize_frames(f)[None, None]) for f in frames_per_box], 1)[0]
        to_model = Resampler(sample_rate, dsp.SAMPLE_RATE)
        with stage("resample in"):
            model_audio = np.concatenate([to_model.push(audio), to_model.flush()])
        tap = None
        if self.full_band:
            tap = fullband.MixtureTap(sample_rate, native.shape[1])
            tap.push(native, sample_rate)
            tap.push(None, sample_rate)
        motion_for = None
        if motion_frames is not None and self._splits(len(visual)):
            if motion_times is None:
                count = len(motion_frames[0])
                motion_times = (np.arange(count) + 0.5) * len(audio) / sample_rate / max(count, 1)
            track = same_instrument.MotionTrack(motion_frames, motion_times)

            def motion_for(wins: list[Window]) -> np.ndarray:
                return np.stack([track.window(w.start / dsp.SAMPLE_RATE, STFT_FRAME_TIMES) for w in wins])

        rows = self._run_windows(
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
        return _resample_rows(separated, dsp.SAMPLE_RATE, sample_rate, audio.shape[0])

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
    ) -> SeparationStream:
        """The separation of the probed file ``media`` (streams chosen) along ``plan``, as a
        stream of output blocks; the boxes of ``plan`` must already fit the frame
        (:func:`~avsep.boxes.request.plan_boxes`). ``sample_rate`` ``None`` keeps the input's rate.
        ``on_window(done, total)`` is called after each window (progress bars). Outputs keep the
        audio stream's channels on the full-band path, unless ``mono`` downmixes them."""
        check_separable(media)
        out_rate = sample_rate or media.audio.sample_rate
        total = num_windows(media.duration, self.overlap)
        channels = 1 if mono or not self.full_band else max(1, media.audio.channels)
        tap = fullband.MixtureTap(out_rate, channels) if self.full_band else None
        blocks = self._blocks(media, plan, residual, out_rate, on_window, total, tap)
        return SeparationStream(media, plan.boxes, out_rate, total, residual, blocks, plan, channels)

    def _blocks(
        self,
        media: MediaInfo,
        plan: BoxPlan,
        residual: bool,
        out_rate: int,
        on_window: Callable[[int, int], None] | None,
        total: int,
        tap: fullband.MixtureTap | None,
    ) -> Iterator[np.ndarray]:
        loudest = 0.0

        def measured(audio: Iterator[np.ndarray]) -> Iterator[np.ndarray]:
            nonlocal loudest
            for block in audio:
                loudest = max(loudest, float(np.abs(block).max(initial=0.0)))
                yield block

        with stage("audio decode"):
            decoded = stream_audio(media, dsp.SAMPLE_RATE, on_native=tap and tap.push)
        audio = measured(timed_iter("audio decode", decoded))
        with stage("frame decode"):
            reader = FrameReader(media)
        with reader:

            def window_crops(w: Window) -> np.ndarray:
                """``[S, F, 224, 224, 3]``: each source's picture in each guide frame."""
                with stage("frame decode"):  # the finder's frames when it kept them
                    shown = plan.take_frames(w.frame_times()) or reader.frames_and_times_at(w.frame_times())
                with stage("crop+resize"):
                    return np.stack([plan.crops(frame, t) for frame, t in shown], 1)

            def visual_for(wins: list[Window]) -> torch.Tensor:
                return self.guide(np.stack([window_crops(w) for w in wins]))  # [B, S, F, ...]

            def motion_for(wins: list[Window]) -> np.ndarray:
                """``[B, S, frames]``: each box's motion on each window's STFT frames."""
                with stage("frame decode"):
                    return np.stack([self._window_motion(reader, plan, w) for w in wins])

            windows = timed_iter("windowing", Windower(self.overlap)(audio))
            moving = motion_for if self._splits(len(plan.sources)) else None
            rows = self._run_windows(windows, visual_for, len(plan.sources), residual, on_window, total, tap, moving)
            if tap is None:
                yield from _resample_stream(rows, dsp.SAMPLE_RATE, out_rate)
            else:
                yield from (r[:, 0] if tap.channels == 1 else r for r in rows if r.shape[-1])
        if loudest < SILENCE_PEAK:
            warnings.warn(
                f"{media.path}: the audio is silent, so the separated files are silent too",
                SilentAudioWarning,
                stacklevel=2,
            )

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
    ) -> SeparationStream:
        """Probe ``source`` once (unless it is already a probe result) and :meth:`stream` it.

        ``boxes`` are ``(x0, y0, x1, y1)`` in pixels of the displayed frame, or a
        :class:`~avsep.boxes.players.BoxPlan` (boxes that change over time); ``None`` or ``"auto"``
        finds the players (:meth:`find_players`; ``sources`` fixes their number), falling back to
        vertical strips with an :class:`AutoBoxesWarning`; ``"strips"`` cuts the frame into
        ``sources`` (default 2) vertical strips (:class:`~avsep.boxes.request.BoxRequest`).
        Other arguments as for :meth:`stream`.
        """
        request = BoxRequest.from_api(boxes, sources=sources)
        if isinstance(source, MediaInfo):
            media = source
        else:
            media = probe(source, audio_stream=audio_stream, video_stream=video_stream)
        check_separable(media)
        plan = plan_boxes(request, media, self.player_finder, overlap=self.overlap)
        return self.stream(media, plan, sample_rate=sample_rate, residual=residual, on_window=on_window, mono=mono)

    def separate_file(
        self, source: str | Path | MediaInfo, boxes: Sequence[Box] | BoxPlan | str | None = None, **kwargs
    ) -> SeparationResult:
        """Separate a whole file into memory (use :meth:`stream_file` for long videos); ``kwargs``
        as for :meth:`stream_file`."""
        return collect(self.stream_file(source, boxes, **kwargs))

    def separate_many(
        self,
        inputs: str | Path | Iterable[str | Path],
        out_dir: str | Path = "separated",
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

    # -- shared core ------------------------------------------------------------------------

    def _splits(self, sources: int) -> bool:
        """Whether boxes of one instrument may split their mask (and motion must be read)."""
        return self.same_instrument == "motion" and sources > 1

    @staticmethod
    def _window_motion(reader: FrameReader, plan: BoxPlan, win: Window) -> np.ndarray:
        """Each source's motion ``[S, frames]`` over ``win``, read from the video at its rate."""
        start = win.start / dsp.SAMPLE_RATE
        fps = reader.info.fps
        return same_instrument.window_motion(reader.frames_and_times_at, plan.boxes_at, start, STFT_FRAME_TIMES, fps)

    def _run_windows(
        self,
        windows: Iterable[Window],
        visual_for: Callable[[list[Window]], torch.Tensor],
        sources: int,
        residual: bool,
        on_window: Callable[[int, int], None] | None = None,
        total: int = 0,
        tap: fullband.MixtureTap | None = None,
        motion_for: Callable[[list[Window]], np.ndarray] | None = None,
    ) -> Iterator[np.ndarray]:
        """Batches windows through the networks and stitches them into finished samples: at the
        model rate, or with a ``tap`` at its rate and channels (``[rows, C, n]``, full band).
        ``motion_for``: the boxes' motion per window, when boxes of one instrument split."""
        rows = sources + int(residual)
        stitcher = fullband.Stitching(tap, rows, self.overlap) if tap else Stitcher(rows, self.overlap)
        batch: list[Window] = []
        done = 0

        def flush() -> Iterator[np.ndarray]:
            nonlocal done
            audio = np.stack([w.audio for w in batch])
            visual = visual_for(batch)
            motion = motion_for(batch) if motion_for else None
            if tap is None:
                outs = self.separate_windows(audio, visual, residual, motion=motion)
            else:
                mixture = tap.segments([w.start for w in batch])
                outs = self.separate_windows(audio, visual, residual, mixture, tap.grid, motion)
            for win, out in zip(batch, outs):
                with stage("stitch"):
                    block = stitcher.add(win, out)
                yield block
                done += 1
                if on_window:
                    on_window(done, max(total, done))
            batch.clear()

        for win in windows:
            batch.append(win)
            if len(batch) == self.batch_size:
                yield from flush()
        if batch:
            yield from flush()
        with stage("stitch"):
            last = stitcher.finish()
        yield last


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
    )


def _guide_head() -> torch.nn.Module | None:
    """The bundled guide head that names the instruments of a ``classes`` guide
    (:mod:`avsep.models.guide_head`); None, with a warning, when the install lacks it."""
    path = guide_head_file()
    if path is None:
        warnings.warn(
            "no guide head in the weights folder: boxes are named by the ImageNet classes instead "
            "(tuba, erhu and clarinet less reliably); reinstall avsep to get it back",
            stacklevel=3,
        )
        return None
    return load_guide_head(path)


def _resize_frames(frames: np.ndarray) -> np.ndarray:
    """``[F, H, W, 3]`` uint8 of any size -> ``[F, 224, 224, 3]`` (the whole picture is the box)."""
    frames = np.asarray(frames, dtype=np.uint8)
    if frames.ndim == 3:
        frames = frames[None]
    if frames.ndim != 4 or frames.shape[-1] != 3 or 0 in frames.shape:
        raise InputError(f"frames must be [F, H, W, 3] or [H, W, 3] RGB pictures, got shape {frames.shape}")
    with stage("crop+resize"):
        return np.stack([crop_boxes(f, [(0, 0, f.shape[1], f.shape[0])])[0] for f in frames])


def _resample_stream(rows: Iterable[np.ndarray], in_rate: int, out_rate: int) -> Iterator[np.ndarray]:
    """Streams ``[R, n]`` blocks from ``in_rate`` to ``out_rate``, one resampler per row."""
    if in_rate == out_rate:
        yield from (r for r in rows if r.shape[1])
        return
    resamplers: list[Resampler] = []
    for block in rows:
        if not resamplers:
            resamplers = [Resampler(in_rate, out_rate) for _ in range(block.shape[0])]
        if block.shape[1]:
            with stage("resample out"):
                out = _stack_ragged([r.push(row) for r, row in zip(resamplers, block)])
            yield out
    if resamplers:
        with stage("resample out"):
            out = _stack_ragged([r.flush() for r in resamplers])
        yield out


def _stack_ragged(rows: list[np.ndarray]) -> np.ndarray:
    """Rows from independent resamplers of identical input agree in length; guard anyway."""
    n = min(r.shape[0] for r in rows)
    return np.stack([r[:n] for r in rows])


def _resample_rows(x: np.ndarray, in_rate: int, out_rate: int, length: int) -> np.ndarray:
    out = np.concatenate(list(_resample_stream([x], in_rate, out_rate)), axis=1)
    if out.shape[1] < length:
        out = np.pad(out, ((0, 0), (0, length - out.shape[1])))
    return out[:, :length]
