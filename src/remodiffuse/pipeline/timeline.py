"""Timelines: prompts one after another, read from a file and cut into the network's windows.

A timeline file is a `.txt` of `text#start#end` lines (seconds, as in HumanML3D caption lines)
or a YAML list of {text, start, end}. Segments must follow each other without gaps or overlaps
from 0 s. Each segment becomes one window widened by half the overlap at every seam (longer
segments several windows of at most `max_length` frames), so neighbouring windows share
`overlap` frames where the transition is generated.
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from omegaconf import OmegaConf

from remodiffuse.diffusion import Window
from remodiffuse.errors import InputError
from remodiffuse.files import read_option_text

MAX_TIMELINE_FILE_BYTES = 1 << 20
DEFAULT_OVERLAP = 20  # frames shared by neighbouring windows (1 s at 20 fps)


@dataclass(frozen=True)
class Segment:
    """Prompt `text` for frames start..stop-1."""

    text: str
    start: int
    stop: int


@dataclass(frozen=True)
class TimelineWindow(Window):
    """A window of the timeline and the segment whose prompt it carries."""

    segment: int = 0


def read_timeline(path: str | Path, fps: float, min_length: int) -> list[Segment]:
    """The segments of a timeline file, in frames at `fps`, checked (see the module doc)."""
    path = Path(path)
    content = read_option_text("timeline", path, MAX_TIMELINE_FILE_BYTES)
    if path.suffix in (".yaml", ".yml"):
        entries = _yaml_entries(path, content)
    else:
        entries = _text_entries(path, content)
    if not entries:
        raise InputError(f"timeline={path} holds no segment")
    segments = [
        Segment(text, round(start * fps), round(end * fps)) for _, text, start, end in entries
    ]
    check_segments(segments, min_length, [where for where, *_ in entries], fps)
    return segments


def _text_entries(path: Path, content: str) -> list[tuple[str, str, float, float]]:
    entries = []
    for number, line in enumerate(content.splitlines(), start=1):
        if not line.strip():
            continue
        fields = line.split("#")
        where = f"{path}:{number}"
        if len(fields) != 3:
            raise InputError(f"{where}: expected 'text#start#end' (seconds), got {line!r}")
        entries.append((where, *_fields(where, *fields)))
    return entries


def _yaml_entries(path: Path, content: str) -> list[tuple[str, str, float, float]]:
    try:
        items = OmegaConf.to_container(OmegaConf.create(content or "[]"))
    except Exception as error:  # noqa: BLE001 -- any parse failure is a bad file
        raise InputError(f"timeline={path}: not readable YAML ({error})") from None
    if not isinstance(items, list):
        raise InputError(f"timeline={path}: expected a YAML list of {{text, start, end}}")
    entries = []
    for number, item in enumerate(items):
        where = f"{path} entry {number}"
        if not isinstance(item, dict) or set(item) != {"text", "start", "end"}:
            raise InputError(f"{where}: expected the fields text, start, end, got {item!r}")
        entries.append((where, *_fields(where, item["text"], item["start"], item["end"])))
    return entries


def _fields(where: str, text: Any, start: Any, end: Any) -> tuple[str, float, float]:
    if not str(text).strip():
        raise InputError(f"{where}: empty text")
    times = []
    for name, value in (("start", start), ("end", end)):
        try:
            seconds = float(value)
        except (TypeError, ValueError):
            raise InputError(f"{where}: {name} {value!r} is not a number of seconds") from None
        if not math.isfinite(seconds) or seconds < 0:
            raise InputError(f"{where}: {name} {value!r} must be a finite time >= 0 s")
        times.append(seconds)
    return str(text).strip(), times[0], times[1]


def check_segments(
    segments: Sequence[Segment],
    min_length: int,
    names: Sequence[str] | None = None,
    fps: float = 20.0,
) -> None:
    """InputError, naming the entry ("segment i" without `names`), for a segment shorter than
    `min_length` frames or one that leaves a gap after (or overlaps) the previous one; the
    first starts at 0."""
    if not segments:
        raise InputError("a timeline needs at least one segment")
    names = names or [f"segment {number}" for number in range(len(segments))]
    previous = 0
    for segment, where in zip(segments, names, strict=True):
        if segment.start != previous:
            kind = "a gap" if segment.start > previous else "an overlap"
            raise InputError(
                f"{where}: starts at {segment.start / fps:g} s but the previous segment ends at "
                f"{previous / fps:g} s ({kind}); segments must follow each other from 0 s"
            )
        if segment.stop - segment.start < min_length:
            raise InputError(
                f"{where}: {segment.stop - segment.start} frames "
                f"({(segment.stop - segment.start) / fps:g} s), shorter than the dataset's "
                f"minimum of {min_length} frames ({min_length / fps:g} s)"
            )
        previous = segment.stop


def plan_windows(
    segments: Sequence[Segment], max_length: int, overlap: int
) -> list[TimelineWindow]:
    """Windows of at most `max_length` frames covering the segments, neighbours sharing at
    least `overlap` frames (half on each side of a seam)."""
    if not 0 <= overlap <= max_length // 2:
        raise InputError(f"overlap={overlap} must lie in 0..{max_length // 2} frames")
    total = segments[-1].stop
    windows = []
    for number, segment in enumerate(segments):
        start = max(0, segment.start - overlap // 2)
        stop = min(total, segment.stop + overlap - overlap // 2)
        span = stop - start
        pieces = max(1, math.ceil((span - overlap) / (max_length - overlap)))
        size = min(span, math.ceil((span + (pieces - 1) * overlap) / pieces))
        for piece in range(pieces):
            offset = start + (round(piece * (span - size) / (pieces - 1)) if pieces > 1 else 0)
            windows.append(TimelineWindow(offset, offset + size, number))
    return windows


def segment_records(
    segments: Sequence[Segment],
    windows: Sequence[TimelineWindow],
    retrieved: Sequence[list[str]],
) -> list[dict[str, Any]]:
    """Per segment: text, start, stop and its windows (start, stop, their retrieved captions)."""
    return [
        {
            "text": segment.text,
            "start": segment.start,
            "stop": segment.stop,
            "windows": [
                {"start": window.start, "stop": window.stop, "retrieved": captions}
                for window, captions in zip(windows, retrieved, strict=True)
                if window.segment == number
            ],
        }
        for number, segment in enumerate(segments)
    ]
