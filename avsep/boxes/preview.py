"""A picture of the boxes on a video frame, so a user can check them before separating."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from avsep.boxes.box import Box
from avsep.io.atomic import atomic_write
from avsep.io.media import MediaInfo
from avsep.io.video import FrameReader
from avsep.options import picture_format

#: Distinct, colour-blind-friendly outline colours (Okabe-Ito), one per box.
COLOURS = ["#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7", "#FFFFFF"]


def draw_preview(
    video: Path | MediaInfo,
    boxes: Sequence[Box | None],
    time: float,
    out: Path,
    labels: Sequence[str] | None = None,
) -> None:
    """Write ``out`` (PNG or JPEG, as its extension says): the frame at ``time`` with each box
    outlined and numbered (and labelled, e.g. with the class guessed for it). A None box (a source not in the picture at
    that moment) is left out; the others keep their numbers and colours."""
    with FrameReader(video, display=True) as reader:
        frame = reader.frames_at([time])[0]
    image = Image.fromarray(frame)
    for i, box in enumerate(boxes):
        if box is not None:
            text = f"{i + 1} {labels[i]}" if labels and labels[i] else str(i + 1)
            draw_box(image, box, COLOURS[i % len(COLOURS)], text)
    write_picture(image, Path(out))


def draw_box(image: Image.Image, box: Sequence[int], colour: str, text: str | None = None) -> None:
    """Outline ``box`` on ``image`` and label it with ``text`` so a person can read both on any frame.

    The outline is the box's colour between two black lines (visible on light and dark
    pictures alike), about 1/120 of the frame's short side thick, and drawn *inside* the box
    clipped to the frame, so a box on the frame's edge keeps all four sides. The label sits
    on a filled tag of the box's colour (:func:`_tag`): above the box when there is room,
    else inside it under its top side.
    """
    draw = ImageDraw.Draw(image)
    width, height = image.size
    line = max(3, min(width, height) // 120)
    edge = max(1, line // 3)
    x0, y0 = max(0, int(box[0])), max(0, int(box[1]))
    x1, y1 = max(x0, min(width, int(box[2])) - 1), max(y0, min(height, int(box[3])) - 1)
    draw.rectangle([x0, y0, x1, y1], outline="black", width=line + 2 * edge)
    inner = [x0 + edge, y0 + edge, max(x0 + edge, x1 - edge), max(y0 + edge, y1 - edge)]
    draw.rectangle(inner, outline=colour, width=line)
    if text:
        tag_w, tag_h = _tag_size(image, text)
        ty = y0 - tag_h if y0 >= tag_h else y0 + line + 2 * edge
        _tag(image, min(x0, max(0, width - tag_w)), ty, text, colour)


def caption(image: Image.Image, text: str, colour: str) -> Image.Image:
    """``image`` with a black band below it holding ``text`` on a tag of ``colour``: a label
    that hides nothing of the picture (``avsep locate``'s heat maps)."""
    _, tag_h = _tag_size(image, text)
    out = Image.new("RGB", (image.width, image.height + tag_h), "black")
    out.paste(image, (0, 0))
    _tag(out, 0, image.height, text, colour, short=min(image.size))
    return out


def _font(short: int) -> ImageFont.FreeTypeFont:
    """The label font: about 1/24 of the frame's short side high, never below 11 pixels."""
    return ImageFont.load_default(size=max(11, short // 24))


def _tag_size(image: Image.Image, text: str) -> tuple[int, int]:
    left, top, right, bottom = _font(min(image.size)).getbbox(text)
    pad = max(2, min(image.size) // 240)
    return right - left + 2 * pad, bottom - top + 2 * pad


def _tag(image: Image.Image, x: int, y: int, text: str, colour: str, short: int | None = None) -> None:
    """``text`` on a filled tag of ``colour`` with its top left at ``(x, y)``, in black or white
    ink (whichever contrasts more), sized for a frame of short side ``short`` (the image's)."""
    short = short or min(image.size)
    font = _font(short)
    left, top, right, bottom = font.getbbox(text)
    pad = max(2, short // 240)
    draw = ImageDraw.Draw(image)
    draw.rectangle([x, y, x + right - left + 2 * pad - 1, y + bottom - top + 2 * pad - 1], fill=colour, outline="black")
    draw.text((x + pad - left, y + pad - top), text, fill=_ink(colour), font=font)


def _ink(colour: str) -> str:
    """Black or white text, whichever contrasts more with the ``#RRGGBB`` background."""
    r, g, b = (int(colour[k : k + 2], 16) for k in (1, 3, 5))
    return "black" if 0.299 * r + 0.587 * g + 0.114 * b > 140 else "white"


def write_picture(image: Image.Image, out: Path, option: str = "out") -> None:
    """Save ``image`` at ``out`` in the format its extension names (:data:`avsep.options.PICTURE_FORMATS`;
    any other is refused, naming ``option``), whole or not at all (a refused write is one line)."""
    fmt = picture_format(out, option)
    quality = {"quality": 92} if fmt == "JPEG" else {}
    atomic_write(out, lambda f: image.save(f, format=fmt, **quality))  # read-write for all, as WAVs
