"""Fixtures of the web demo tests: the tiny run's generator and a demo server on a free port."""

import http.client
import json
import threading
from collections.abc import Callable
from typing import Any

import pytest

from remodiffuse.pipeline import MotionGenerator
from remodiffuse.serve import DemoServer, make_server

Answer = tuple[int, dict[str, str], bytes]  # status, headers, body


@pytest.fixture(scope="session")
def serve_generator(tiny_trained_run) -> MotionGenerator:
    """The tiny run's generator (shared by every demo test)."""
    return MotionGenerator(tiny_trained_run[0])


@pytest.fixture(scope="session")
def demo_server(serve_generator) -> DemoServer:
    """A demo server of the tiny run on 127.0.0.1 and a free port, serving in a thread."""
    server = make_server(serve_generator, "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join()


def call(
    server: DemoServer,
    method: str,
    path: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> Answer:
    """One HTTP request to the server: (status, headers, body)."""
    host, port = server.server_address[:2]
    connection = http.client.HTTPConnection(host, port, timeout=120)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


@pytest.fixture
def fetch(demo_server) -> Callable[..., Answer]:
    """fetch(method, path, body=None, headers=None) on the demo server."""
    return lambda *args, **kwargs: call(demo_server, *args, **kwargs)


@pytest.fixture
def post_json(fetch) -> Callable[[Any], tuple[int, dict[str, Any]]]:
    """post_json(fields) -> (status, decoded JSON answer) of POST /generate."""

    def post(fields: Any) -> tuple[int, dict[str, Any]]:
        status, _, body = fetch("POST", "/generate", json.dumps(fields).encode())
        return status, json.loads(body)

    return post
