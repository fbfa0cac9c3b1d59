"""The engine under :class:`~avsep.separation.separator.Separator`: the loaded networks and how
windows go through them (as demucs' ``apply.py`` under its ``api.py``).

Windows of the mixture (:mod:`avsep.signal.chunking`) are batched; each window's guide frames are
cropped per source and run through the visual trunk (:meth:`Engine.guide`, a few crops at a time
on the CPU), the mask network gives each source its share of every bin
(:meth:`Engine.window_shares`), the shares are applied (:meth:`Engine.apply_shares`; the next
batch's masks meanwhile, :mod:`avsep.separation.pipeline`) and the stitcher hands on finished
samples (:meth:`Engine.run_windows`), at the model's rate or, full band, at the output rate and
channels (:mod:`avsep.separation.fullband`). :meth:`Engine.blocks` is that stream for a probed file
and its box plan; the resamplers take the model's rate to the output's.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterable, Iterator
from contextlib import closing, nullcontext
from typing import NamedTuple

import numpy as np
import torch

from avsep.boxes.players import BoxPlan
from avsep.boxes.shown import ShownCrops
from avsep.errors import InputError, check_one_of
from avsep.io.audio import resample_stream
from avsep.io.media import MediaInfo
from avsep.io.prefetch import AudioAhead, audio_blocks
from avsep.io.video import FrameReader
from avsep.models.device import native_bf16, on_inference_threads, select_device, spare_core
from avsep.models.guide import (
    CLASS_KINDS,
    CLASSES_OTHER,
    LABEL_OTHER,
    LABELS,
    is_label,
    louder_where_competing,
    picture_kind,
    with_other,
)
from avsep.models.guide_head import TRUNK as HEAD_TRUNK
from avsep.models.serialize import Checkpoint, load_checkpoint, load_guide_head
from avsep.models.visual import build_trunk
from avsep.models.weights import guide_head_file, resolve_model
from avsep.options import DEFAULT_GUIDE_HEAD, SeparationOptions
from avsep.separation import fullband, same_instrument
from avsep.separation.named import NamedGuides
from avsep.separation.pipeline import Batch, batches, pipelined
from avsep.separation.reuse import CropMemo
from avsep.signal import dsp
from avsep.signal.chunking import GUIDE_SNAP_S, Stitcher, Window, Windower
from avsep.timing import stage, timed_iter

#: Peak level (full scale 1.0) below which an input counts as silent: under half a 16-bit step.
SILENCE_PEAK = 1e-5

#: Most crops per visual-trunk forward on the CPU. Measured on 2 cores (benchmarks/README.md):
#: 6 crops per forward ran about 1.5x faster per crop than 24 and peaked about 250 MB lower.
TRUNK_CROPS_CPU = 6

#: Times (s) of a window's STFT frames from its first sample (``center=True``: frame j at j hops).
STFT_FRAME_TIMES = np.arange(dsp.WINDOW_FRAMES) * dsp.HOP / dsp.SAMPLE_RATE


class Shares(NamedTuple):
    """What the masks of a batch of windows leave for :meth:`Engine.apply_shares`."""

    audio: torch.Tensor  #: the windows ``[B, 65535]`` at the model rate
    spec: dsp.Spectrogram  #: their STFT
    shares: torch.Tensor  #: each box's share of every bin ``[B, S, 512, T]``


class SilentAudioWarning(UserWarning):
    """The input's audio is silent, so every separated output is silent too."""


class Engine:
    """A loaded model and visual trunk on their device, with the options they separate with;
    turns windows into separated samples. :class:`~avsep.separation.separator.Separator` is the
    public API over it."""

    def __init__(
        self,
        options: SeparationOptions,
        *,
        cycles: int | None = None,
        full_band: bool = True,
        extension: str = fullband.DEFAULT_EXTENSION,
        guide_head: bool = DEFAULT_GUIDE_HEAD,
    ) -> None:
        """Load the model and trunk that ``options`` name onto their device (``cycles``,
        ``full_band``, ``extension``, ``guide_head``: see :class:`~avsep.separation.separator.Separator`)."""
        with stage("model load"):  # avsep.timing: reported when someone listens
            check_one_of("extension", extension, fullband.EXTENSIONS)
            self.options = options
            self.device = select_device(options.device)
            self.checkpoint: Checkpoint = load_checkpoint(resolve_model(options.model))
            if cycles is not None:
                if self.checkpoint.arch != "pcn" or cycles < 1:
                    raise InputError("--cycles applies to PCN models only and must be >= 1")
                cfg = self.checkpoint.model.config
                self.checkpoint.model.config = type(cfg)(**{**cfg.__dict__, "cycles": cycles})
            self.model = self.checkpoint.model.to(self.device).eval()
            #: the mask network under a bfloat16 autocast (a CPU with native bf16 only)
            self.bf16 = native_bf16(self.device)
            self.trunk = build_trunk(self.checkpoint.backbone, options.backbone_weights).fold().to(self.device)
            #: the guide kind the model was trained with (avsep.models.guide)
            self.guide_kind = self.checkpoint.guide
            #: the coordinates the separation builds guides in: for a label-trained model the 11
            #: classes and other, whether or not it learnt other, so that a box can say "none of
            #: these" and take what the others leave (:meth:`model_guides`)
            self.guide_space = LABEL_OTHER if is_label(self.guide_kind) else self.guide_kind
            #: the kind the pictures of a box give (a label-trained model reads the frames' classes;
            #: their other share is the guide head's unsureness, or 0 without the head: ImageNet's
            #: "no music class" mass is high for many a player, so it decides nothing)
            self.picture_kind = "classes" if is_label(self.guide_kind) else picture_kind(self.guide_kind)
            if guide_head and self.picture_kind in CLASS_KINDS and self.checkpoint.backbone == HEAD_TRUNK:
                head = _guide_head()
                self.trunk.class_head = head.to(self.device) if head is not None else None
                if head is not None:  # the head's unsureness is the frames' other share
                    self.picture_kind = CLASSES_OTHER
            #: how the boxes' masks share each bin (avsep.options.Mask)
            self.mask = options.mask
            #: what boxes of one instrument do with their shared mask (avsep.options.SameInstrument)
            self.same_instrument = options.same_instrument
            self.overlap = options.overlap
            self.batch_size = options.batch_size
            self.full_band = full_band
            self.extension = extension

    #: the next video's sound, decoded while its players are found (:meth:`audio_ahead`)
    _audio: AudioAhead | None = None

    def audio_ahead(self, media: MediaInfo) -> None:
        """Start decoding ``media``'s sound on a worker thread, for its separation to read
        (:mod:`avsep.io.prefetch`): called before its players are searched for. The next
        separation takes it (dropped unless it is of ``media``)."""
        self._audio = AudioAhead.start(media, dsp.SAMPLE_RATE, keep_native=self.full_band)

    @on_inference_threads  # the same bytes in any process, whatever its threads (--jobs)
    @torch.inference_mode()
    def guide(self, crops: np.ndarray, memo: CropMemo | None = None) -> torch.Tensor:
        """Visual guide features ``[B, S, D]`` from crops ``[B, S, F, 224, 224, 3]`` uint8.

        Given a ``memo`` (:mod:`avsep.separation.reuse`), a crop that looks like its source's
        last computed one reuses that crop's parts instead of going through the trunk. ``D``
        has the coordinates of :attr:`guide_space`.
        """
        b, s, f = crops.shape[:3]
        with stage("visual trunk"):
            flat = crops.reshape(b * s * f, *crops.shape[3:])
            sources = np.tile(np.repeat(np.arange(s), f), b)
            parts = self.guide_parts(flat) if memo is None else memo.parts(flat, sources, self.guide_parts)
            guides = self.trunk.combine_parts(parts, b * s, self.picture_kind)
            if self.picture_kind == "classes" and self.guide_space == LABEL_OTHER:
                guides = with_other(guides, torch.zeros(len(guides), device=guides.device))  # sure: no head
            return guides.reshape(b, s, -1)

    @on_inference_threads  # on any thread: the finder's worker runs it ahead (avsep.boxes.ahead)
    @torch.inference_mode()
    def guide_parts(self, crops: np.ndarray) -> tuple[torch.Tensor, ...]:
        """The trunk's per-crop parts of ``crops`` ``[n, 224, 224, 3]``. On the CPU they go
        through it a few at a time (:data:`TRUNK_CROPS_CPU`): each crop's parts do not depend
        on the others, and small batches keep the trunk's activations in cache and its peak
        memory low. A lone crop goes through as two copies: the guide head's product over one
        row rounds differently from the same row among others, and a crop's parts must not
        depend on what it is batched with (the memo and :mod:`avsep.boxes.ahead` batch apart)."""
        frames = torch.from_numpy(np.require(crops, requirements="CW"))  # torch wants writable
        per = TRUNK_CROPS_CPU if self.device.type == "cpu" else len(frames)
        runs = [frames[i : i + per] for i in range(0, len(frames), per)]
        pairs = [run.repeat(2, 1, 1, 1) if len(run) == 1 else run for run in runs]
        parts = [self.trunk.crop_parts(run.to(self.device), self.picture_kind) for run in pairs]
        return tuple(torch.cat([p[: len(run)] for run, p in zip(runs, part)]) for part in zip(*parts))

    def model_guides(self, visual: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """What the network takes from guides ``[B, S, D]`` in :attr:`guide_space`, and which
        boxes take what the others leave (``[B, S]`` bool, :func:`avsep.signal.dsp.take_rest`).

        A box whose guide is more than half :data:`~avsep.models.guide.OTHER` (named ``other`` or an outside
        instrument, or the guide head unsure it shows one of the 11) takes the rest: on real ensembles that beat the
        network's own mask for it, and on duets with an outside player it beat the frames' guess
        (docs/experiments/2026-12-06-rest-for-other.md). An 11-class network gets the other 11 coordinates scaled back
        to sum 1 (uniform where they are all 0). Guides already in an 11-class network's own coordinates (an oracle
        guide) pass as they are, with no box taking the rest; a ``label-other`` network's oracle guides are in the
        separation's coordinates, so one naming ``other`` takes the rest.
        """
        if self.guide_space != LABEL_OTHER or visual.shape[-1] == len(LABELS):
            return visual, None
        rest = visual[..., -1] > 0.5
        if self.guide_kind == LABEL_OTHER:
            return visual, rest
        classes = visual[..., :-1]
        total = classes.sum(-1, keepdim=True)
        scaled = torch.where(total > 1e-6, classes / total.clamp_min(1e-6), 1.0 / classes.shape[-1])
        return scaled, rest

    def separate_windows(
        self,
        audio: np.ndarray,
        visual: torch.Tensor,
        residual: bool = False,
        mixture: np.ndarray | None = None,
        grid: fullband.Grid | None = None,
        motion: np.ndarray | None = None,
    ) -> np.ndarray:
        """Windows ``[B, 65535]`` and guides ``[B, S, D]`` -> ``[B, S(+1), 65535]`` (full band:
        ``[B, S(+1), C, L]``): :meth:`window_shares`, then :meth:`apply_shares`."""
        return self.apply_shares(self.window_shares(audio, visual, motion), residual, mixture, grid)

    @on_inference_threads  # the same bytes in any process, whatever its threads (--jobs)
    @torch.inference_mode()
    def window_shares(self, audio: np.ndarray, visual: torch.Tensor, motion: np.ndarray | None = None) -> Shares:
        """Each box's share of every bin of windows ``[B, 65535]``, from guides ``[B, S, D]``.

        The STFT and the network's audio-only first pass are computed once per window and shared by all of its boxes.
        Given each box's ``motion`` ``[B, S, frames]``, ``same_instrument="motion"``
        lets boxes of one instrument share by it (:func:`avsep.separation.same_instrument.split_by_motion`).
        Boxes whose guide says ``other`` take what the others leave (:meth:`model_guides`); where two or more
        boxes do not, they compete: their guides get the file's guide gain (:func:`louder_where_competing`).
        """
        x = torch.from_numpy(np.require(audio, np.float32, "CW")).to(self.device)
        with stage("stft"):
            spec = dsp.stft(x)
            net_input = dsp.network_input(spec.magnitude)
        with stage("mask net"):
            guides = visual  # in the separation's coordinates: boxes taking the rest stand apart
            visual, rest = self.model_guides(visual)
            visual = louder_where_competing(visual, rest, self.checkpoint.guide_gain)
            with torch.autocast(self.device.type, dtype=torch.bfloat16) if self.bf16 else nullcontext():
                masks = self.model(net_input, visual).float()  # [B, S, H, W]
            masks = dsp.take_rest(masks, rest)
        with stage("mask+istft"):
            shares = dsp.mask_shares(masks, self.mask, rest)  # [B, S, 512, T]: both paths start here
            if motion is not None and self.same_instrument == "motion":
                split = same_instrument.split_by_motion(
                    shares.cpu().numpy(), spec.magnitude.cpu().numpy(), guides.float().cpu().numpy(), motion
                )
                shares = torch.from_numpy(split).to(shares.device)
        return Shares(x, spec, shares)

    @on_inference_threads  # the same bytes in any process, whatever its threads (--jobs)
    @torch.inference_mode()
    def apply_shares(
        self,
        shares: Shares,
        residual: bool = False,
        mixture: np.ndarray | None = None,
        grid: fullband.Grid | None = None,
    ) -> np.ndarray:
        """The windows' sources from their :meth:`window_shares`: ``[B, S(+1), 65535]``, or with
        the windows' ``mixture`` ``[B, C, L]`` at the rate of ``grid`` (full band) ``[B, S(+1), C, L]``."""
        with stage("mask+istft"):
            if mixture is not None:
                mix = torch.from_numpy(mixture).to(self.device)
                out = fullband.apply_masks(shares.shares, mix, grid, residual, self.extension)
                return out.float().cpu().numpy()
            out = dsp.apply_shares(shares.spec, shares.shares)
        if residual:
            out = torch.cat([out, (shares.audio - out.sum(1)).unsqueeze(1)], 1)
        return out.float().cpu().numpy()

    def blocks(
        self,
        media: MediaInfo,
        plan: BoxPlan,
        residual: bool,
        out_rate: int,
        on_window: Callable[[int, int], None] | None,
        total: int,
        tap: fullband.MixtureTap | None,
        named: NamedGuides | None = None,
        unsure: np.ndarray | None = None,
        prefetched: AudioAhead | None = None,
    ) -> Iterator[np.ndarray]:
        """The output blocks of ``media`` along ``plan`` (``prefetched``: its sound decoded while its
        players were found, :meth:`audio_ahead`); ``named``: the boxes the user's names
        guide (:mod:`avsep.separation.named`), whose frames are then not read for the guide.
        ``unsure`` ``[S]`` counts, as the blocks are made, the windows in which a box guided by
        its frames took what the others leave (:meth:`model_guides`), for the report to say."""
        loudest = 0.0

        def measured(audio: Iterator[np.ndarray]) -> Iterator[np.ndarray]:
            nonlocal loudest
            for block in audio:
                loudest = max(loudest, float(np.abs(block).max(initial=0.0)))
                yield block

        with stage("audio decode"):
            decoded = audio_blocks(prefetched, media, dsp.SAMPLE_RATE, tap and tap.push)
        audio = measured(timed_iter("audio decode", decoded))
        with stage("frame decode"):
            reader, memo, cut = FrameReader(media), CropMemo(ahead=plan.ahead), ShownCrops(plan)
        with reader, closing(plan.ahead) if plan.ahead is not None else nullcontext():  # rows left: dropped

            def window_crops(w: Window) -> np.ndarray:
                """``[S, F, 224, 224, 3]``: each source's picture in each guide frame."""
                with stage("frame decode"):  # the finder's frames when it kept them; keyframes held still
                    times, still = w.frame_times(), cut.still if plan.snaps else None
                    shown = plan.take_frames(times) or reader.frames_and_times_at(
                        plan.decode_times(times), GUIDE_SNAP_S if still else 0.0, still
                    )
                with stage("crop+resize"):
                    return np.stack([cut(frame, t) for frame, t in shown], 1)

            def visual_for(wins: list[Window]) -> torch.Tensor:
                def pictures() -> torch.Tensor:
                    return self.guide(np.stack([window_crops(w) for w in wins]), memo)  # [B, S, F, ...]

                visual = (named.apply(pictures, len(wins)) if named else pictures()).to(self.device)
                rest = self.model_guides(visual)[1]
                if unsure is not None and rest is not None:
                    by_frames = [named is None or named.classes[k] is None for k in range(unsure.shape[0])]
                    unsure[:] += (dsp.taking_rest(rest).cpu().numpy() & np.array(by_frames)).sum(0)
                return visual

            def motion_for(wins: list[Window]) -> np.ndarray:
                """``[B, S, frames]``: each box's motion on each window's STFT frames."""
                with stage("frame decode"):
                    return np.stack([self.window_motion(reader, plan, w) for w in wins])

            windows = timed_iter("windowing", Windower(self.overlap)(audio))
            moving = motion_for if self.splits(len(plan.sources)) else None
            rows = self.run_windows(windows, visual_for, len(plan.sources), residual, on_window, total, tap, moving)
            with closing(rows):  # stopped early: its worker ends before the reader it reads from closes
                if tap is None:
                    yield from resample_stream(rows, dsp.SAMPLE_RATE, out_rate)
                else:
                    yield from (r[:, 0] if tap.channels == 1 else r for r in rows if r.shape[-1])
        if loudest < SILENCE_PEAK:
            warnings.warn(
                f"{media.path}: the audio is silent, so the separated files are silent too",
                SilentAudioWarning,
                stacklevel=2,
            )

    def splits(self, sources: int) -> bool:
        """Whether boxes of one instrument may split their mask (and motion must be read)."""
        return self.same_instrument == "motion" and sources > 1

    @staticmethod
    def window_motion(reader: FrameReader, plan: BoxPlan, win: Window) -> np.ndarray:
        """Each source's motion ``[S, frames]`` over ``win``, read from the video at its rate."""
        start, fps = win.start / dsp.SAMPLE_RATE, reader.info.fps
        return same_instrument.window_motion(reader.frames_and_times_at, plan.boxes_at, start, STFT_FRAME_TIMES, fps)

    def run_windows(
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
        """Batches windows through the networks and stitches them into finished samples: at the model
        rate, or with a ``tap`` at its rate and channels (``[rows, C, n]``, full band); ``motion_for``:
        the boxes' motion per window, when boxes of one instrument split. With a spare core
        (:func:`~avsep.models.device.spare_core`) the next batch's guides and masks are made
        while this one's are applied (:mod:`avsep.separation.pipeline`): the same samples, sooner."""
        rows = sources + int(residual)
        stitcher = fullband.Stitching(tap, rows, self.overlap) if tap else Stitcher(rows, self.overlap)
        done = 0

        def shares(batch: Batch) -> Shares:
            visual = visual_for(batch.windows)
            motion = motion_for(batch.windows) if motion_for else None
            return self.window_shares(np.stack([w.audio for w in batch.windows]), visual, motion)

        def outputs(batch: Batch, made: Shares) -> Iterator[np.ndarray]:
            nonlocal done
            outs = self.apply_shares(made, residual, batch.mixture, tap.grid if tap else None)
            for win, out in zip(batch.windows, outs):
                with stage("stitch"):
                    block = stitcher.add(win, out) if tap is None else stitcher.add(win, out, batch.end)
                yield block
                done += 1
                if on_window:
                    on_window(done, max(total, done))

        yield from pipelined(batches(windows, self.batch_size, tap), shares, outputs, spare_core(self.device))
        with stage("stitch"):
            last = stitcher.finish()
        yield last


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
