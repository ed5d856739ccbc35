"""The demo server end to end: the page, generation round trips, downloads, busy refusal."""

import base64
import io
import json
import re
import socket
import threading
import time

import numpy as np
import pytest

from remodiffuse.io import read_bvh
from remodiffuse.serve.server import STATIC_DIR

WALK = {"text": "a person walks forward"}


def npy(encoded: str) -> np.ndarray:
    return np.load(io.BytesIO(base64.b64decode(encoded)))


def raw_exchange(server, request: bytes) -> bytes:
    """Send raw bytes, return everything the server answers."""
    with socket.create_connection(server.server_address[:2], timeout=30) as connection:
        connection.sendall(request)
        chunks = []
        try:
            while chunk := connection.recv(65536):
                chunks.append(chunk)
        except ConnectionResetError:  # closed with request bytes unread: the answer came first
            pass
    return b"".join(chunks)


def test_page_and_its_files_are_served_with_nothing_from_outside(fetch):
    status, headers, page = fetch("GET", "/")
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    imports = json.loads(re.search(rb'<script type="importmap">(.*?)</script>', page, re.S)[1])
    for target in imports["imports"].values():
        assert target.startswith("/static/vendor/three/")
    for path in STATIC_DIR.rglob("*"):
        if path.suffix in (".html", ".js", ".css"):
            assert not re.search(rb"""(src|href)=["']?(https?:)?//""", path.read_bytes()), path
    for path in ("/static/app.js", "/static/vendor/three/build/three.core.js"):
        status, headers, _ = fetch("GET", path)
        assert status == 200 and headers["Content-Type"].startswith("text/javascript")
    status, _, license_text = fetch("GET", "/static/vendor/three/LICENSE")
    assert status == 200 and b"three.js authors" in license_text


def test_info_reports_the_models_range(fetch, serve_generator):
    info = json.loads(fetch("GET", "/info")[2])
    assert (info["min_length"], info["max_length"]) == (40, 196)
    assert info["fps"] == 20.0 and info["mixtures"] == ["default", "released"]


def test_generate_round_trip(post_json, fetch, serve_generator, tmp_path):
    fields = {**WALK, "length": 60, "num_samples": 2, "seed": 3, "steps": 4}
    status, answer = post_json(fields)
    assert status == 200 and (answer["fps"], answer["skeleton"]) == (20.0, "humanml3d")
    expected = serve_generator.generate([WALK["text"]] * 2, [60, 60], seed=3, steps=4)
    assert [sample["index"] for sample in answer["samples"]] == [0, 1]
    for sample, motion in zip(answer["samples"], expected, strict=True):
        assert sample["length"] == 60 and sample["retrieved"] == motion.retrieved
        assert sample["retrieved"] and all(caption.strip() for caption in sample["retrieved"])
        np.testing.assert_array_equal(npy(sample["features_npy"]), motion.features)
        np.testing.assert_array_equal(npy(sample["joints_npy"]), motion.joints)
        bvh = tmp_path / f"{sample['index']}.bvh"
        bvh.write_text(sample["bvh"])
        clip = read_bvh(bvh)
        assert clip.positions.shape[0] == 60 and clip.fps == pytest.approx(20.0)
        for kind, url in sample["files"].items():
            status, headers, content = fetch("GET", url)
            assert status == 200 and headers["Content-Disposition"].startswith("attachment")
            inline = sample["bvh"].encode() if kind == "bvh" else None
            inline = inline or base64.b64decode(sample[kind.replace(".", "_")])
            assert content == inline, kind


def test_timeline_round_trip(post_json):
    timeline = [
        {"text": "a person walks", "start": 0, "end": 2.5},
        {"text": "a person jumps", "start": 2.5, "end": 5},
    ]
    status, answer = post_json({"timeline": timeline, "steps": 3, "mixture": "released"})
    assert status == 200
    (sample,) = answer["samples"]
    assert sample["length"] == 100 and sample["text"] == "a person walks then a person jumps"
    assert [(s["start"], s["stop"]) for s in sample["segments"]] == [(0, 50), (50, 100)]
    assert npy(sample["features_npy"]).shape == (100, 263)


@pytest.mark.parametrize(
    "path",
    [
        "/result/0123456789abcdef/0.bvh",
        "/result/../../etc/passwd",
        "/result/0123456789abcdef/../../server.py",
        "/static/../server.py",
        "/static/vendor/three/package.json",
        "/elsewhere",
    ],
)
def test_unknown_paths_are_404(fetch, path):
    status, headers, answer = fetch("GET", path)
    assert status == 404 and "nothing at" in json.loads(answer)["error"]


def test_stored_result_serves_only_its_own_file_names(post_json, fetch):
    result = post_json({**WALK, "length": 40, "steps": 2})[1]
    assert fetch("GET", f"/result/{result['id']}/0.bvh")[0] == 200
    for name in ("1.bvh", "0.mp4", "0.bvh.bak", "retrieved.json", ".."):
        assert fetch("GET", f"/result/{result['id']}/{name}")[0] == 404, name


@pytest.mark.parametrize(
    "method, path, status",
    [("GET", "/generate", 405), ("PUT", "/generate", 501), ("POST", "/progress", 404)],
)
def test_wrong_methods_answer_json(fetch, method, path, status):
    answer = fetch(method, path, b"{}")
    assert answer[0] == status and json.loads(answer[2])["error"]


def test_malformed_http_is_answered_and_the_server_keeps_serving(demo_server, fetch):
    no_length = raw_exchange(demo_server, b"POST /generate HTTP/1.1\r\nHost: x\r\n\r\n")
    assert no_length.startswith(b"HTTP/1.0 411") and b"Content-Length" in no_length
    chunked = b"POST /generate HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
    assert raw_exchange(demo_server, chunked).startswith(b"HTTP/1.0 411")
    garbage = raw_exchange(demo_server, b"\x16\x03\x01 not http\r\n\r\n")
    assert json.loads(garbage)["error"].startswith("Bad request version")  # HTTP/0.9: no head
    assert fetch("GET", "/progress")[0] == 200


def test_second_request_while_one_runs_is_refused_409(post_json, fetch):
    slow = {**WALK, "length": 120, "num_samples": 2, "steps": 300}
    first = {}
    worker = threading.Thread(target=lambda: first.update(answer=post_json(slow)))
    worker.start()
    deadline = time.monotonic() + 60
    progress = {"busy": False}
    while not progress["busy"] and time.monotonic() < deadline:
        time.sleep(0.05)
        progress = json.loads(fetch("GET", "/progress")[2])
    assert progress["busy"] and progress["total"] == 300
    status, refused = post_json({**WALK, "length": 40, "steps": 2})
    assert status == 409 and refused["error"].startswith("busy")
    assert refused["progress"]["busy"] and refused["progress"]["total"] == 300
    time.sleep(0.5)
    later = json.loads(fetch("GET", "/progress")[2])
    worker.join()
    assert first["answer"][0] == 200 and len(first["answer"][1]["samples"]) == 2
    assert later["busy"] is False or later["step"] > progress["step"]
    assert json.loads(fetch("GET", "/progress")[2]) == {"busy": False}
    assert post_json({**WALK, "length": 40, "steps": 2})[0] == 200
