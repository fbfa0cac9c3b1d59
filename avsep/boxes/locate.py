"""Where each output's sound comes from: a heat map per source over a video frame.

Each source is separated under the guidance of one vector, its *guide*: the visual trunk's
feature map of the source's box crops, max-pooled over 3 frames and over space
(:meth:`~avsep.models.visual.VisualTrunk.guide`). ``avsep locate`` shows where in the whole
frame that vector is found again: the trunk runs on the whole frame (as the player finder does,
cells of 32 pixels), and each cell is coloured by the cosine similarity of its feature vector to
the source's guide, scaled so that the best-matching cell of the frame is brightest. A user sees
which region each output belongs to, and notices at once when a box holds the wrong player or
mostly background.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from avsep.boxes.detect import resize_for_trunk
from avsep.boxes.players import BoxPlan
from avsep.boxes.preview import COLOURS, caption, draw_box, write_picture
from avsep.errors import already_exists
from avsep.io.media import MediaInfo
from avsep.io.video import FrameReader
from avsep.signal.chunking import FRAME_OFFSETS

#: The frame's short side before the trunk, as for finding players (see avsep.boxes.detect).
SHORT_SIDE = 448


@torch.inference_mode()
def heat_maps(trunk: torch.nn.Module, frame: np.ndarray, guides: torch.Tensor) -> np.ndarray:
    """``[S, H, W]`` in 0..1: how well each of ``guides`` (``[S, C]``) matches each part of
    ``frame`` (``H x W x 3`` uint8), at the frame's own resolution."""
    import torch.nn.functional as F

    height, width = frame.shape[:2]
    fmap = trunk.features(resize_for_trunk(frame, SHORT_SIDE).to(guides.device))[0].float()  # [C, h, w]
    sim = torch.einsum("sc,chw->shw", F.normalize(guides.float(), dim=1), F.normalize(fmap, dim=0))
    low = sim.amin(dim=(1, 2), keepdim=True)
    high = sim.amax(dim=(1, 2), keepdim=True)
    scaled = (sim - low) / (high - low).clamp_min(1e-6)
    return F.interpolate(scaled[None], size=(height, width), mode="bilinear", align_corners=False)[0].cpu().numpy()


def colour_map(heat: np.ndarray) -> np.ndarray:
    """0..1 -> RGB uint8 on a dark-red-yellow-white ramp (readable in grey print too)."""
    stops = np.array([[0, 0, 0], [180, 0, 30], [255, 200, 0], [255, 255, 255]], np.float32)
    pos = np.clip(heat, 0, 1) * (len(stops) - 1)
    low = np.floor(pos).astype(int).clip(0, len(stops) - 2)
    frac = (pos - low)[..., None]
    return (stops[low] * (1 - frac) + stops[low + 1] * frac).astype(np.uint8)


def overlay(frame: np.ndarray, heat: np.ndarray, box: Sequence[int] | None, colour: str, label: str) -> Image.Image:
    """The frame, darkened where the guide does not match, with the heat map blended in, the
    source's box outlined and its label in a band below (hiding none of the map)."""
    alpha = 0.35 + 0.5 * heat[..., None]
    mixed = frame.astype(np.float32) * (1 - alpha) + colour_map(heat).astype(np.float32) * alpha
    image = Image.fromarray(mixed.clip(0, 255).astype(np.uint8))
    if box is not None:  # None: the source is not in the picture now
        draw_box(image, box, colour)
    return caption(image, label, colour)


def locate(
    video: Path | MediaInfo,
    plan: BoxPlan,
    trunk: torch.nn.Module,
    time: float,
    out_dir: Path,
    names: Sequence[str],
    device: torch.device | None = None,
    overwrite: bool = False,
) -> list[Path]:
    """Write ``out_dir/<name>.png`` per source: the frame at ``time`` with that source's heat
    map. The guides are made as the separation makes them: each source's crops from the 3
    frames around ``time`` (decoded for the eye, with the deblocking filter the separation
    skips: within a grey level, docs/experiments/2026-12-06-speed-round-2.md). An existing picture
    is an error unless ``overwrite``, before anything is decoded or written. Returns the paths
    written."""
    paths = [out_dir / f"{name}.png" for name in names]
    existing = [p for p in paths if p.exists()] if not overwrite else []
    if existing:
        raise already_exists(existing[0])
    with FrameReader(video, display=True) as reader:
        shown = reader.frames_and_times_at([max(0.0, time + off) for off in FRAME_OFFSETS])
        ((frame, at),) = reader.frames_and_times_at([time])
    crops = np.stack([plan.crops(f, t) for f, t in shown], 1)  # [S, F, 224, 224, 3]
    with torch.inference_mode():
        guides = trunk.guide(torch.from_numpy(crops).to(device or torch.device("cpu")))
    heat = heat_maps(trunk, frame, guides)
    boxes = plan.boxes_at(at)
    for i, (name, path) in enumerate(zip(names, paths)):
        write_picture(overlay(frame, heat[i], boxes[i], COLOURS[i % len(COLOURS)], f"{i + 1} {name}"), path)
    return paths
