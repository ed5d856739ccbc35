"""A motion-capture take as global joint positions, the error raised for unreadable files, and the
limits every reader enforces before it allocates.

Limits (a file over one is refused with a MocapFormatError naming the file and the limit):

- MAX_FILE_BYTES: the size of one motion or skeleton file;
- MAX_SKELETON_BYTES: an ASF file, or the HIERARCHY part of a BVH file;
- MAX_LINE_CHARS: one line of a file;
- MAX_FRAMES, MAX_JOINTS and MAX_JOINT_FRAMES (frames x joints, ~100 bytes each in the forward
  kinematics) of one take;
- MIN_FRAME_TIME .. MAX_FRAME_TIME: seconds per frame (1000 fps .. 1 fps).

Text is scanned one line at a time (`text_lines`): no list of all lines is ever built.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from remodiffuse.errors import InputError

__all__ = [
    "MAX_FILE_BYTES",
    "MAX_FRAMES",
    "MAX_FRAME_TIME",
    "MAX_JOINTS",
    "MAX_JOINT_FRAMES",
    "MAX_LINE_CHARS",
    "MAX_SKELETON_BYTES",
    "MIN_FRAME_TIME",
    "MocapClip",
    "MocapFormatError",
]

MAX_FILE_BYTES = 256 << 20
MAX_SKELETON_BYTES = 4 << 20
MAX_LINE_CHARS = 1 << 20
MAX_FRAMES = 1_000_000  # 2.3 hours at 120 fps
MAX_JOINTS = 500  # end sites included
MAX_JOINT_FRAMES = 10_000_000  # e.g. 45 minutes at 120 fps of a 31-bone CMU skeleton, ~1 GB
MIN_FRAME_TIME, MAX_FRAME_TIME = 1e-3, 1.0  # seconds
_LINE = re.compile(r"[^\r\n]+")


class MocapFormatError(InputError):
    """A motion file that cannot be read: names the file and the problem."""

    def __init__(self, path: str | Path, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = Path(path)
        self.reason = reason


@dataclass(frozen=True, eq=False)
class MocapClip:
    """Joint hierarchy and global joint positions of one take, in the file's own units.

    `metres_per_unit` is set when the format defines its length unit (ASF: inches / length).
    """

    joint_names: tuple[str, ...]
    parents: tuple[int, ...]  # -1 for the root
    positions: np.ndarray  # (T, J, 3) float64, file units and axes
    fps: float
    source: Path
    metres_per_unit: float | None = None

    @property
    def num_frames(self) -> int:
        """Number of frames T."""
        return int(self.positions.shape[0])

    def index(self, name: str) -> int:
        """Index of the joint called `name`."""
        try:
            return self.joint_names.index(name)
        except ValueError:
            raise KeyError(f"no joint {name!r} in {self.source}") from None


def check_positions(path: Path, positions: np.ndarray) -> np.ndarray:
    """Raise MocapFormatError unless positions (T, J, 3) have frames and are finite."""
    if positions.shape[0] == 0:
        raise MocapFormatError(path, "no frames")
    if not np.all(np.isfinite(positions)):
        frame = int(np.argwhere(~np.isfinite(positions))[0, 0])
        raise MocapFormatError(path, f"non-finite joint positions from frame {frame}")
    return positions


def check_size(path: Path, frames: int, joints: int) -> None:
    """Raise MocapFormatError when a take exceeds MAX_FRAMES, MAX_JOINTS or MAX_JOINT_FRAMES."""
    if frames > MAX_FRAMES:
        raise MocapFormatError(path, f"{frames} frames, more than the {MAX_FRAMES} allowed")
    if joints > MAX_JOINTS:
        raise MocapFormatError(path, f"{joints} joints, more than the {MAX_JOINTS} allowed")
    if frames * joints > MAX_JOINT_FRAMES:
        raise MocapFormatError(
            path,
            f"{frames} frames x {joints} joints is more than the {MAX_JOINT_FRAMES} joint-frames "
            "allowed (split the take)",
        )


def check_frame_time(path: Path, frame_time: float) -> None:
    """Raise MocapFormatError unless MIN_FRAME_TIME <= frame_time <= MAX_FRAME_TIME seconds."""
    if not MIN_FRAME_TIME <= frame_time <= MAX_FRAME_TIME:
        raise MocapFormatError(
            path,
            f"frame time {frame_time:g} s is outside {MIN_FRAME_TIME:g} .. {MAX_FRAME_TIME:g} s "
            f"({1 / MIN_FRAME_TIME:g} .. {1 / MAX_FRAME_TIME:g} fps)",
        )


def read_text(path: Path, max_bytes: int | None = None) -> str:
    """File contents as text (Latin-1, never fails on bytes), or MocapFormatError (unreadable, or
    larger than `max_bytes`, default MAX_FILE_BYTES: never more than that is read)."""
    limit = MAX_FILE_BYTES if max_bytes is None else max_bytes
    try:
        with path.open("rb") as stream:
            data = stream.read(limit + 1)
    except OSError as exc:
        raise MocapFormatError(path, f"cannot read file ({exc.strerror or exc})") from None
    if len(data) > limit:
        raise MocapFormatError(path, f"larger than the {limit} bytes allowed")
    return data.decode("latin-1")


def text_lines(path: Path, text: str, start: int = 0) -> Iterator[tuple[int, str]]:
    """(line number, stripped line) of the non-blank lines of `text` from offset `start`, one at
    a time; MocapFormatError for a line longer than MAX_LINE_CHARS."""
    number, counted = text.count("\n", 0, start) + 1, start
    for match in _LINE.finditer(text, start):
        number, counted = number + text.count("\n", counted, match.start()), match.start()
        if match.end() - match.start() > MAX_LINE_CHARS:
            raise MocapFormatError(
                path, f"line {number} is longer than the {MAX_LINE_CHARS} characters allowed"
            )
        line = match.group().strip()
        if line:
            yield number, line
