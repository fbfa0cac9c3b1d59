"""A picture of the boxes on a video frame, so a user can check them before separating."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from PIL import Image, ImageDraw

from avsep.atomic import atomic_write
from avsep.boxes import Box
from avsep.errors import AvsepError
from avsep.io.media import MediaInfo
from avsep.io.video import FrameReader

#: Distinct, colour-blind-friendly outline colours (Okabe-Ito), one per box.
COLOURS = ["#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7", "#FFFFFF"]


def draw_preview(
    video: Path | MediaInfo,
    boxes: Sequence[Box | None],
    time: float,
    out: Path,
    labels: Sequence[str] | None = None,
) -> None:
    """Write ``out`` (PNG): the frame at ``time`` with each box outlined and numbered (and
    labelled, e.g. with the class guessed for it). A None box (a source not in the picture at
    that moment) is left out; the others keep their numbers and colours."""
    with FrameReader(video) as reader:
        frame = reader.frames_at([time])[0]
    image = Image.fromarray(frame)
    draw = ImageDraw.Draw(image)
    width = max(2, min(image.size) // 150)
    for i, box in enumerate(boxes):
        if box is None:
            continue
        x0, y0, x1, y1 = box
        colour = COLOURS[i % len(COLOURS)]
        draw.rectangle([x0, y0, x1 - 1, y1 - 1], outline=colour, width=width)
        text = f"{i + 1} {labels[i]}" if labels and labels[i] else str(i + 1)
        draw.text((x0 + width + 2, y0 + width + 2), text, fill=colour)
    write_png(image, Path(out))


def write_png(image: Image.Image, out: Path) -> None:
    """Save ``image`` as PNG at ``out`` whole or not at all, with a one-line error."""
    try:
        atomic_write(out, lambda f: image.save(f, format="PNG"))  # read-write for all, as WAVs
    except OSError as exc:
        raise AvsepError(f"cannot write {out}: {exc.strerror}") from None
