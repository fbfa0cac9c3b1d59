"""The local web server of ``avsep pick``: the page, its frames, its API and the stems, to this
machine's browser only.

Standard library only (``http.server``): the page is three files shipped in ``static/`` (plain
JavaScript, no framework, nothing fetched from elsewhere). Who may ask:

* it listens on 127.0.0.1 only, on a port the system picks;
* every request carries the random token of the URL printed (``?token=`` or the
  ``X-Avsep-Token`` header): another user of the machine, or a web page in the browser that
  does not know it, gets 403;
* ``Host`` must be ``127.0.0.1:PORT`` or ``localhost:PORT`` and ``Origin``, when sent, the same
  (a DNS-rebinding page names its own host); else 403;
* it serves its three assets, the video's guide frames and the files of the page's last
  separation, nothing else: a path with ``..``, an absolute path or any other file is 403.
"""

from __future__ import annotations

import hmac
import json
import re
import secrets
import shutil
import threading
import webbrowser
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib.resources import files
from pathlib import PurePosixPath
from urllib.parse import parse_qs, unquote, urlsplit

from avsep.errors import AvsepError
from avsep.pick.session import PickSession

#: The page's files (``avsep/pick/static/``, package data): path -> (file, content type).
ASSETS = {
    "/": ("pick.html", "text/html; charset=utf-8"),
    "/static/pick.js": ("pick.js", "text/javascript; charset=utf-8"),
    "/static/pick.css": ("pick.css", "text/css; charset=utf-8"),
}
AUDIO_TYPES = {".wav": "audio/wav", ".flac": "audio/flac"}
TOKEN_HEADER = "X-Avsep-Token"
#: The largest request body (the boxes as JSON: a few kB).
MAX_BODY = 1 << 20
FRAME = re.compile(r"/frame/(\d{1,7})\.jpg")
#: Headers of every answer: nothing cached (the token is in the URL), sniffed, framed or referred.
SECURE_HEADERS = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'none'",
}


class Refused(Exception):
    """A request that gets 403: the reason is the answer's body (and never the token)."""


class PickServer(ThreadingHTTPServer):
    """The page's server, bound to 127.0.0.1 on a free port, with a new random token."""

    daemon_threads = True

    def __init__(self, session: PickSession) -> None:
        super().__init__(("127.0.0.1", 0), PickHandler)
        self.session = session
        self.token = secrets.token_urlsafe(24)
        self.port = self.server_address[1]
        self.hosts = {f"127.0.0.1:{self.port}", f"localhost:{self.port}"}
        self.origins = {f"http://{host}" for host in self.hosts}

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/?token={self.token}"


class PickHandler(BaseHTTPRequestHandler):
    """One request: checked (:meth:`check`), then routed to an asset, a frame, the API or a stem."""

    server: PickServer
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        self._answer(self._get)

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        self._answer(self._post)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the terminal hears of what the page did, not of each request."""

    def _answer(self, route: Callable[[str], None]) -> None:
        try:
            path = self.check()
            route(path)
        except Refused as exc:
            self._send(HTTPStatus.FORBIDDEN, f"forbidden: {exc}\n".encode(), "text/plain; charset=utf-8")
        except AvsepError as exc:
            self._json({"error": str(exc)}, HTTPStatus.BAD_REQUEST)
        except ConnectionError:  # the browser left mid-answer (a stem's download cancelled)
            self.close_connection = True
        except Exception as exc:  # broad on purpose: one line to the page, the server goes on
            self._json({"error": f"{type(exc).__name__}: {exc}"}, HTTPStatus.INTERNAL_SERVER_ERROR)

    def check(self) -> str:
        """The request's decoded path, once its token, ``Host``, ``Origin`` and path pass."""
        url = urlsplit(self.path)
        if url.scheme or url.netloc or not url.path.startswith("/"):
            raise Refused("give a path on this server")
        given = self.headers.get(TOKEN_HEADER) or parse_qs(url.query).get("token", [""])[0]
        if not hmac.compare_digest(given.encode(), self.server.token.encode()):
            raise Refused("no valid token: open the URL avsep pick printed")
        if self.headers.get("Host") not in self.server.hosts:
            raise Refused("foreign Host")
        origin = self.headers.get("Origin")
        if origin is not None and origin not in self.server.origins:
            raise Refused("foreign Origin")
        path = unquote(url.path)
        parts = PurePosixPath(path).parts
        if ".." in parts or "//" in path or "\\" in path or "\0" in path:
            raise Refused("paths outside the page are not served")
        return path

    # -- routes -----------------------------------------------------------------------------------

    def _get(self, path: str) -> None:
        session = self.server.session
        if path in ASSETS:
            name, kind = ASSETS[path]
            body = files("avsep.pick").joinpath("static", name).read_bytes()
            # the page's own <script> and <link> carry the token too (they send no header)
            self._send(HTTPStatus.OK, body.replace(b"{{token}}", self.server.token.encode()), kind)
        elif path == "/api/state":
            self._json(session.state())
        elif path == "/api/progress":
            self._json(session.progress())
        elif match := FRAME.fullmatch(path):
            try:
                self._send(HTTPStatus.OK, session.frame_jpeg(int(match.group(1))), "image/jpeg")
            except IndexError:
                self._json({"error": f"no frame {match.group(1)}"}, HTTPStatus.NOT_FOUND)
        elif path.startswith("/out/"):
            self._output(path.removeprefix("/out/"))
        else:
            raise Refused("not a file of the page")

    def _output(self, relative: str) -> None:
        """A file of the last separation (relative to the output folder), streamed."""
        found = self.server.session.output_file(relative)
        if found is None:
            raise Refused("not a file of the last separation")
        with found.open("rb") as f:
            self._start(HTTPStatus.OK, AUDIO_TYPES.get(found.suffix, "application/octet-stream"), found.stat().st_size)
            shutil.copyfileobj(f, self.wfile)

    def _post(self, path: str) -> None:
        actions = {"/api/line": self._line, "/api/save": self._save, "/api/separate": self._separate}
        if path not in actions:
            raise Refused("not an action of the page")
        length = int(self.headers.get("Content-Length") or 0)
        if not self.headers.get("Content-Type", "").startswith("application/json") or not 0 < length <= MAX_BODY:
            self._json({"error": "send the boxes as JSON"}, HTTPStatus.BAD_REQUEST)
            return
        try:
            body = json.loads(self.rfile.read(length))
        except ValueError:
            self._json({"error": "not valid JSON"}, HTTPStatus.BAD_REQUEST)
            return
        self._json(actions[path](body.get("boxes") if isinstance(body, dict) else None))

    def _line(self, boxes: object) -> dict:
        return {"line": self.server.session.command(boxes).line()}

    def _save(self, boxes: object) -> dict:
        session = self.server.session
        return {"saved": str(session.save(boxes)), "line": session.command(boxes).line()}

    def _separate(self, boxes: object) -> dict:
        return {"line": self.server.session.separate(boxes)}

    # -- answers ----------------------------------------------------------------------------------

    def _json(self, data: object, status: HTTPStatus = HTTPStatus.OK) -> None:
        self._send(status, json.dumps(data).encode(), "application/json")

    def _send(self, status: HTTPStatus, body: bytes, kind: str) -> None:
        self._start(status, kind, len(body))
        self.wfile.write(body)

    def _start(self, status: HTTPStatus, kind: str, length: int) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(length))
        for name, value in SECURE_HEADERS.items():
            self.send_header(name, value)
        self.end_headers()


def serve(session: PickSession, show_url: Callable[[str], None], open_browser: bool) -> bool:
    """Run the page of ``session`` until Ctrl-C: print its URL with ``show_url``, open it in the
    browser when asked and one is there, look for the players meanwhile. On Ctrl-C the finder
    and a separation in progress stop at their next frame or window (removing their temporary
    files) before the server closes.

    Returns whether Ctrl-C cut a separation short: Ctrl-C is how the page is meant to end, so a
    plain stop is a success, but work thrown away is an interruption (``separate``'s exit 130)."""
    server = PickServer(session)
    thread = threading.Thread(target=server.serve_forever, name="avsep-pick-server", daemon=True)
    thread.start()
    try:
        session.start()
        show_url(server.url)
        if open_browser:
            _open(server.url)
        while thread.is_alive():
            thread.join(0.5)
    except KeyboardInterrupt:
        if session.separating.status == "running":
            session.say(
                "stopping: the separation in progress stops after its current windows, its partial files removed"
            )
        else:
            session.say("stopped")
    finally:
        session.close()
        server.shutdown()
        server.server_close()
    return session.separating.status == "stopped"


def _open(url: str) -> None:
    """Open ``url`` in the browser when this machine has one (else the printed URL is the way)."""
    try:
        webbrowser.get()
    except webbrowser.Error:
        return
    webbrowser.open(url)
