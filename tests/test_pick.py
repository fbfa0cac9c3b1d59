"""``avsep pick``: who may ask the page's server what (403 for the rest), the line and the files
the page makes (those of ``avsep separate``), and a stop that leaves nothing half-written.

The page itself, driven in a real headless browser, is tested in tests/test_pick_browser.py.
"""

from __future__ import annotations

import http.client
import io
import json
import shlex
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PIL import Image

from avsep.boxes.box import NamedBox, load_boxes_file
from avsep.boxes.players import guide_frame_times
from avsep.boxes.request import BoxRequest
from avsep.errors import InputError
from avsep.pick.server import PickServer
from avsep.pick.session import PickSession, Stopped, Task
from tests.cli_support import GREEN, YELLOW, cli

TWO = [{"name": "violin", "box": [0, 0, 96, 96]}, {"name": "flute", "box": [96, 0, 192, 96]}]
#: The violin's box moves at 1.5 s: a timed boxes file.
MOVING = [{**TWO[0], "end": 1.5}, {**TWO[0], "box": [50, 0, 150, 96], "start": 1.5}, TWO[1]]


@pytest.fixture
def served(tmp_video, tmp_path: Path) -> Iterator[PickServer]:
    """The page's server for a two-panel video, the finder not started (no model needed)."""
    video = tmp_video("duo.mp4", panels=(GREEN, YELLOW), width=192, height=96, duration=3.0)
    session = PickSession(video, str(tmp_path / "out"), say=lambda text: None)
    server = PickServer(session)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    session.close()


def ask(
    server: PickServer,
    path: str,
    *,
    token: str | None = "",
    host: str | None = None,
    origin: str | None = None,
    body: object = None,
) -> tuple[int, bytes]:
    """``path`` asked of ``server`` as a browser would (raw: the path is sent as written);
    ``token`` "" is the right one, None none; ``host`` replaces the Host header."""
    if token is not None:
        path += ("&" if "?" in path else "?") + "token=" + (token or server.token)
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    headers = {"Host": host or f"127.0.0.1:{server.port}"}
    if origin is not None:
        headers["Origin"] = origin
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers |= {"Content-Type": "application/json", "Content-Length": str(len(data))}
    connection.putrequest("POST" if body is not None else "GET", path, skip_host=True, skip_accept_encoding=True)
    for name, value in headers.items():
        connection.putheader(name, value)
    connection.endheaders(data)
    answer = connection.getresponse()
    status, content = answer.status, answer.read()
    connection.close()
    return status, content


# -- who may ask: 403 for everyone else ---------------------------------------------------------------


def test_the_page_listens_on_loopback_only_and_answers_its_token(served):
    assert served.server_address[0] == "127.0.0.1"
    status, page = ask(served, "/")
    assert status == 200 and b"<title>avsep pick</title>" in page
    assert ask(served, "/static/pick.js")[0] == ask(served, "/static/pick.css")[0] == 200
    status, state = ask(served, "/api/state", host=f"localhost:{served.port}", origin=f"http://localhost:{served.port}")
    assert status == 200
    assert json.loads(state)["labels"][-2:] == ["xylophone", "other"]  # the names offered, other last


@pytest.mark.parametrize("token", [None, "wrong", "x" * 32])
@pytest.mark.parametrize("path", ["/", "/static/pick.js", "/api/state", "/frame/0.jpg", "/api/progress"])
def test_without_the_token_everything_is_refused(served, token, path):
    status, body = ask(served, path, token=token)
    assert status == 403
    assert served.token.encode() not in body


def test_the_token_may_come_in_a_header(served):
    for token, status in [(served.token, 200), (served.token[:-1], 403)]:
        connection = http.client.HTTPConnection("127.0.0.1", served.port, timeout=30)
        connection.request("GET", "/api/state", headers={"X-Avsep-Token": token})
        assert connection.getresponse().status == status
        connection.close()


@pytest.mark.parametrize("host", ["evil.example", "evil.example:{port}", "127.0.0.1:1", "0.0.0.0:{port}", "127.0.0.1"])
def test_a_foreign_host_is_refused(served, host):
    """A DNS-rebinding page reaches 127.0.0.1 under its own name: its Host header gives it away."""
    assert ask(served, "/api/state", host=host.format(port=served.port))[0] == 403


@pytest.mark.parametrize("origin", ["http://evil.example", "null", "http://127.0.0.1:1", "https://127.0.0.1:{port}"])
def test_a_foreign_origin_is_refused(served, origin):
    origin = origin.format(port=served.port)
    assert ask(served, "/api/state", origin=origin)[0] == 403
    assert ask(served, "/api/save", origin=origin, body={"boxes": TWO})[0] == 403
    assert not (served.session.video.parent / "duo.mp4.boxes.json").exists()


@pytest.mark.parametrize(
    "path",
    [
        "/static/../pick.html",
        "/static/..%2fsession.py",
        "/%2e%2e/%2e%2e/etc/passwd",
        "/out/../../etc/passwd",
        "/out/duo/../../duo.mp4",
        "/out//etc/passwd",
        "/out/%2fetc%2fpasswd",
        "//etc/passwd",
        "/etc/passwd",
        "/static/session.py",
        "/static/pick.html/..",
        "/out/duo/violin.wav",  # no separation yet: not a file of the page
        "http://evil.example/",
    ],
)
def test_paths_outside_the_page_are_refused(served, path):
    assert ask(served, path)[0] == 403


def test_frames_are_the_guide_frames_upright(tmp_video, tmp_path):
    """The scrubber's frames: the times separate's guide frames are taken at, rotation applied."""
    video = tmp_video("turned.mp4", width=64, height=48, duration=3.0, rotate=90)
    session = PickSession(video, say=lambda text: None)
    assert session.times == guide_frame_times(session.media.duration, 0.25) == [0.0, 1.5, 3.0]
    picture = Image.open(io.BytesIO(session.frame_jpeg(0))).convert("RGB")
    assert picture.size == (64, 48) == (session.media.video.width, session.media.video.height)
    red, blue = picture.getpixel((8, 10)), picture.getpixel((56, 10))  # the panels as displayed
    assert red[0] > 200 > red[2] and blue[2] > 200 > blue[0]
    with pytest.raises(IndexError):
        session.frame_jpeg(len(session.times))


# -- the line and the sidecar --------------------------------------------------------------------------


def test_the_line_is_the_separate_line_of_the_boxes(served):
    session = served.session
    line = session.command(TWO).line()
    assert line == (
        f"avsep separate {session.video} --boxes 0,0,96,96 96,0,192,96 --names violin flute "
        f"--residual --overwrite -o {session.out}"
    )
    status, body = ask(served, "/api/line", body={"boxes": TWO})
    assert (status, json.loads(body)) == (200, {"line": line})


def test_boxes_with_time_ranges_are_read_from_the_sidecar(served):
    session = served.session
    command = session.command(MOVING)
    assert command.args()[1:3] == ["--boxes-file", str(session.video) + ".boxes.json"]


@pytest.mark.parametrize(
    ("boxes", "says"),
    [
        ([{"name": "a", "box": [0, 0, 500, 96]}], "reaches 308 pixels past the 192x96 frame"),
        ([{"name": "a", "box": [50, 0, 10, 96]}], "inverted"),
        ([{"name": "a", "box": [0, 0, 9, 9]}, {"name": "a", "box": [9, 0, 19, 9]}], "'a' is given twice"),
        ([], "expected a non-empty JSON list of boxes"),
    ],
)
def test_bad_boxes_get_one_line(served, boxes, says):
    status, body = ask(served, "/api/line", body={"boxes": boxes})
    assert status == 400
    message = json.loads(body)["error"]
    assert says in message and "\n" not in message


def test_save_writes_the_sidecar_separate_reads(served):
    said: list[str] = []
    served.session.say = said.append
    status, body = ask(served, "/api/save", body={"boxes": MOVING})
    sidecar = served.session.video.parent / "duo.mp4.boxes.json"
    assert status == 200 and json.loads(body)["saved"] == str(sidecar)
    assert load_boxes_file(sidecar) == [
        NamedBox((0, 0, 96, 96), "violin", None, 1.5),
        NamedBox((50, 0, 150, 96), "violin", 1.5, None),
        NamedBox((96, 0, 192, 96), "flute"),
    ]
    request = BoxRequest.from_options(None, sidecars=True).for_video(served.session.video)
    assert request.from_sidecar and request.plan.names == ["violin", "flute"]
    assert said == [f"saved the boxes to {sidecar}: 'avsep separate {served.session.video}' uses them"]
    assert [p.name for p in sidecar.parent.iterdir() if p.name.startswith(".")] == []  # no temporary left


# -- separating ------------------------------------------------------------------------------------------


def wait(task: Task) -> None:
    while task.status == "running":
        threading.Event().wait(0.05)


@pytest.mark.slow
@pytest.mark.parametrize("boxes", [TWO, MOVING], ids=["boxes", "time ranges"])
def test_separate_writes_what_the_line_writes(fast_model, tmp_video, tmp_path, monkeypatch, boxes):
    """The Separate button's files are byte for byte those of its line run as a command (for
    boxes with time ranges, the line reads the sidecar Separate saved first)."""
    video = tmp_video("duo.mp4", panels=(GREEN, YELLOW), width=192, height=96, duration=3.0)
    monkeypatch.chdir(tmp_path)
    session = PickSession(video, "page", say=lambda text: None)
    session.start()
    wait(session.finding)
    assert [s["name"] for s in session.state()["found"]] == ["violin", "flute"]
    line = session.separate(boxes)
    wait(session.separating)
    assert session.progress()["files"] == ["duo/violin.wav", "duo/flute.wav", "duo/residual.wav"]
    assert ("--boxes-file" in line) == (boxes is MOVING)
    args = shlex.split(line)[2:]
    args[args.index("-o") + 1] = "cli"
    cli("separate", *args)
    for name in ("violin", "flute", "residual"):
        page, command = (tmp_path / folder / "duo" / f"{name}.wav" for folder in ("page", "cli"))
        assert page.read_bytes() == command.read_bytes(), name
    session.close()


def test_a_stopped_separation_leaves_nothing(fast_model, tmp_video, tmp_path, monkeypatch):
    """Ctrl-C during a separation: it stops at its next window, after its files were opened,
    and removes them; nothing of it is left in the output folder."""
    video = tmp_video("duo.mp4", panels=(GREEN, YELLOW), width=192, height=96, duration=12.0)
    session = PickSession(video, str(tmp_path / "out"), say=lambda text: None)
    window = Task.window

    def stop_after_one(task: Task, done: int, total: int) -> None:
        if done >= 1:
            assert [p for p in (tmp_path / "out").rglob("*.tmp")], "the files are open"
            task.stop.set()
        window(task, done, total)

    monkeypatch.setattr(Task, "window", stop_after_one)
    session.separate(TWO)
    session.close()  # waits for it
    assert session.separating.status == "stopped"
    assert session.separating.error == "stopped: avsep pick was stopped"
    assert [p for p in (tmp_path / "out").rglob("*") if p.is_file()] == []


def _ctrl_c_at_start(separating: bool) -> Callable[[PickSession], None]:
    """A :meth:`PickSession.start` that is interrupted by Ctrl-C at once, with a separation
    running (one that stops only when the page is stopped, as a real one does) or nothing."""

    def start(session: PickSession) -> None:
        if separating:

            def work() -> None:
                while not session.stop.wait(0.01):
                    pass
                raise Stopped("stopped: avsep pick was stopped")

            session.separating = Task(session.stop, "running")
            session._background(work, session.separating)
        raise KeyboardInterrupt

    return start


@pytest.mark.parametrize(
    ("separating", "code", "says"),
    [
        (False, 0, "stopped"),
        (True, 130, "stopping: the separation in progress stops after its current windows, its partial files removed"),
    ],
    ids=["idle", "separating"],
)
def test_ctrl_c_says_what_it_stops_and_exits_by_it(tmp_video, tmp_path, monkeypatch, separating, code, says):
    """A plain stop is how the page ends (exit 0, no talk of a separation); one that cuts a
    separation short exits 130, as separate's Ctrl-C does."""
    video = tmp_video("duo.mp4", panels=(GREEN, YELLOW), width=192, height=96, duration=3.0)
    monkeypatch.setattr(PickSession, "start", _ctrl_c_at_start(separating))
    result = cli("pick", video, "-o", tmp_path / "out", "--no-browser", code=code)
    assert result.stderr.splitlines() == [says]


def test_pick_refuses_a_stdout_folder_and_a_missing_video(tmp_path):
    assert "no such file; check the path" in cli("pick", tmp_path / "none.mp4", code=2).stderr
    video = tmp_path / "v.mp4"
    video.write_bytes(b"")
    with pytest.raises(InputError, match="-o -: avsep pick writes the stems into a folder"):
        PickSession(video, "-")
