"""A picture of the boxes on a video frame, so a user can check them before separating."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

from PIL import Image, ImageDraw

from avsep.errors import AvsepError
from avsep.io.video import FrameReader

#: Distinct, colour-blind-friendly outline colours (Okabe-Ito), one per box.
COLOURS = ["#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7", "#FFFFFF"]


def draw_preview(video: Path, boxes: Sequence[tuple[int, int, int, int]], time: float, out: Path) -> None:
    """Write ``out`` (PNG): the frame at ``time`` with each box outlined and numbered."""
    with FrameReader(video) as reader:
        frame = reader.frames_at([time])[0]
    image = Image.fromarray(frame)
    draw = ImageDraw.Draw(image)
    width = max(2, min(image.size) // 150)
    for i, (x0, y0, x1, y1) in enumerate(boxes):
        colour = COLOURS[i % len(COLOURS)]
        draw.rectangle([x0, y0, x1 - 1, y1 - 1], outline=colour, width=width)
        draw.text((x0 + width + 2, y0 + width + 2), str(i + 1), fill=colour)
    out = Path(out)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent)
    except OSError as exc:
        raise AvsepError(f"cannot write {out}: {exc.strerror}") from None
    try:
        with os.fdopen(fd, "wb") as f:
            image.save(f, format="PNG")
        os.replace(tmp, out)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise AvsepError(f"cannot write {out}: {exc.strerror}") from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
