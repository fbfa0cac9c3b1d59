"""``avsep pick VIDEO``: the command that starts the page (:mod:`avsep.pick`), apart from
:mod:`avsep.cli.app` to keep that module short; the page's server and its torch load only when
the command runs."""

from __future__ import annotations

import typer

from avsep.cli import options as opt
from avsep.cli.paths import check_inputs_exist, check_output_folder
from avsep.cli.reporting import err, one_line_errors
from avsep.errors import EXIT_INTERRUPTED


def pick_command(
    video: opt.VideoArgument,
    out: opt.PickOut = "separated",
    no_browser: opt.NoBrowser = False,
    debug: opt.Debug = False,
) -> None:
    """Open a page to draw the boxes on the video's frames: it shows the separate line they
    make, saves them beside the video and plays the separated stems. Ctrl-C stops it (exit 0;
    130 when that cut a separation short, as separate's Ctrl-C)."""
    with one_line_errors(debug):
        check_output_folder(out)
        check_inputs_exist([video])
        from avsep.pick.server import serve
        from avsep.pick.session import PickSession

        session = PickSession(video, out, say=lambda text: err.print(text, soft_wrap=True, markup=False))
        if serve(session, typer.echo, open_browser=not no_browser):
            raise typer.Exit(EXIT_INTERRUPTED)
