"""The demo's request: a JSON body checked field by field into a `GenerationRequest`.

Fields are named as generate's options: `text` with `length` (frames), or `timeline` (a list
of {text, start, end} in seconds); `num_samples`, `seed`, `steps`, `sampler`, `overlap` and
`mixture` (a preset name, see MIXTURE_NAMES); null means the default. Every problem is an
InputError whose message the server answers with a 400; nothing here reads or writes files.
"""

import json
import math
from dataclasses import dataclass
from typing import Any, Protocol

from remodiffuse.errors import InputError
from remodiffuse.options import MAX_SEED, whole_number
from remodiffuse.pipeline.timeline import DEFAULT_OVERLAP, Segment, check_segments, plan_windows

MAX_BODY_BYTES = 64 * 1024  # a larger body is answered 413
MAX_TEXT_CHARS = 300
MAX_SAMPLES = 4
MAX_STEPS = 1000
MAX_SEGMENTS = 16
MAX_TIMELINE_SECONDS = 60.0
MIXTURE_NAMES = ("default", "released", "paper")  # the server's, the released form, mixture.yaml
FIELDS = (
    "text",
    "length",
    "timeline",
    "num_samples",
    "seed",
    "steps",
    "sampler",
    "overlap",
    "mixture",
)
DEFAULT_LENGTH = 120  # frames, as generate's length=


class ModelRange(Protocol):
    """What a request is checked against: a MotionGenerator's lengths and samplers."""

    min_length: int
    max_length: int

    def check_length(self, length: int) -> None: ...

    def sampler(self, steps: int | str | None = None, name: str | None = None) -> Any: ...


@dataclass(frozen=True)
class GenerationRequest:
    """One checked request: `segments` set for a timeline, else `text` for `length` frames."""

    text: str | None
    length: int | None
    segments: tuple[Segment, ...]
    num_samples: int
    seed: int
    steps: int | None
    sampler: str | None
    overlap: int
    mixture: str


def parse_request(body: bytes, model: ModelRange, fps: float) -> GenerationRequest:
    """The request in a JSON body, checked against the model's range; InputError otherwise."""
    fields = {name: value for name, value in _json_object(body).items() if value is not None}
    unknown = sorted(set(fields) - set(FIELDS))
    if unknown:
        raise InputError(f"unknown fields {unknown}: the fields are {list(FIELDS)}")
    for name, value in fields.items():
        _refuse_paths(name, value)
    overlap = _integer(fields, "overlap", DEFAULT_OVERLAP, 0)
    steps = _integer(fields, "steps", 1, 1, MAX_STEPS) if "steps" in fields else None
    sampler = _optional_string(fields, "sampler")
    model.sampler(steps, sampler)  # an unknown sampler or unusable steps fail here
    mixture = _optional_string(fields, "mixture") or "default"
    if mixture not in MIXTURE_NAMES:
        raise InputError(f"mixture={_shown(mixture)}: choose one of {list(MIXTURE_NAMES)}")
    text, length, segments = _what_to_generate(fields, model, fps, overlap)
    return GenerationRequest(
        text=text,
        length=length,
        segments=segments,
        num_samples=_integer(fields, "num_samples", 1, 1, MAX_SAMPLES),
        seed=_integer(fields, "seed", 0, 0, MAX_SEED),
        steps=steps,
        sampler=sampler,
        overlap=overlap,
        mixture=mixture,
    )


def _json_object(body: bytes) -> dict[str, Any]:
    try:
        fields = json.loads(body.decode("utf-8"))
    except UnicodeDecodeError:
        raise InputError("the body is not UTF-8 text") from None
    except json.JSONDecodeError as error:
        raise InputError(f"the body is not valid JSON: {error}") from None
    if not isinstance(fields, dict):
        raise InputError(f"the body must be a JSON object of fields, got {type(fields).__name__}")
    return fields


def _refuse_paths(name: str, value: Any) -> None:
    """InputError for a string that looks like a file path, anywhere inside `value`."""
    if isinstance(value, str):
        if "/" in value or "\\" in value or value.startswith("~"):
            raise InputError(
                f"{name}={_shown(value)} looks like a file path: the server reads no files, "
                "send the values themselves"
            )
    elif isinstance(value, dict):
        for key, item in value.items():
            _refuse_paths(f"{name}.{key}", item)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _refuse_paths(f"{name}[{index}]", item)


def _what_to_generate(
    fields: dict[str, Any], model: ModelRange, fps: float, overlap: int
) -> tuple[str | None, int | None, tuple[Segment, ...]]:
    """(text, length, ()) of text/length, or (None, None, segments) of a timeline."""
    if "timeline" in fields:
        if "text" in fields or "length" in fields:
            raise InputError("give timeline or text/length, not both")
        segments = _segments(fields["timeline"], model, fps)
        plan_windows(segments, model.max_length, overlap)
        return None, None, tuple(segments)
    if "text" not in fields:
        raise InputError("give text (with length in frames) or timeline")
    length = _integer(fields, "length", DEFAULT_LENGTH, 1)
    model.check_length(length)
    return _text("text", fields["text"]), length, ()


def _segments(timeline: Any, model: ModelRange, fps: float) -> list[Segment]:
    """Segments of a JSON timeline [{text, start, end}, ...] (seconds), checked."""
    if not isinstance(timeline, list) or not timeline:
        raise InputError("timeline must be a non-empty list of {text, start, end} (seconds)")
    if len(timeline) > MAX_SEGMENTS:
        raise InputError(f"timeline has {len(timeline)} segments, at most {MAX_SEGMENTS} allowed")
    segments, names = [], []
    for number, entry in enumerate(timeline):
        where = f"timeline[{number}]"
        if not isinstance(entry, dict) or set(entry) != {"text", "start", "end"}:
            raise InputError(f"{where}: expected the fields text, start, end, got {_shown(entry)}")
        start, end = (_seconds(where, name, entry[name]) for name in ("start", "end"))
        text = _text(f"{where}.text", entry["text"])
        segments.append(Segment(text, round(start * fps), round(end * fps)))
        names.append(where)
    check_segments(segments, model.min_length, names, fps)
    if segments[-1].stop > MAX_TIMELINE_SECONDS * fps:
        raise InputError(
            f"timeline lasts {segments[-1].stop / fps:g} s, at most {MAX_TIMELINE_SECONDS:g} s"
        )
    return segments


def _seconds(where: str, name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InputError(f"{where}: {name} {_shown(value)} is not a number of seconds")
    if not math.isfinite(value) or value < 0:
        raise InputError(f"{where}: {name} {value!r} must be a finite time >= 0 s")
    return float(value)


def _text(name: str, value: Any) -> str:
    if not isinstance(value, str):
        raise InputError(f"{name} must be a string, got {_shown(value)}")
    text = value.strip()
    if not text:
        raise InputError(f"{name} is empty: describe the motion, e.g. 'a person walks forward'")
    if len(text) > MAX_TEXT_CHARS:
        raise InputError(f"{name} has {len(text)} characters, at most {MAX_TEXT_CHARS} allowed")
    return text


def _optional_string(fields: dict[str, Any], name: str) -> str | None:
    value = fields.get(name)
    if value is not None and not isinstance(value, str):
        raise InputError(f"{name} must be a string, got {_shown(value)}")
    return value


def _integer(
    fields: dict[str, Any], name: str, default: int, minimum: int, maximum: int | None = None
) -> int:
    """fields[name] (default when absent) as a JSON integer in [minimum, maximum]."""
    value = fields.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int):
        raise InputError(f"{name} must be a whole number, got {_shown(value)}")
    return whole_number(name, value, minimum, maximum)


def _shown(value: Any, limit: int = 80) -> str:
    """`value` as JSON, cut to `limit` characters for a message."""
    shown = json.dumps(value)
    return shown if len(shown) <= limit else shown[: limit - 3] + "..."
