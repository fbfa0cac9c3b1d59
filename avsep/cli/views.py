"""What the ``avsep`` commands print, apart from the commands themselves (:mod:`avsep.cli.app`).

The players automatic mode found, the batch summary of ``separate``, the report of ``info`` and
the listing of ``models``: everything goes through rich, results on stdout and progress,
warnings and summaries on stderr (:data:`avsep.cli.reporting.err`). Heavy imports stay inside the
functions.
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.markup import escape

from avsep.cli.reporting import err
from avsep.errors import AvsepError, InputError
from avsep.options import DEFAULT_OVERLAP

if TYPE_CHECKING:
    from avsep.batch.job import Outcome
    from avsep.boxes.detect import PlayerFinder
    from avsep.boxes.players import BoxPlan
    from avsep.boxes.request import BoxRequest, FinderFactory
    from avsep.io.media import MediaInfo
    from avsep.timerange import TimeRange


def announce_plan(video: Path, plan: BoxPlan, names: list[str] | None, quiet: bool) -> None:
    """Say which players automatic mode found, with class guess and confidence, and a
    ``--boxes ... --names ...`` line ready to paste (or to edit) for the next run. (A fallback
    to strips is a ``warning:`` line from :func:`avsep.boxes.request.plan_boxes`, even with -q.)"""
    if quiet:
        return
    found = ", ".join(f"{s.label} {s.confidence:.2f}" for s in plan.sources)
    err.print(
        f"{escape(str(video))}: found {len(plan.sources)} player(s): {escape(found)}"
        + (" (the boxes follow them; 'avsep info VIDEO --json' lists every box)" if plan.moves() else ""),
        soft_wrap=True,
    )
    err.print(f"  {plan.boxes_line(names)}", soft_wrap=True, markup=False)
    if plan.boxes_line_note():
        err.print(f"  {plan.boxes_line_note()}", soft_wrap=True, markup=False)


def batch_summary(outcomes: list[Outcome]) -> None:
    from rich.table import Table

    table = Table(title="avsep separate")
    table.add_column("input", overflow="fold")
    table.add_column("status")
    table.add_column("outputs / error", overflow="fold")
    colours = {"ok": "green", "skipped": "yellow", "failed": "red"}
    for o in outcomes:
        table.add_row(escape(str(o.video)), f"[{colours[o.status]}]{o.status}[/]", escape(o.detail))
    err.print(table)


def show_info(
    video: Path,
    boxes: list[str] | None,
    boxes_file: Path | None,
    sources: int | None,
    preview: Path | None,
    time: float | None,
    span: TimeRange,
    json_out: bool,
    quiet: bool,
) -> None:
    """``span`` (``--start``/``--end``): the players are found, and the preview frame's time
    counted, in that range, as ``avsep separate`` with the same range finds them."""
    import json

    from rich.table import Table

    from avsep.boxes.request import BoxRequest

    request = BoxRequest.from_options(boxes, boxes_file, sources=sources)  # before torch and PyAV load
    from avsep.io.media import clip, probe

    media = clip(probe(video), span)
    frame_time(time, media)  # before anything is printed or searched
    out = Console(highlight=False)
    if not json_out:
        within = "" if span.whole else f" from {media.start:g} s (--start/--end)"
        out.print(
            f"[bold]{escape(str(media.path))}[/]  {media.format}, {media.duration:.2f} s{within}, "
            f"{media.size_bytes / 1e6:.2f} MB ({media.size_bytes} bytes)",
            soft_wrap=True,
        )
        table = Table("stream", "codec", "details")
        for i, v in enumerate(media.videos):
            rot = f", rotated {v.rotation}°" if v.rotation else ""
            table.add_row(f"video {i}", v.codec, f"{v.width}x{v.height} (displayed), {v.fps:.3g} fps{rot}")
        for i, a in enumerate(media.audios):
            table.add_row(f"audio {i}", a.codec, f"{a.sample_rate} Hz, {a.channels} ch")
        out.print(table)
    if media.video is None:
        if preview:
            raise InputError(f"{video}: no video stream to preview")
        if json_out:
            report = {"video": str(media.path), "duration": round(media.duration, 3), **_range(span, media)}
            typer.echo(json.dumps({**report, "boxes": []}, indent=2))
        return
    plan = finding_players(media, request, default_model_finder, DEFAULT_OVERLAP, quiet)
    if json_out:
        w, h = media.video.width, media.video.height
        report = {
            "video": str(media.path),
            "width": w,
            "height": h,
            "duration": round(media.duration, 3),
            **_range(span, media),
            **plan.to_json(),
        }
        typer.echo(json.dumps(report, indent=2))
    else:
        for i, s in enumerate(plan.sources):
            guess = f"  {s.label} {s.confidence:.2f}" if s.label else ""
            out.print(f"box {i + 1}: {s.box[0]},{s.box[1]},{s.box[2]},{s.box[3]}{escape(guess)}", soft_wrap=True)
        if plan.method == "auto":
            out.print(plan.boxes_line(plan.names), soft_wrap=True, markup=False)
            if plan.boxes_line_note():
                out.print(plan.boxes_line_note(), soft_wrap=True, markup=False)
    if preview:
        from avsep.boxes.preview import draw_preview

        at = frame_time(time, media)
        labels = [s.label or s.name or "" for s in plan.sources]
        draw_preview(media, plan.boxes_at(at), at, preview, labels)
        if not json_out:
            out.print(f"preview written to {escape(str(preview))}", soft_wrap=True)


def _range(span: TimeRange, media: MediaInfo) -> dict[str, float]:
    """The ``--start``/``--end`` range a JSON report covers, in the video's seconds (its boxes'
    times are the video's too), or nothing for the whole video."""
    return {} if span.whole else {"start": round(media.start, 3), "end": round(media.start + media.duration, 3)}


def frame_time(time: float | None, media: MediaInfo) -> float:
    """``--time`` (in the video's clock) on the timeline of ``media`` (a ``--start`` range's own):
    the middle of the video, or of the range, when not given; a time outside it is an error (the
    frame shown would be the last one, not the one asked for)."""
    if time is None:
        return media.duration / 2
    first, last = media.start, media.start + media.duration
    if not first <= time <= last:
        where = f"{media.path} is {last:.2f} s long" if not first else f"the range is {first:.2f} to {last:.2f} s"
        raise InputError(f"--time {time:g}: {where}; give a time from {first:.{2 if first else 0}f} to {last:.2f}")
    return time - first


def default_model_finder() -> PlayerFinder | None:
    """The finder ``avsep separate`` uses with its default model (its trunk's classifier), so
    that ``avsep info`` shows the boxes ``separate`` will find; built only when info looks."""
    from avsep.separation.separator import Separator

    return Separator().player_finder()


def finding_players(
    media: MediaInfo, request: BoxRequest, finder: FinderFactory, overlap: float, quiet: bool
) -> BoxPlan:
    """:func:`avsep.boxes.request.plan_boxes`, under a progress bar on stderr while it looks for
    the players (no bar for given boxes or strips, or with ``quiet``)."""
    from avsep.boxes.request import FIND, plan_boxes
    from avsep.progress import make_progress

    with make_progress(not quiet and request.kind == FIND, err, transient=True) as bar:
        task = bar.add_task(f"{media.path.name}: finding players", total=None)

        def report(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        return plan_boxes(request, media, finder, overlap=overlap, on_frame=report)


#: Card fields worth a line in ``avsep models``; the rest is in the card file. The sizes are
#: measured, not read from the card.
CARD_SUMMARY = ("architecture", "backbone", "guide_gain", "intended_use")


def list_models() -> None:
    """One block per model; each file is loaded, so a damaged or altered one shows as refused.

    The hash shown is the file's sha256, the one ``sha256sum`` prints, so a user can check a
    copy without avsep; the sizes are the file's bytes and the network's parameter count.
    """
    from avsep.errors import ModelError
    from avsep.models.serialize import load_checkpoint
    from avsep.models.weights import DEFAULT_MODEL, bundled_models, weights_dir

    found = bundled_models()
    if not found:
        raise AvsepError(
            f"no bundled models in {weights_dir()}: reinstall avsep, or set AVSEP_WEIGHTS_DIR "
            "to a folder of <name>-<hash>.pt files"
        )
    out = Console(highlight=False)
    for m in found:
        nbytes = m.path.stat().st_size
        size = f"{nbytes / 1e6:.1f} MB file ({nbytes:,} bytes)"
        try:
            ck = load_checkpoint(m.path)
            digest = f"{ck.sha256} (verified; sha256sum prints the same)"
            size += f", {ck.parameters:,} parameters"
        except ModelError as exc:
            digest = f"[red]refused:[/] {escape(str(exc))}"
        default = " (default)" if m.name == DEFAULT_MODEL else ""
        card = ", ".join(f"{k}: {m.card[k]}" for k in CARD_SUMMARY if k in m.card)
        out.print(f"[bold]{escape(m.name)}[/]{default}  {escape(str(m.path))}", soft_wrap=True)
        out.print(f"  sha256  {digest}", soft_wrap=True)
        out.print(f"  size    {size}", soft_wrap=True)
        lines = textwrap.wrap(card or "(none)", width=min(out.width, 100) - 10, break_on_hyphens=False)
        for head, line in zip(["  card    ", *[" " * 10] * len(lines)], lines):  # wrapped, not one long line
            out.print(f"{head}{escape(line)}", soft_wrap=True)
        if m.card:
            out.print(f"          full card: {escape(str(m.path.with_name(m.name + '.json')))}", soft_wrap=True)
