"""The mix-and-separate dataset: mixtures of solo clips of an index, with their guides.

:class:`MixDataset` item ``(epoch, i)`` (or plain ``i`` = epoch 0) draws ``num_mix`` clips of
different classes, one ``clip``-sample segment each, and the frames around each segment's centre
at :data:`avsep.signal.chunking.FRAME_OFFSETS`. Every random choice comes from a generator seeded with
``(seed, epoch, i)``, so an item is the same in any worker, in any order, after any resume.
Index files and frames: :mod:`avsep.train.index`.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from avsep.errors import InputError
from avsep.io.audio import load_audio
from avsep.models.guide import is_label, label_guide
from avsep.signal.chunking import FRAME_OFFSETS
from avsep.signal.dsp import SAMPLE_RATE, WINDOW_SAMPLES
from avsep.train.augment import RETUNE_STEPS, Soundtrack, retune_read, retune_up, retuned
from avsep.train.index import Index, frame_numbers, read_frames

if TYPE_CHECKING:
    import torch

    from avsep.train.features import FeatureCache

# -- audio ----------------------------------------------------------------------------------


class AudioReader:
    """Reads model-rate segments of the index's audio; caches lengths (and non-wav decodes)."""

    def __init__(self, sample_rate: int = SAMPLE_RATE, cache_decoded: int = 16) -> None:
        self.sample_rate = sample_rate
        self._lengths: dict[Path, int] = {}
        self._direct: dict[Path, bool] = {}
        # Files soundfile cannot read at the model rate are decoded whole; keep the last few.
        self._decoded: OrderedDict[Path, np.ndarray] = OrderedDict()
        self._cache_decoded = cache_decoded

    def _info(self, path: Path) -> None:
        import soundfile as sf

        try:
            info = sf.info(str(path))
            direct = info.samplerate == self.sample_rate
            length = info.frames
        except Exception:  # not a soundfile format (mp4, mp3 on old libsndfile): decode once
            direct = False
            length = -1
        if not direct:
            length = self._decode(path).shape[0]
        self._direct[path] = direct
        self._lengths[path] = length

    def _decode(self, path: Path) -> np.ndarray:
        if path in self._decoded:
            self._decoded.move_to_end(path)
            return self._decoded[path]
        if not path.is_file():
            raise InputError(f"{path}: audio file of the index not found")

        audio, _ = load_audio(path, sample_rate=self.sample_rate, mono=True)
        audio = np.asarray(audio, dtype=np.float32)
        if self._cache_decoded > 0:
            self._decoded[path] = audio
            while len(self._decoded) > self._cache_decoded:
                self._decoded.popitem(last=False)
        return audio

    def length(self, path: Path) -> int:
        if path not in self._lengths:
            if not path.is_file():
                raise InputError(f"{path}: audio file of the index not found")
            self._info(path)
        return self._lengths[path]

    def read(self, path: Path, start: int, count: int) -> np.ndarray:
        """``count`` samples from ``start`` (zero-padded past the end), float32 mono."""
        self.length(path)
        if self._direct[path]:
            import soundfile as sf

            data, _ = sf.read(str(path), start=start, stop=start + count, dtype="float32", always_2d=True)
            data = data.mean(axis=1)
        else:
            data = self._decode(path)[start : start + count]
        out = np.zeros(count, dtype=np.float32)
        out[: data.shape[0]] = data
        return out


# -- the dataset ----------------------------------------------------------------------------


@dataclass(frozen=True)
class MixPlan:
    """Every random choice of one mixture (no audio or pixels): what the item will load."""

    clips: tuple[int, ...]  # indices into Index.clips, one per source, of distinct classes
    starts: tuple[int, ...]  # first sample of each source's segment
    valid: tuple[int, ...]  # real samples read of each source (the rest is zero padding)
    gains: tuple[float, ...]  # linear gain of each source (includes the 1/parts scaling)
    frames: tuple[tuple[int, ...], ...]  # 1-based frame numbers per source
    #: seeds the item's soundtrack augmentation (independent of the choices above)
    seed: tuple[int, ...] = ()
    #: the last this many clips are outside parts: in the mixture, neither guided nor targets
    outside: int = 0
    #: the item is resampled by ``up / RETUNE_STEPS`` (``--retune``; avsep.train.augment.retuned)
    up: int = RETUNE_STEPS

    def to_dict(self, index: Index) -> dict[str, Any]:
        return {
            "speed": round(RETUNE_STEPS / self.up, 4),
            "sources": [
                {
                    "audio": str(index.clips[c].audio),
                    "class": index.clips[c].label,
                    "start": s,
                    "valid": v,
                    "gain": round(g, 6),
                    "frames": list(f),
                    "outside": k >= len(self.clips) - self.outside,
                }
                for k, (c, s, v, g, f) in enumerate(zip(self.clips, self.starts, self.valid, self.gains, self.frames))
            ],
        }


class MixDataset:
    """Mix-and-separate training data: ``num_mix`` solos of different classes per item.

    Items (``dataset[i]`` or ``dataset[(epoch, i)]``) are dicts of tensors:
    ``audio`` float32 ``[N, clip]`` (the sources; the mixture is their sum) and either
    ``frames`` uint8 ``[N, frames_per_clip, 224, 224, 3]`` or, with a ``feature_cache``,
    ``visual`` float32 ``[N, D]`` (the guide: max over the frames of the cached features).

    Source ``k`` is ``gain_k / n * segment_k`` (``n``: the item's parts, an outside one
    included) with ``gain_k`` uniform in ``±gain_db`` dB (Sound of Pixels divides by N; the
    gain adds level variety). With a ``soundtrack`` (:class:`avsep.train.augment.Soundtrack`)
    the sources go through a video's soundtrack chain and the item also holds the observed
    ``mixture`` ``[clip]`` (else the mixture is the sum of the sources). ``guide`` picks the
    kind of guide read from the cache (:mod:`avsep.models.guide`); ``label`` needs no cache or
    frames: each source's one-hot class (softened for a ``soften`` share, :func:`soften_guides`).
    With ``coherent``, an item led by a clip of an ensemble (the index's group column) mixes
    that share of the time its ensemble's other parts over one segment of the piece, as
    players who played together. With ``outside``, that share of the items holds one more
    part, in the mixture (and the soundtrack chain) but neither guided nor a target, as an
    instrument nobody named is at separation, whose sound the named masks must leave to the
    residual: a clip of ``outside_classes`` (which play only such parts) where there are any,
    else the item's ensemble's next part, else a clip of a class not in the item; the item
    then always holds the ``mixture``. With ``retune`` (semitones) an item's sources are played
    faster or slower together (:func:`avsep.train.augment.retuned`). The first clip of item
    ``i`` runs through a per-epoch permutation of the index (each clip leads once per epoch);
    the others are drawn uniformly from the clips of the classes not used yet.
    ``length`` overrides the number of items (validation / test sets of a fixed size).
    """

    def __init__(
        self,
        index: Index,
        num_mix: int = 2,
        clip: int = WINDOW_SAMPLES,
        frames_per_clip: int = 3,
        seed: int = 0,
        feature_cache: FeatureCache | None = None,
        *,
        gain_db: float = 6.0,
        length: int | None = None,
        offsets: Sequence[float] | None = None,
        sample_rate: int = SAMPLE_RATE,
        guide: str = "features",
        soundtrack: Soundtrack | None = None,
        soften: float = 0.0,
        coherent: float = 0.0,
        outside: float = 0.0,
        outside_classes: Sequence[str] = (),
        retune: float = 0.0,
    ) -> None:
        if num_mix < 1:
            raise InputError(f"--num-mix must be at least 1, got {num_mix}")
        guided = sorted(set(index.classes) - set(outside_classes))  # the classes that lead and partner
        if len(guided) < num_mix:
            raise InputError(
                f"{', '.join(index.sources) or 'the index'} has {len(guided)} class(es) to guide "
                f"({', '.join(guided)}); mixing {num_mix} sources of different classes needs {num_mix}"
            )
        if offsets is None:
            if frames_per_clip == len(FRAME_OFFSETS):
                offsets = FRAME_OFFSETS
            else:  # spread evenly over the same span as the default offsets
                span = FRAME_OFFSETS[-1] - FRAME_OFFSETS[0]
                offsets = (
                    tuple(FRAME_OFFSETS[0] + span * k / max(frames_per_clip - 1, 1) for k in range(frames_per_clip))
                    if frames_per_clip > 1
                    else (0.0,)
                )
        self.index = index
        self.num_mix = num_mix
        self.clip = clip
        self.offsets = tuple(offsets)
        self.seed = seed
        self.feature_cache = feature_cache
        self.gain_db = gain_db
        self.sample_rate = sample_rate
        self.guide = guide
        self.soundtrack = soundtrack
        self.soften = soften
        self.coherent = coherent
        self.outside = outside
        self.retune = retune
        self._groups: dict[str, list[int]] = {}
        for k, c in enumerate(index.clips):
            if c.group:
                self._groups.setdefault(c.group, []).append(k)
        self.audio = AudioReader(sample_rate)
        labels = [c.label for c in index.clips]
        self._classes = sorted(set(labels))
        self._label_of = np.array([self._classes.index(lab) for lab in labels])
        self._is_outsider = np.isin(labels, list(outside_classes))
        self._leaders, self._outsiders = np.flatnonzero(~self._is_outsider), np.flatnonzero(self._is_outsider)
        self.length = len(self._leaders) if length is None else int(length)  # each leader once an epoch
        self._perms: dict[int, np.ndarray] = {}
        if feature_cache is not None:
            feature_cache.check_index(index)

    def __len__(self) -> int:
        return self.length

    def _ensemble(self, first: int, num_mix: int, rng: np.random.Generator, extra: int = 0) -> list[int] | None:
        """``first`` and ``num_mix - 1`` other parts of its ensemble (and up to ``extra`` more,
        the outside parts, where it has them), for a :attr:`coherent` share of the items an
        ensemble's clip leads; None otherwise (or when the ensemble has too few parts): then the
        partners are drawn from the whole index. Draws nothing from ``rng`` when the share is 0,
        so such runs repeat those made before ensembles existed."""
        group = self.index.clips[first].group
        if self.coherent <= 0 or not group or rng.random() >= self.coherent:
            return None
        parts: dict[int, int] = {}  # one clip a class (the builder deals one class a part)
        for c in self._groups[group]:
            if not self._is_outsider[c]:  # an outside class never plays a guided part
                parts.setdefault(int(self._label_of[c]), c)
        parts.pop(int(self._label_of[first]), None)
        mates = list(parts.values())
        if len(mates) < num_mix - 1:
            return None
        take = min(len(mates), num_mix - 1 + extra)
        return [first, *(int(c) for c in rng.choice(mates, take, replace=False))]

    def _perm(self, epoch: int) -> np.ndarray:
        if epoch not in self._perms:
            if len(self._perms) > 4:
                self._perms.clear()
            order = np.random.default_rng([self.seed, epoch, 0x5EED]).permutation(len(self._leaders))
            self._perms[epoch] = self._leaders[order]
        return self._perms[epoch]

    def plan(self, key: int | tuple[int, ...]) -> MixPlan:
        """The random choices of item ``key`` (``i``, ``(epoch, i)`` or ``(epoch, i, sources)``,
        the last from a curriculum's :class:`~avsep.train.steps.StepSampler`); cheap, no decoding."""
        epoch, i, *size = (0, key) if isinstance(key, (int, np.integer)) else key
        epoch, i = int(epoch), int(i)
        num_mix = int(size[0]) if size else self.num_mix
        if not 1 <= num_mix <= self.num_mix:
            raise InputError(f"an item of {num_mix} sources from a dataset made for at most {self.num_mix}")
        rng = np.random.default_rng([self.seed, epoch, i])
        first = int(self._perm(epoch)[i % len(self._leaders)])
        # draws nothing when there are no outside parts, so that earlier runs repeat
        extra = int(self.outside > 0 and len(self._classes) > num_mix and rng.random() < self.outside)
        chosen = self._ensemble(first, num_mix, rng, 0 if len(self._outsiders) else extra)
        together = len(chosen) if chosen is not None else 0  # the ensemble's parts, played together
        chosen = chosen or [first]
        while len(chosen) < num_mix + extra:  # partners (and the outside part) of unused classes
            pool = self._outsiders if len(chosen) >= num_mix and len(self._outsiders) else self._leaders
            candidates = pool[~np.isin(self._label_of[pool], self._label_of[chosen])]
            chosen.append(int(candidates[rng.integers(len(candidates))]))
        up = retune_up(self.retune, np.random.default_rng([self.seed, epoch, i, 0x7E7]))  # its own draws
        read = retune_read(self.clip, up)  # each source's segment, read and resampled to the clip
        lengths = [self.audio.length(self.index.clips[c].audio) for c in chosen]
        shared = None  # an ensemble's parts: one segment of the piece, drawn once for all
        if together:  # an outside part from elsewhere keeps its own length and start
            lengths[:together] = [min(lengths[:together])] * together
            shared = int(rng.integers(0, lengths[0] - read + 1)) if lengths[0] >= read else 0
        starts, valid, gains, frames = [], [], [], []
        for k, (c, length) in enumerate(zip(chosen, lengths)):
            clip = self.index.clips[c]
            if length >= read:
                start = shared if k < together else int(rng.integers(0, length - read + 1))
                n = read
            else:
                start, n = 0, max(length, 0)
            gain_db = rng.uniform(-self.gain_db, self.gain_db) if self.gain_db > 0 else 0.0
            starts.append(start)
            valid.append(n)
            gains.append(float(10.0 ** (gain_db / 20.0)) / len(chosen))
            centre = (start + n / 2.0) / self.sample_rate
            frames.append(tuple(frame_numbers(centre, self.index.fps, clip.num_frames, self.offsets)))
        seed = (self.seed, epoch, i, 0x50D)
        return MixPlan(tuple(chosen), tuple(starts), tuple(valid), tuple(gains), tuple(frames), seed, extra, up)

    def load(self, plan: MixPlan, frames: bool | None = None) -> dict[str, Any]:
        """Audio and frames (or cached guide features) of a plan.

        ``frames=True`` returns pixels even when a feature cache is set (evaluation).
        """
        import torch

        read = retune_read(self.clip, plan.up)
        audio = np.stack(
            [
                self.audio.read(self.index.clips[c].audio, s, read) * np.float32(g)
                for c, s, g in zip(plan.clips, plan.starts, plan.gains)
            ]
        )
        audio = retuned(audio, plan.up, self.clip) if read != self.clip else audio
        item: dict[str, Any] = {}
        if self.soundtrack is not None:
            audio, mixture, _ = self.soundtrack(audio, np.random.default_rng(plan.seed))
            item["mixture"] = torch.from_numpy(mixture)
        elif self.outside > 0:  # every item of a batch holds one (collation), outside part or not
            item["mixture"] = torch.from_numpy(audio.sum(0))
        guided = len(plan.clips) - plan.outside
        item["audio"] = torch.from_numpy(np.ascontiguousarray(audio[:guided]))
        clips = [self.index.clips[c] for c in plan.clips[:guided]]
        want_frames = (self.feature_cache is None and not is_label(self.guide)) if frames is None else frames
        if want_frames:
            pics = np.stack([read_frames(clip, f) for clip, f in zip(clips, plan.frames)])
            item["frames"] = torch.from_numpy(pics)
        elif is_label(self.guide):
            guides = label_guide([clip.label for clip in clips], self.guide)
            if self.soften > 0:
                guides = soften_guides(guides, self.soften, np.random.default_rng([*plan.seed, 0x50F]))
            item["visual"] = guides
        else:
            assert self.feature_cache is not None
            vis = np.stack(
                [self.feature_cache.guide(clip.frames_dir, f, self.guide) for clip, f in zip(clips, plan.frames)]
            )
            item["visual"] = torch.from_numpy(vis)
        return item

    def __getitem__(self, key: int | tuple[int, ...]) -> dict[str, Any]:
        return self.load(self.plan(key))


def soften_guides(guides: torch.Tensor, share: float, rng: np.random.Generator) -> torch.Tensor:
    """One-hot guides ``[N, C]`` with a ``share`` of the rows made soft: the true class keeps a
    weight uniform in 0.5..1 and the rest goes to the other classes by a Dirichlet draw (0.5),
    so the true class stays the largest. Why: separating, a box read by the guide head gets
    its posterior, which is rarely a one-hot; a network that saw only one-hots reads a soft
    guide as a weaker one."""
    import torch

    out = guides.clone()
    for row in np.flatnonzero(rng.random(len(out)) < share):
        true = int(out[row].argmax())
        keep = rng.uniform(0.5, 1.0)
        spread = rng.dirichlet(np.full(out.shape[1] - 1, 0.5)) * (1.0 - keep)
        out[row] = torch.from_numpy(np.insert(spread, true, keep).astype(np.float32))
    return out
