"""The inference pipeline and the Python API.

>>> from avsep import Separator
>>> sep = Separator()                                   # the bundled model
>>> result = sep.separate_file("duet.mp4", boxes=[(0, 0, 112, 224), (112, 0, 224, 224)])
>>> result.sources.shape                                # [boxes, samples] at the video's rate

Everything streams: audio is decoded block by block, cut into overlapping windows
(:mod:`avsep.chunking`), each window's 3 guide frames are decoded by seeking, windows are batched
through the visual trunk and the mask network, and finished samples are handed on as soon as no
later window can change them. :meth:`Separator.stream_file` exposes that stream (the CLI writes
it straight to disk); :meth:`Separator.separate_file` collects it for short files;
:meth:`Separator.separate_many` writes files and folders of videos as ``avsep separate`` does.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch

from avsep import dsp
from avsep.chunking import Stitcher, Window, Windower
from avsep.device import select_device
from avsep.errors import InputError
from avsep.io.audio import Resampler, stream_audio
from avsep.io.media import MediaInfo, probe
from avsep.io.video import FrameReader, crop_boxes
from avsep.models.guide import picture_kind
from avsep.models.guide_head import TRUNK as HEAD_TRUNK
from avsep.models.serialize import Checkpoint, load_checkpoint, load_guide_head
from avsep.models.visual import build_trunk
from avsep.options import DEFAULT_MASK
from avsep.players import BoxPlan, strips_plan
from avsep.timing import stage, timed_iter
from avsep.weights import guide_head_file, resolve_model

if TYPE_CHECKING:
    from avsep.detect import PlayerFinder

Box = tuple[int, int, int, int]

#: Peak level (full scale 1.0) below which an input counts as silent: under half a 16-bit step.
SILENCE_PEAK = 1e-5

#: Most crops per visual-trunk forward on the CPU (rounded down to whole boxes: 6 = 2 boxes of
#: 3 frames). Measured on 2 cores (benchmarks/README.md): 6 crops per forward ran about 1.5x
#: faster per crop than 24 and peaked about 250 MB lower.
TRUNK_CROPS_CPU = 8


class SilentAudioWarning(UserWarning):
    """The input's audio is silent, so every separated output is silent too."""


class AutoBoxesWarning(UserWarning):
    """No boxes were given and the players could not be found: the frame was cut into strips."""


def check_separable(info: MediaInfo) -> None:
    """A file needs sound to separate and a picture to tell the sources apart."""
    if info.audio is None:
        raise InputError(f"{info.path}: no audio stream, so nothing to separate; give a video with sound")
    if info.video is None:
        raise InputError(
            f"{info.path}: no video stream; avsep needs the picture to tell the sources apart, "
            "so give the video rather than its soundtrack"
        )


def strip_boxes(width: int, height: int, sources: int) -> list[Box]:
    """``sources`` equal vertical strips: the usual layout of a duet or trio video."""
    if sources < 1:
        raise InputError(f"--sources must be at least 1, got {sources}")
    edges = np.linspace(0, width, sources + 1).round().astype(int)
    return [(int(edges[i]), 0, int(edges[i + 1]), height) for i in range(sources)]


@dataclass
class SeparationResult:
    """Separated signals, one row per box (plus the residual row if asked), at ``sample_rate``."""

    sources: np.ndarray
    sample_rate: int
    residual: np.ndarray | None = None


@dataclass
class SeparationStream:
    """A separation in progress: ``blocks`` yields ``[rows, n]`` float32 at ``sample_rate``.

    Rows are the boxes in order, then the residual when ``residual`` was asked for.
    """

    info: MediaInfo
    boxes: list[Box]
    sample_rate: int
    num_windows: int
    residual: bool
    blocks: Iterator[np.ndarray] = field(repr=False)
    #: Where each source's box is over time (names and class guesses in automatic mode).
    plan: BoxPlan | None = None


class Separator:
    """Separates the instrument in each box of a video.

    Parameters are fixed per instance so that a batch of files reuses one loaded model.
    ``cycles`` overrides the PCN's number of recurrent cycles (a speed/quality knob).
    ``guide_head``: a label-trained model over EfficientNet-Lite0 is told what each box shows by
    the bundled guide head (:mod:`avsep.models.guide_head`); False gives it the ImageNet classes
    gathered instead.
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
        guide_head: bool = True,
    ) -> None:
        with stage("model load"):  # avsep.timing: reported when someone listens
            if mask not in ("binary", "soft"):
                raise InputError(f"--mask must be 'binary' or 'soft', got {mask!r}")
            if not 0.0 <= overlap <= 0.9:
                raise InputError(f"--overlap must be between 0 and 0.9, got {overlap}")
            if batch_size < 1:
                raise InputError(f"--batch-size must be at least 1, got {batch_size}")
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
            self.binary = mask == "binary"
            self.overlap = overlap
            self.batch_size = batch_size
        self._finder: PlayerFinder | None | bool = None  # built on first use; False: impossible

    # -- building blocks --------------------------------------------------------------------

    @torch.inference_mode()
    def guide(self, crops: np.ndarray) -> torch.Tensor:
        """Visual guide features ``[B, S, D]`` from crops ``[B, S, F, 224, 224, 3]`` uint8.

        On the CPU the crops go through the trunk a few at a time (:data:`TRUNK_CROPS_CPU`):
        each crop's features do not depend on the others, and small batches keep the trunk's
        activations in cache and its peak memory low.
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
    def separate_windows(self, audio: np.ndarray, visual: torch.Tensor, residual: bool = False) -> np.ndarray:
        """Separate windows ``[B, 65535]`` given guides ``[B, S, D]`` -> ``[B, S(+1), 65535]``.

        The STFT and the network's audio-only first pass are computed once per window and
        shared by all of its boxes.
        """
        x = torch.from_numpy(np.require(audio, np.float32, "CW")).to(self.device)
        with stage("stft"):
            spec = dsp.stft(x)
            net_input = dsp.network_input(spec.magnitude)
        with stage("mask net"):
            masks = self.model(net_input, visual)  # [B, S, H, W]
        with stage("mask+istft"):
            out = dsp.apply_masks(spec, masks, self.binary)
        if residual:
            out = torch.cat([out, (x - out.sum(1)).unsqueeze(1)], 1)
        return out.float().cpu().numpy()

    # -- automatic boxes --------------------------------------------------------------------

    def player_finder(self) -> PlayerFinder | None:
        """The finder behind automatic boxes (:mod:`avsep.detect`), built once: this model's own
        trunk when it carries an ImageNet classifier, else the shipped EfficientNet-Lite0
        (a resnet18 without its ImageNet file has none). None if neither can classify."""
        if self._finder is None:
            from avsep.detect import PlayerFinder, can_find_players, default_finder

            finder = PlayerFinder(self.trunk) if can_find_players(self.trunk) else default_finder()
            finder.trunk.to(self.device)
            self._finder = finder if can_find_players(finder.trunk) else False
        return self._finder or None

    def find_players(
        self,
        path: str | Path,
        *,
        sources: int | None = None,
        video_stream: int | None = None,
        media: MediaInfo | None = None,
        on_frame: Callable[[int, int], None] | None = None,
    ) -> BoxPlan:
        """Automatic boxes for ``path`` (see :func:`avsep.players.find_players`); vertical strips
        with a :attr:`~avsep.players.BoxPlan.note` when the players cannot be found."""
        from avsep.players import find_players

        info = media or probe(path, video_stream=video_stream)
        if info.video is None:
            raise InputError(f"{info.path}: no video stream, so there are no players to find")
        finder = self.player_finder()
        if finder is None:
            plan = strips_plan(info.video.width, info.video.height, sources or 2)
            plan.note = (
                f"the visual trunk has no ImageNet classifier to find players with; "
                f"using {len(plan.sources)} vertical strips instead (give --boxes to place them)"
            )
            return plan
        return find_players(
            path,
            finder,
            sources=sources,
            overlap=self.overlap,
            video_stream=video_stream,
            media=info,
            on_frame=on_frame,
        )

    def _box_plan(
        self,
        path: str | Path,
        boxes: Sequence[Box] | BoxPlan | str | None,
        sources: int | None,
        info: MediaInfo,
        video_stream: int | None,
    ) -> BoxPlan:
        """Boxes as given (checked against the frame), strips, or found ("auto" / None)."""
        width, height = info.video.width, info.video.height
        if isinstance(boxes, BoxPlan):
            return boxes.validated(width, height)
        if isinstance(boxes, str) and boxes not in ("auto", "strips"):
            raise InputError(f"boxes={boxes!r}: give boxes, 'auto' or 'strips'")
        if boxes == "strips":
            return strips_plan(width, height, 2 if sources is None else sources)
        if boxes is None or boxes == "auto":
            plan = self.find_players(path, sources=sources, video_stream=video_stream, media=info)
            if plan.note:
                warnings.warn(f"{info.path}: {plan.note}", AutoBoxesWarning, stacklevel=4)
            return plan
        from avsep.boxes import validate_boxes

        return BoxPlan.fixed(validate_boxes(boxes, width, height))

    # -- arrays -----------------------------------------------------------------------------

    def separate_arrays(
        self,
        audio: np.ndarray,
        sample_rate: int,
        frames_per_box: Sequence[np.ndarray] | None = None,
        *,
        guides: torch.Tensor | None = None,
    ) -> np.ndarray:
        """Separate a mono (or ``[n, channels]``) signal with one fixed set of frames per box.

        ``frames_per_box[i]`` is ``[F, H, W, 3]`` uint8 pictures of source ``i`` (any size; they
        are resized to 224 x 224). Instead of pictures, ``guides`` ``[S, D]`` may give the guide
        vectors themselves (e.g. :func:`avsep.models.guide.label_guide` for an oracle model).
        Returns ``[S, n]`` at ``sample_rate``.
        """
        audio = np.asarray(audio, dtype=np.float32)
        if audio.ndim == 2:
            audio = audio.mean(axis=1)
        if audio.ndim != 1 or audio.size == 0:
            raise InputError("audio must be a non-empty 1-D array or [samples, channels]")
        if guides is not None:
            visual = guides.to(self.device, torch.float32)
        elif not frames_per_box:
            raise InputError("frames_per_box is empty; give the pictures of at least one source")
        else:  # one guide per box: the boxes may come with different numbers of frames
            visual = torch.cat([self.guide(_resize_frames(f)[None, None]) for f in frames_per_box], 1)[0]
        to_model = Resampler(sample_rate, dsp.SAMPLE_RATE)
        with stage("resample in"):
            model_audio = np.concatenate([to_model.push(audio), to_model.flush()])
        rows = self._run_windows(
            Windower(self.overlap)([model_audio]),
            lambda wins: visual.expand(len(wins), -1, -1),
            len(visual),
            residual=False,
        )
        separated = np.concatenate(list(rows), axis=1)
        return _resample_rows(separated, dsp.SAMPLE_RATE, sample_rate, audio.shape[0])

    # -- files ------------------------------------------------------------------------------

    def stream_file(
        self,
        path: str | Path,
        boxes: Sequence[Box] | BoxPlan | str | None = None,
        *,
        sources: int | None = None,
        sample_rate: int | None = None,
        residual: bool = False,
        audio_stream: int | None = None,
        video_stream: int | None = None,
        on_window: Callable[[int, int], None] | None = None,
        media: MediaInfo | None = None,
    ) -> SeparationStream:
        """Open ``path`` and return the separation as a stream of output blocks.

        ``boxes`` are ``(x0, y0, x1, y1)`` in pixels of the displayed frame, or a
        :class:`~avsep.players.BoxPlan` (boxes that change over time); ``None`` or ``"auto"``
        finds the players (:meth:`find_players`; ``sources`` fixes their number), falling back to
        vertical strips with an :class:`AutoBoxesWarning`; ``"strips"`` cuts the frame into
        ``sources`` (default 2) vertical strips. ``sample_rate`` ``None`` keeps the input's rate.
        ``on_window(done, total)`` is called after each window (progress bars). ``media``: the
        file's :func:`~avsep.io.media.probe` result when the caller has it (probed with the same
        stream choices), so the file is probed once.
        """
        info = media or probe(path, audio_stream=audio_stream, video_stream=video_stream)
        check_separable(info)
        plan = self._box_plan(path, boxes, sources, info, video_stream)
        out_rate = sample_rate or info.audio.sample_rate
        windower = Windower(self.overlap)
        total = _num_windows(info.duration, windower)

        def blocks() -> Iterator[np.ndarray]:
            loudest = 0.0

            def measured(audio: Iterator[np.ndarray]) -> Iterator[np.ndarray]:
                nonlocal loudest
                for block in audio:
                    loudest = max(loudest, float(np.abs(block).max(initial=0.0)))
                    yield block

            with stage("audio decode"):
                decoded = stream_audio(path, dsp.SAMPLE_RATE, audio_stream=audio_stream, media=info)
            audio = measured(timed_iter("audio decode", decoded))
            with stage("frame decode"):
                reader = FrameReader(path, video_stream=video_stream, media=info)
            with reader:

                def window_crops(w: Window) -> np.ndarray:
                    """``[S, F, 224, 224, 3]``: each source's picture in each guide frame."""
                    with stage("frame decode"):
                        shown = reader.frames_and_times_at(w.frame_times())
                    with stage("crop+resize"):
                        return np.stack([plan.crops(frame, t) for frame, t in shown], 1)

                def visual_for(wins: list[Window]) -> torch.Tensor:
                    return self.guide(np.stack([window_crops(w) for w in wins]))  # [B, S, F, ...]

                windows = timed_iter("windowing", windower(audio))
                rows = self._run_windows(windows, visual_for, len(plan.sources), residual, on_window, total)
                yield from _resample_stream(rows, dsp.SAMPLE_RATE, out_rate)
            if loudest < SILENCE_PEAK:
                warnings.warn(
                    f"{info.path}: the audio is silent, so the separated files are silent too",
                    SilentAudioWarning,
                    stacklevel=2,
                )

        return SeparationStream(info, plan.boxes, out_rate, total, residual, blocks(), plan)

    def separate_file(
        self, path: str | Path, boxes: Sequence[Box] | BoxPlan | str | None = None, **kwargs
    ) -> SeparationResult:
        """Separate a whole file into memory (use :meth:`stream_file` for long videos)."""
        stream = self.stream_file(path, boxes, **kwargs)
        parts = list(stream.blocks)
        rows = len(stream.boxes) + int(stream.residual)
        out = np.concatenate(parts, axis=1) if parts else np.zeros((rows, 0), np.float32)
        return SeparationResult(
            sources=out[: len(stream.boxes)],
            sample_rate=stream.sample_rate,
            residual=out[-1] if stream.residual else None,
        )

    def separate_many(
        self,
        inputs: str | Path | Iterable[str | Path],
        out_dir: str | Path = "separated",
        boxes: Sequence[Box] | BoxPlan | str | None = None,
        **options,
    ) -> list:  # of avsep.batch.Outcome (avsep.batch builds on this module, not the reverse)
        """Separate videos and folders of videos into WAV files under ``out_dir``, with the
        rules of ``avsep separate``: recursion into folders, output names and template,
        ``skip_existing``/``overwrite``, each video's files written all together or not at all.
        One failed video does not stop the others. See :func:`avsep.batch.separate_paths` for
        ``options``; returns one :class:`~avsep.batch.Outcome` per input.
        """
        from avsep.batch import separate_paths

        return separate_paths(self, inputs, out_dir, boxes, **options)

    # -- shared core ------------------------------------------------------------------------

    def _run_windows(
        self,
        windows: Iterable[Window],
        visual_for: Callable[[list[Window]], torch.Tensor],
        sources: int,
        residual: bool,
        on_window: Callable[[int, int], None] | None = None,
        total: int = 0,
    ) -> Iterator[np.ndarray]:
        """Batches windows through the networks and stitches them into finished samples."""
        stitcher = Stitcher(sources + int(residual), self.overlap)
        batch: list[Window] = []
        done = 0

        def flush() -> Iterator[np.ndarray]:
            nonlocal done
            outs = self.separate_windows(np.stack([w.audio for w in batch]), visual_for(batch), residual)
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


def _num_windows(duration: float, windower: Windower) -> int:
    """Windows a file of ``duration`` seconds will need (for progress bars)."""
    n = int(round(duration * dsp.SAMPLE_RATE))
    overlap = windower.window - windower.hop
    return max(1, int(np.ceil(max(n - overlap, 1) / windower.hop)))


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
