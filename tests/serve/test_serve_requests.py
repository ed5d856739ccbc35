"""Request checking: parse_request's answers, and the same bad requests through a real server."""

import json

import pytest

from remodiffuse.errors import InputError
from remodiffuse.pipeline.timeline import Segment
from remodiffuse.serve.api import MAX_BODY_BYTES, parse_request

FPS = 20.0
WALK = {"text": "a person walks forward"}


def body(fields) -> bytes:
    return json.dumps(fields).encode()


def segment(text: str, start: float, end: float) -> dict:
    return {"text": text, "start": start, "end": end}


BAD_REQUESTS = {  # id: (body, part of the message)
    "empty body": (b"", "not valid JSON"),
    "malformed JSON": (b'{"text": "walk"', "not valid JSON"),
    "not UTF-8": (b'{"text": "\xff"}', "not UTF-8"),
    "not an object": (b"[1, 2]", "must be a JSON object"),
    "no text": (body({"length": 120}), "give text"),
    "empty text": (body({"text": ""}), "text is empty"),
    "blank text": (body({"text": "   "}), "text is empty"),
    "over-long text": (body({"text": "walk " * 100}), "at most 300 allowed"),
    "text not a string": (body({"text": 5}), "text must be a string"),
    "length too short": (body({**WALK, "length": 10}), "outside the model's range [40, 196]"),
    "length too long": (body({**WALK, "length": 400}), "outside the model's range [40, 196]"),
    "length a string": (body({**WALK, "length": "120"}), "length must be a whole number"),
    "length a fraction": (body({**WALK, "length": 120.5}), "length must be a whole number"),
    "length a boolean": (body({**WALK, "length": True}), "length must be a whole number"),
    "no samples": (body({**WALK, "num_samples": 0}), "num_samples=0 is out of range"),
    "too many samples": (body({**WALK, "num_samples": 99}), "num_samples=99 is out of range"),
    "negative seed": (body({**WALK, "seed": -1}), "seed=-1 is out of range"),
    "no steps": (body({**WALK, "steps": 0}), "steps=0 is out of range"),
    "too many steps": (body({**WALK, "steps": 5000}), "steps=5000 is out of range"),
    "steps a list": (body({**WALK, "steps": [5]}), "steps must be a whole number"),
    "unknown sampler": (body({**WALK, "sampler": "euler"}), "unknown sampler 'euler'"),
    "sampler a number": (body({**WALK, "sampler": 3}), "sampler must be a string"),
    "unknown mixture": (body({**WALK, "mixture": "best"}), "choose one of"),
    "unknown field": (body({**WALK, "out_dir": "x"}), "unknown fields ['out_dir']"),
    "path as text": (body({"text": "../../etc/passwd"}), "looks like a file path"),
    "windows path": (body({**WALK, "sampler": "C:\\models\\x"}), "looks like a file path"),
    "home path": (body({"text": "~root"}), "looks like a file path"),
    "path in a timeline": (
        body({"timeline": [segment("/tmp/timeline.yaml", 0, 3)]}),
        'timeline[0].text="/tmp/timeline.yaml" looks like a file path',
    ),
    "text and timeline": (body({**WALK, "timeline": [segment("walk", 0, 3)]}), "not both"),
    "timeline empty": (body({"timeline": []}), "non-empty list"),
    "timeline a string": (body({"timeline": "walk#0#3"}), "non-empty list"),
    "timeline entry fields": (
        body({"timeline": [{"text": "walk", "start": 0}]}),
        "timeline[0]: expected the fields text, start, end",
    ),
    "timeline time a string": (
        body({"timeline": [segment("walk", 0, "3")]}),
        'timeline[0]: end "3" is not a number of seconds',
    ),
    "timeline negative time": (
        body({"timeline": [segment("walk", -1, 3)]}),
        "must be a finite time >= 0 s",
    ),
    "timeline segment too short": (
        body({"timeline": [segment("walk", 0, 1)]}),
        "shorter than the dataset's minimum of 40 frames",
    ),
    "timeline gap": (
        body({"timeline": [segment("walk", 0, 3), segment("run", 4, 7)]}),
        "timeline[1]: starts at 4 s but the previous segment ends at 3 s (a gap)",
    ),
    "timeline too long": (body({"timeline": [segment("walk", 0, 100)]}), "at most 60 s"),
    "timeline too many segments": (
        body({"timeline": [segment("walk", 2 * i, 2 * i + 2) for i in range(17)]}),
        "at most 16 allowed",
    ),
    "overlap too large": (
        body({"timeline": [segment("walk", 0, 3)], "overlap": 150}),
        "overlap=150 must lie in 0..98 frames",
    ),
}


def test_text_request_defaults_as_generate(serve_generator):
    request = parse_request(body(WALK), serve_generator, FPS)
    assert (request.text, request.length, request.segments) == (WALK["text"], 120, ())
    assert (request.num_samples, request.seed, request.steps, request.sampler) == (1, 0, None, None)
    assert (request.overlap, request.mixture) == (20, "default")


def test_null_fields_take_their_defaults(serve_generator):
    fields = {**WALK, "length": None, "steps": None, "sampler": None, "mixture": None}
    assert parse_request(body(fields), serve_generator, FPS).length == 120


def test_timeline_in_seconds_becomes_segments_in_frames(serve_generator):
    fields = {"timeline": [segment("walk", 0, 2.5), segment("jump", 2.5, 6)], "seed": 4}
    request = parse_request(body(fields), serve_generator, FPS)
    assert request.segments == (Segment("walk", 0, 50), Segment("jump", 50, 120))
    assert (request.text, request.length, request.seed) == (None, None, 4)


@pytest.mark.parametrize("request_body, message", BAD_REQUESTS.values(), ids=BAD_REQUESTS.keys())
def test_bad_requests_are_refused_with_a_message(serve_generator, request_body, message):
    with pytest.raises(InputError) as refused:
        parse_request(request_body, serve_generator, FPS)
    assert message in str(refused.value)


@pytest.mark.parametrize("request_body, message", BAD_REQUESTS.values(), ids=BAD_REQUESTS.keys())
def test_server_answers_bad_requests_400_and_keeps_serving(fetch, request_body, message):
    status, headers, answer = fetch("POST", "/generate", request_body)
    assert status == 400 and headers["Content-Type"] == "application/json"
    error = json.loads(answer)["error"]
    assert message in error and "Traceback" not in error
    assert fetch("GET", "/progress")[0] == 200


def test_paper_mixture_needs_the_runs_mixture_file(post_json):
    status, answer = post_json({**WALK, "length": 40, "steps": 2, "mixture": "paper"})
    assert status == 400 and "has no mixture.yaml" in answer["error"]


def test_body_over_the_limit_is_413(fetch):
    oversized = body({"text": "walk" * (MAX_BODY_BYTES // 4)})
    status, _, answer = fetch("POST", "/generate", oversized)
    assert status == 413 and f"at most {MAX_BODY_BYTES} allowed" in json.loads(answer)["error"]
    assert fetch("GET", "/progress")[0] == 200
