"""Visual feature cache: the frozen trunk's per-frame features, computed once.

The guide of a box is ``max over frames, max over space`` of the trunk's last conv map. Both
maxima commute, so a per-frame vector ``max over space`` (``[C]``) is all training needs: the
guide of 3 frames is the element-wise max of their 3 cached vectors, bit-for-bit what
:meth:`VisualTrunk.guide` computes (up to the float16 storage). This turns the ~90 ms per image
of EfficientNet-Lite0 on a CPU into a table lookup and makes CPU training feasible.

The other guide kinds (:mod:`avsep.models.guide`: the classifier's posterior over the music
classes, both, ...) need the classifier's logits of each frame; version 2 stores the music
classes' logits and the log-sum-exp of all 1000 beside the pooled features, so one cache
serves every kind.

File format (``torch.save``, loads with ``weights_only=True`` and ``mmap=True``)::

    {"format": "avsep-features", "version": 2, "trunk": name, "feature_dim": C,
     "pretrained": bool, "weights_sha256": str | None,
     "keys": ["<class>/<id>", ...],          # the frames_dir's last two path parts
     "offsets": int64 [K], "counts": int64 [K],
     "features": float16 [sum(counts), C],   # row offsets[k] + n - 1 = frame n of key k
     "music_logits": float16 [rows, M],      # ImageNet logits of MUSIC_INDICES (version 2)
     "logsumexp": float32 [rows]}            # log-sum-exp of all 1000 logits (version 2)

Keys are ``<class>/<id>`` (the last two parts of ``frames_dir``), so a dataset folder can move
without invalidating its cache. Frames are not augmented (the trunk is frozen; an augmented
cache would need one entry per augmentation).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from avsep.errors import InputError
from avsep.io.atomic import atomic_write
from avsep.models.device import select_device
from avsep.models.guide import combine
from avsep.models.imagenet_music import MUSIC_INDICES
from avsep.models.visual import build_trunk
from avsep.progress import make_progress
from avsep.train.index import Index, read_frames, read_index

FORMAT = "avsep-features"
VERSION = 2


def cache_key(frames_dir: str | Path) -> str:
    parts = Path(frames_dir).parts
    return "/".join(parts[-2:])


class FeatureCache:
    """Read side of a feature cache (memory-mapped; safe to hand to DataLoader workers)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._load()

    def _load(self) -> None:
        import torch

        if not self.path.is_file():
            raise InputError(f"{self.path}: feature cache not found; make it with 'avsep features'")
        try:
            payload = torch.load(self.path, map_location="cpu", weights_only=True, mmap=True)
        except Exception as exc:
            raise InputError(f"{self.path}: not a readable feature cache ({type(exc).__name__}); rebuild it") from exc
        if not isinstance(payload, dict) or payload.get("format") != FORMAT:
            raise InputError(f"{self.path}: not an avsep feature cache; rebuild it with 'avsep features'")
        self.trunk: str = payload["trunk"]
        self.feature_dim: int = int(payload["feature_dim"])
        self.pretrained: bool = bool(payload.get("pretrained", False))
        self.weights_sha256: str | None = payload.get("weights_sha256")
        self._rows = {k: (int(o), int(c)) for k, o, c in zip(payload["keys"], payload["offsets"], payload["counts"])}
        self._features = payload["features"]  # float16 [rows, C], memory-mapped
        self._music = payload.get("music_logits")  # version 2 only
        self._lse = payload.get("logsumexp")

    def __getstate__(self) -> dict:
        return {"path": self.path}

    def __setstate__(self, state: dict) -> None:
        self.path = state["path"]
        self._load()

    def __len__(self) -> int:
        return len(self._rows)

    def __contains__(self, frames_dir: str | Path) -> bool:
        return cache_key(frames_dir) in self._rows

    def _rows_of(self, frames_dir: str | Path, numbers: Sequence[int]) -> list[int]:
        key = cache_key(frames_dir)
        if key not in self._rows:
            raise InputError(f"{self.path}: no features for {key}; rebuild the cache with this index")
        offset, count = self._rows[key]
        rows = []
        for n in numbers:
            if not 1 <= n <= count:
                raise InputError(f"{self.path}: {key} has {count} cached frames, asked for frame {n}")
            rows.append(offset + n - 1)
        return rows

    def frames(self, frames_dir: str | Path, numbers: Sequence[int]) -> np.ndarray:
        """Per-frame vectors ``[len(numbers), C]`` float32."""
        return self._features[self._rows_of(frames_dir, numbers)].float().numpy()

    def guide(self, frames_dir: str | Path, numbers: Sequence[int], kind: str = "features") -> np.ndarray:
        """The guide ``[D]`` of ``kind`` from the cached frames (``features``: the max over the
        frames of their cached vectors, bit-for-bit the trunk's own pooling)."""
        if kind == "features":
            return self.frames(frames_dir, numbers).max(axis=0)
        if self._music is None:
            raise InputError(
                f"{self.path}: a version-1 cache has no classifier logits for --guide {kind}; "
                "rebuild it with 'avsep features'"
            )

        rows = self._rows_of(frames_dir, numbers)
        pooled = self._features[rows].float()[None]
        return combine(kind, pooled, self._music[rows].float()[None], self._lse[rows].float()[None])[0].numpy()

    def check_index(self, index: Index) -> None:
        """Every clip of ``index`` is cached with enough frames (fail before training starts)."""
        missing = [c.frames_dir for c in index.clips if cache_key(c.frames_dir) not in self._rows]
        if missing:
            raise InputError(
                f"{self.path}: {len(missing)} clip(s) of the index are not cached (e.g. {cache_key(missing[0])}); "
                "rebuild it with 'avsep features' over all the index files"
            )
        short = [c for c in index.clips if self._rows[cache_key(c.frames_dir)][1] < c.num_frames]
        if short:
            raise InputError(
                f"{self.path}: {cache_key(short[0].frames_dir)} has fewer cached frames than the index says; rebuild it"
            )


def _unique_clips(index: Index) -> list:
    seen: dict[str, object] = {}
    for clip in index.clips:
        key = cache_key(clip.frames_dir)
        prev = seen.get(key)
        if prev is None or prev.num_frames < clip.num_frames:
            if prev is not None and Path(prev.frames_dir).resolve() != Path(clip.frames_dir).resolve():
                raise InputError(
                    f"two different frame folders share the cache key {key}: {prev.frames_dir}, {clip.frames_dir}"
                )
            seen[key] = clip
    return list(seen.values())


def build_feature_cache(
    index_csvs: str | Path | Iterable[str | Path],
    trunk_name: str,
    out_path: str | Path,
    *,
    weights: str | Path | None = None,
    device: str = "auto",
    batch_size: int = 32,
    fps: float | None = None,
    progress: bool = True,
) -> dict:
    """Compute and store the per-frame features of every clip of the index files.

    Returns a summary dict (clips, frames, seconds, path). Written atomically to ``out_path``.
    """
    import time

    import torch

    if isinstance(index_csvs, (str, Path)):
        index_csvs = [index_csvs]
    csvs = [Path(p) for p in index_csvs]
    index = _read_each(csvs, fps)
    clips = _unique_clips(index)
    total = sum(c.num_frames for c in clips)
    dev = select_device(device)
    trunk = build_trunk(trunk_name, weights).to(dev)
    rows = _FrameRows(trunk, total, dev)
    keys, offsets, counts = [], [], []
    started = time.monotonic()
    pending: list[np.ndarray] = []
    bar = _progress(progress)
    with bar:
        task = bar.add_task(f"features {trunk_name}", total=total)
        for clip in clips:
            keys.append(cache_key(clip.frames_dir))
            offsets.append(rows.cursor + len(pending))
            counts.append(clip.num_frames)
            for start in range(1, clip.num_frames + 1, batch_size):
                numbers = list(range(start, min(start + batch_size, clip.num_frames + 1)))
                pending.extend(read_frames(clip, numbers))
                while len(pending) >= batch_size:
                    rows.add(pending[:batch_size])
                    del pending[:batch_size]
                    bar.advance(task, batch_size)
        if pending:
            n = len(pending)
            rows.add(pending)
            pending.clear()
            bar.advance(task, n)
    assert rows.cursor == total
    payload = {
        "format": FORMAT,
        "version": VERSION,
        "trunk": trunk_name,
        "feature_dim": trunk.spec.feature_dim,
        "pretrained": bool(trunk.pretrained),
        "weights_sha256": trunk.weights_sha256,
        "keys": keys,
        "offsets": torch.tensor(offsets, dtype=torch.int64),
        "counts": torch.tensor(counts, dtype=torch.int64),
        "features": rows.features,
        "music_logits": rows.music,
        "logsumexp": rows.lse,
    }
    out = atomic_write(out_path, lambda f: torch.save(payload, f))
    seconds = time.monotonic() - started
    return {
        "path": str(out),
        "trunk": trunk_name,
        "pretrained": bool(trunk.pretrained),
        "clips": len(clips),
        "frames": total,
        "seconds": round(seconds, 2),
        "ms_per_frame": round(1000 * seconds / max(total, 1), 2),
        "bytes": out.stat().st_size,
    }


class _FrameRows:
    """The cache's per-frame tensors (pooled features, music-class logits, log-sum-exp of all
    logits), filled batch by batch in frame order."""

    def __init__(self, trunk, total: int, device) -> None:
        import torch

        self.trunk, self.device, self.cursor = trunk, device, 0
        self.features = torch.empty((total, trunk.spec.feature_dim), dtype=torch.float16)
        self.music = torch.empty((total, len(MUSIC_INDICES)), dtype=torch.float16)
        self.lse = torch.empty(total, dtype=torch.float32)

    def add(self, batch: list[np.ndarray]) -> None:
        import torch

        x = torch.from_numpy(np.stack(batch)).to(self.device)
        with torch.inference_mode():
            pooled, logits, total_lse = self.trunk.frame_parts(self.trunk.normalize(x))
        rows = slice(self.cursor, self.cursor + len(batch))
        self.features[rows] = pooled.float().cpu().to(torch.float16)
        self.music[rows] = logits.cpu().to(torch.float16)
        self.lse[rows] = total_lse.cpu()
        self.cursor += len(batch)


def _read_each(csvs: list[Path], fps: float | None) -> Index:
    """Index files from different folders may have different frame rates; the cache stores
    frames by number, so only the clips matter here."""
    clips = []
    for p in csvs:
        clips.extend(read_index(p, fps=fps).clips)
    return Index(clips, fps or 0.0, [str(p) for p in csvs])


def _progress(enabled: bool):
    from rich.progress import TaskProgressColumn

    return make_progress(enabled, None, TaskProgressColumn())
