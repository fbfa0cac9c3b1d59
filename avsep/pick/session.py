"""The state behind one ``avsep pick`` page: the video, its frames, the boxes shown first, the
``avsep separate`` line for what is drawn, the saved sidecar and the separation run from the page.

Nothing here re-implements ``separate``: the boxes the page sends are read by the boxes-file
reader (:func:`avsep.boxes.box.named_boxes`), turned into the arguments of one ``avsep separate``
line (:class:`Command`), and the **Separate** button runs exactly those arguments through
:meth:`avsep.boxes.request.BoxRequest.from_options`, :meth:`avsep.batch.job.BatchJob.create` and
:func:`avsep.batch.job.run_file`, as the command does; so the files equal the line's. The boxes
shown first are those ``avsep separate VIDEO`` would use: the video's sidecar when it has one,
else the players found (:func:`avsep.boxes.request.plan_boxes` with the model's finder); the
frames are the guide frames the finder and the separation look at (:func:`guide_frame_times`),
decoded for the eye with :class:`avsep.io.video.FrameReader` (rotation applied, display=True).

Finding and separating run in background threads and report through :class:`Task`, which the
page polls; :meth:`PickSession.close` stops them at their next frame or window (a separation's
files are written atomically, so a stopped one leaves nothing behind) and waits for them.
"""

from __future__ import annotations

import io
import json
import shlex
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from PIL import Image

from avsep.batch.job import BatchJob, run_file
from avsep.boxes.box import NamedBox, named_boxes, sidecar_for
from avsep.boxes.plan import BoxPlan, TimedBoxes
from avsep.boxes.players import guide_frame_times
from avsep.boxes.request import BoxRequest, plan_boxes
from avsep.errors import InputError
from avsep.io.atomic import atomic_write
from avsep.io.media import check_separable, probe
from avsep.io.video import FrameReader
from avsep.models.guide import LABELS, OTHER
from avsep.options import COMMAND_LINE, DEFAULT_OUT, DEFAULT_OVERLAP, BatchOptions, SeparationOptions
from avsep.separation.separator import Separator

if TYPE_CHECKING:
    import numpy as np

#: Frames kept encoded for the scrubber (a 448 x 224 JPEG is about 20 kB; an hour has 2400 frames).
KEPT_FRAMES = 256

#: Where the page's boxes come from, in its messages.
PAGE = "the page's boxes"


class Stopped(Exception):
    """Raised inside a finder or separation callback once the page is stopped (Ctrl-C)."""


@dataclass
class Task:
    """One background step the page polls (finding the players, a separation): the progress
    display :class:`avsep.batch.job.Progress` a batch reports to, and the finder's ``on_frame``.

    Each report checks ``stop``: a stopped page ends the step at its next frame or window."""

    stop: threading.Event
    status: str = "idle"  # idle, running, done, failed, stopped
    done: int = 0
    total: int = 0
    what: str = ""
    error: str | None = None

    def set_windows(self, total: int, description: str | None = None) -> None:
        self.window(0, total)
        self.what = description or self.what

    def window(self, done: int, total: int) -> None:
        if self.stop.is_set():
            raise Stopped("stopped: avsep pick was stopped")
        self.done, self.total = done, total

    def ended(self, error: str | None) -> None:
        """The step is over: done, or failed with ``error`` (stopped when the page was)."""
        self.error = error
        self.status = "done" if error is None else ("stopped" if self.stop.is_set() else "failed")

    def to_json(self) -> dict:
        return {"status": self.status, "done": self.done, "total": self.total, "what": self.what, "error": self.error}


@dataclass(frozen=True)
class Command:
    """The ``avsep separate`` line for the boxes drawn: ``--boxes ... --names ...``, or, when a
    box holds for a time range only, ``--boxes-file`` naming the video's sidecar (where Save
    writes them); always ``--residual`` (the page plays it) and ``--overwrite`` (the page
    separates again after each change)."""

    video: Path
    boxes: list[str] | None
    boxes_file: Path | None
    names: list[str] | None
    out: str = DEFAULT_OUT

    @classmethod
    def for_boxes(cls, video: Path, named: Sequence[NamedBox], out: str = DEFAULT_OUT) -> Command:
        if any(nb.start is not None or nb.end is not None for nb in named):
            return cls(video, None, sidecar_for(video), None, out)
        names = [nb.name or f"source{i + 1}" for i, nb in enumerate(named)]
        return cls(video, [",".join(map(str, nb.box)) for nb in named], None, names, out)

    def args(self) -> list[str]:
        """The arguments after ``avsep separate``."""
        given = (
            ["--boxes", *self.boxes, "--names", *self.names] if self.boxes else ["--boxes-file", str(self.boxes_file)]
        )
        out = [] if self.out == DEFAULT_OUT else ["-o", self.out]
        return [str(self.video), *given, "--residual", "--overwrite", *out]

    def line(self) -> str:
        return shlex.join(["avsep", "separate", *self.args()])

    def job(self) -> BatchJob:
        """The batch ``avsep separate`` builds from :meth:`args` (its option values, as typer
        hands them to the command), checked before anything runs."""
        request = BoxRequest.from_options(self.boxes, self.boxes_file, names=self.names, sidecars=True)
        options = BatchOptions(names=self.names, out_dir=self.out, residual=True, overwrite=True, wording=COMMAND_LINE)
        return BatchJob.create([self.video], request, options, quiet=True)


def separate_default() -> Separator:
    """The separator ``avsep separate`` builds when given none of its model options."""
    return Separator.from_options(SeparationOptions(wording=COMMAND_LINE))


@dataclass
class PickSession:
    """One video's page. ``say`` tells the terminal what the page did (a file saved or written)."""

    video: Path
    out: str = DEFAULT_OUT
    say: Callable[[str], None] = print
    make_separator: Callable[[], Separator] = separate_default
    stop: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        if self.out == "-":
            raise InputError("-o -: avsep pick writes the stems into a folder it plays them from; give a folder")
        self.media = probe(self.video)
        check_separable(self.media)  # a file that cannot be separated fails before the page opens
        self.times = guide_frame_times(self.media.duration, DEFAULT_OVERLAP)
        self.finding = Task(self.stop)
        self.separating = Task(self.stop)
        self.plan: BoxPlan | None = None
        self.origin = ""
        self.outputs: list[Path] = []
        self.line = ""
        self._separator: Separator | None = None
        self._frames_lock = threading.Lock()
        self._reader: FrameReader | None = None
        self._jpegs: OrderedDict[int, bytes] = OrderedDict()
        self._threads: list[threading.Thread] = []
        self._starting = threading.Lock()  # one separation at a time, however fast the clicks

    # -- background steps -------------------------------------------------------------------

    def start(self) -> None:
        """Start looking for the boxes ``avsep separate VIDEO`` would use."""
        self.finding.status, self.finding.what = "running", f"{self.video.name}: finding players"
        self._background(self._find, self.finding)

    def _background(self, work: Callable[[], None], task: Task) -> None:
        def run() -> None:
            try:
                work()
            except Exception as exc:  # broad on purpose: the page shows the one line
                task.ended(" ".join(str(exc).split()) or type(exc).__name__)
            else:
                task.ended(None)

        # Not a daemon: leaving the interpreter waits for it, so no write is cut short.
        thread = threading.Thread(target=run, name=f"avsep-pick-{len(self._threads)}")
        self._threads.append(thread)
        thread.start()

    def separator(self) -> Separator:
        """The model, loaded once for finding and separating (never both at a time)."""
        if self._separator is None:
            self._separator = self.make_separator()
        return self._separator

    def _find(self) -> None:
        request = BoxRequest.from_options(None, sidecars=True).for_video(self.video)
        plan = plan_boxes(
            request,
            self.media,
            lambda: self.separator().player_finder(),
            overlap=DEFAULT_OVERLAP,
            on_frame=self.finding.window,
        )
        self.origin = request.describe(plan, self.video)
        plan.decoded.clear()  # the finder's crops: the page decodes its own frames, Separate runs afresh
        self.plan = plan

    def separate(self, entries: object) -> str:
        """Start the separation of the boxes ``entries`` (the page's JSON); returns its line.
        Timed boxes are saved to the sidecar first, as the line reads them from there."""
        with self._starting:
            if self.finding.status == "running":
                raise InputError("still looking for the players; separate once the boxes are shown")
            if self.separating.status == "running":
                raise InputError("a separation is already running; wait for it to finish")
            command = self.command(entries)
            if command.boxes_file is not None:
                self.save(entries)
            job = command.job()
            self.line, self.outputs = command.line(), []
            self.separating = task = Task(self.stop, "running", what=f"{self.video.name}: starting")
            self._background(lambda: self._separate(job, task), task)
        return self.line

    def _separate(self, job: BatchJob, task: Task) -> None:
        outcome = run_file(job, self.separator(), self.video, task)
        if outcome.status != "ok":
            raise InputError(outcome.detail)
        self.outputs = outcome.outputs
        self.say(f"wrote {', '.join(str(p) for p in outcome.outputs)} ({outcome.boxes})")

    def close(self) -> None:
        """Stop the finder and the separation at their next frame or window and wait for them;
        a separation stopped so removes its temporary files (nothing half-written is left)."""
        self.stop.set()
        for thread in self._threads:
            thread.join()
        with self._frames_lock:
            if self._reader is not None:
                self._reader.close()

    # -- boxes --------------------------------------------------------------------------------

    def command(self, entries: object) -> Command:
        """The ``avsep separate`` line of the page's boxes (a boxes file's entries), checked as
        ``separate`` checks a boxes file, and against this video's frame."""
        named = named_boxes(entries, PAGE)
        TimedBoxes.from_named(named, PAGE).validated(self.media.video.width, self.media.video.height)
        command = Command.for_boxes(self.video, named, self.out)
        if command.boxes is not None:
            command.job()  # the names checked as separate checks them (without reading a file)
        return command

    def save(self, entries: object) -> Path:
        """Write the boxes as the video's sidecar (atomically), the file ``avsep separate VIDEO``
        reads when given no boxes."""
        self.command(entries)
        named = named_boxes(entries, PAGE)
        data = [
            {"name": nb.name or f"source{i + 1}", "box": list(nb.box)}
            | {k: v for k, v in (("start", nb.start), ("end", nb.end)) if v is not None}
            for i, nb in enumerate(named)
        ]
        path = atomic_write(sidecar_for(self.video), lambda f: f.write(json.dumps(data, indent=1).encode() + b"\n"))
        self.say(f"saved the boxes to {path}: 'avsep separate {self.video}' uses them")
        return path

    def first_boxes(self) -> list[dict]:
        """The boxes shown first as boxes-file entries, each source named (``sourceN`` if not)."""
        if self.plan is None:
            return []
        entries = self.plan.segments()
        for k, entry in enumerate(entries):
            entry["name"] = entry["name"] or f"source{k + 1}"
        return entries

    # -- what the page reads --------------------------------------------------------------------

    def state(self) -> dict:
        video = self.media.video
        found = self.plan.sources if self.plan is not None else []
        return {
            "video": self.video.name,
            "width": video.width,
            "height": video.height,
            "duration": round(self.media.duration, 3),
            "times": [round(t, 3) for t in self.times],
            "labels": [*LABELS, OTHER],  # other: a box that takes what the named boxes leave
            "finding": self.finding.to_json(),
            "boxes": self.first_boxes(),
            "found": [{"name": s.name, "label": s.label, "confidence": s.confidence} for s in found],
            "origin": self.origin,
            "note": self.plan.note if self.plan is not None else None,
            "sidecar": str(sidecar_for(self.video)),
        }

    def progress(self) -> dict:
        """The separation's progress and, once done, its files (relative to the output folder)."""
        files = [p.relative_to(self.out).as_posix() for p in self.outputs]
        return self.separating.to_json() | {"line": self.line, "files": files}

    def output_file(self, relative: str) -> Path | None:
        """The file of the last separation at ``relative`` under the output folder, else None."""
        wanted = (Path(self.out) / relative).resolve()
        return next((p for p in self.outputs if p.resolve() == wanted), None)

    def frame_jpeg(self, index: int) -> bytes:
        """Guide frame ``index`` as a JPEG, decoded here for the eye (displayed orientation,
        with the deblocking filter; the finder keeps only crops). IndexError outside the frames."""
        if not 0 <= index < len(self.times):
            raise IndexError(index)
        with self._frames_lock:
            if index not in self._jpegs:
                buf = io.BytesIO()
                Image.fromarray(self._frame(self.times[index])).save(buf, "JPEG", quality=90)
                self._jpegs[index] = buf.getvalue()
                while len(self._jpegs) > KEPT_FRAMES:
                    self._jpegs.popitem(last=False)
            self._jpegs.move_to_end(index)
            return self._jpegs[index]

    def _frame(self, time: float) -> np.ndarray:
        if self._reader is None:
            self._reader = FrameReader(self.media, display=True)
        return self._reader.frames_at([time])[0]
