"""The demo's HTTP server: the page, its static files, POST /generate, progress and downloads.

Built on the standard library's `ThreadingHTTPServer`: nothing to install, and one thread per
request is enough because the model call is serialised anyway (`GenerationService`). Every
error is a JSON `{"error": message}` with a 4xx status (500 for a bug, its traceback only in
the server's log); the server keeps serving.
"""

import json
import logging
import re
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from remodiffuse.errors import InputError
from remodiffuse.pipeline import MotionGenerator
from remodiffuse.serve.api import MAX_BODY_BYTES
from remodiffuse.serve.results import ResultStore
from remodiffuse.serve.service import BusyError, GenerationService

log = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).resolve().parent / "static"
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".md": "text/plain; charset=utf-8",
    "": "text/plain; charset=utf-8",  # LICENSE
}
RESULT_PATH = re.compile(r"/result/([^/]+)/([^/]+)")
MAX_DRAINED_BYTES = 1 << 20  # the body of a refused request read up to this, so the answer arrives
REQUEST_TIMEOUT = 60.0  # seconds a client may take to send its request


class HttpError(Exception):
    """An answer other than 200: its status and message."""

    def __init__(self, status: HTTPStatus, message: str) -> None:
        super().__init__(message)
        self.status = status


def static_files(root: Path = STATIC_DIR) -> dict[str, Path]:
    """URL path -> file of every file under `root` (`/` is index.html): the only files served."""
    files = {
        "/static/" + path.relative_to(root).as_posix(): path
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }
    files["/"] = root / "index.html"
    return files


class DemoServer(ThreadingHTTPServer):
    """A ThreadingHTTPServer holding the generation service and the static files."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], service: GenerationService) -> None:
        super().__init__(address, DemoHandler)
        self.service = service
        self.static = static_files()

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}/"

    def server_close(self) -> None:
        super().server_close()
        self.service.store.close()


class DemoHandler(BaseHTTPRequestHandler):
    """Routes: GET / and /static/..., GET /info, GET /progress, GET /result/<id>/<file>,
    POST /generate."""

    server: DemoServer
    timeout = REQUEST_TIMEOUT

    def do_GET(self) -> None:
        self._answer(self._get)

    def do_POST(self) -> None:
        self._answer(self._post)

    def log_message(self, format: str, *args: Any) -> None:
        log.info("%s %s", self.address_string(), format % args)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """The base class's own errors (bad request line, unsupported method) as JSON."""
        status = HTTPStatus(code)
        self.close_connection = True
        self._send_json(status, {"error": message or f"{status.phrase}: {status.description}"})

    def _get(self) -> None:
        path = self.path.split("?", 1)[0]
        if path == "/generate":
            raise HttpError(HTTPStatus.METHOD_NOT_ALLOWED, "use POST /generate with a JSON body")
        if path == "/progress":
            return self._send_json(HTTPStatus.OK, self.server.service.progress())
        if path == "/info":
            return self._send_json(HTTPStatus.OK, self.server.service.info())
        if path in self.server.static:
            file = self.server.static[path]
            return self._send(HTTPStatus.OK, file.read_bytes(), CONTENT_TYPES.get(file.suffix))
        match = RESULT_PATH.fullmatch(path)
        found = match and self.server.service.store.file(*match.groups())
        if not found:
            raise HttpError(HTTPStatus.NOT_FOUND, f"nothing at {path[:100]}")
        file, content_type = found
        disposition = f'attachment; filename="remodiffuse_{match.group(1)}_{file.name}"'
        self._send(HTTPStatus.OK, file.read_bytes(), content_type, disposition)

    def _post(self) -> None:
        if self.path.split("?", 1)[0] != "/generate":
            raise HttpError(HTTPStatus.NOT_FOUND, f"nothing to POST at {self.path[:100]}")
        service = self.server.service
        request = service.parse(self._body())
        try:
            answer = service.run(request)
        except BusyError as busy:
            return self._send_json(
                HTTPStatus.CONFLICT, {"error": str(busy), "progress": busy.progress}
            )
        self._send_json(HTTPStatus.OK, answer)

    def _body(self) -> bytes:
        """The request body, at most MAX_BODY_BYTES (413 beyond, 411 without a length)."""
        if self.headers.get("Transfer-Encoding"):
            raise HttpError(HTTPStatus.LENGTH_REQUIRED, "send the body with a Content-Length")
        declared = self.headers.get("Content-Length")
        if declared is None or not declared.strip().isdigit():
            raise HttpError(HTTPStatus.LENGTH_REQUIRED, "send the body with a Content-Length")
        length = int(declared)
        if length > MAX_BODY_BYTES:
            if length <= MAX_DRAINED_BYTES:
                self.rfile.read(length)
            raise HttpError(
                HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                f"the body has {length} bytes, at most {MAX_BODY_BYTES} allowed",
            )
        return self.rfile.read(length)

    def _answer(self, route: Callable[[], None]) -> None:
        """Run a route; answer its errors as JSON."""
        try:
            route()
        except HttpError as error:
            self._send_json(error.status, {"error": str(error)})
        except InputError as error:
            self._send_json(HTTPStatus.BAD_REQUEST, {"error": str(error)})
        except (ConnectionError, TimeoutError):
            log.info("%s: connection lost", self.address_string())
        except Exception:
            log.exception("%s %s failed", self.command, self.path[:100])
            self._send_json(
                HTTPStatus.INTERNAL_SERVER_ERROR,
                {"error": "internal error: see the server's log"},
            )

    def _send_json(self, status: HTTPStatus, payload: dict[str, Any]) -> None:
        self._send(status, json.dumps(payload).encode("utf-8"), "application/json")

    def _send(
        self,
        status: HTTPStatus,
        body: bytes,
        content_type: str | None,
        disposition: str | None = None,
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type or "application/octet-stream")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        if disposition:
            self.send_header("Content-Disposition", disposition)
        self.end_headers()
        self.wfile.write(body)


def make_server(generator: MotionGenerator, host: str = "127.0.0.1", port: int = 0) -> DemoServer:
    """A server of `generator` bound to host:port (0: a free port); run it with serve_forever."""
    return DemoServer((host, port), GenerationService(generator, ResultStore()))
