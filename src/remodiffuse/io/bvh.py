"""Biovision BVH reader: any hierarchy, per-joint channel orders, end sites; positions by FK.

Position channels replace the joint's OFFSET on their axis (as Blender reads them); rotation
channels multiply in their listed order (intrinsic): "Zrotation Xrotation Yrotation" is
Rz @ Rx @ Ry. End sites become joints named "<parent>_end".

`parse_bvh` is the one BVH grammar of the library (the writer checks its files with it, see
`remodiffuse.export.bvh_check`): HIERARCHY, one ROOT, JOINTs and End Sites in balanced braces;
each ROOT / JOINT holds one OFFSET and one CHANNELS line before its children, each End Site only
an OFFSET; MOTION, `Frames:` (> 0), `Frame Time:`, then exactly that many rows of finite numbers,
each as wide as the channels. Errors are BvhFormatError naming the file, the line and the problem.

The header is checked against the data before anything is allocated: the declared frame count
against the rows present, each row's width against the hierarchy's channels, the frame time and
the take's size against the limits of `remodiffuse.io.mocap_clip` (MAX_FILE_BYTES,
MAX_SKELETON_BYTES for the hierarchy, MAX_JOINTS, MAX_FRAMES, MAX_JOINT_FRAMES, MIN_FRAME_TIME ..
MAX_FRAME_TIME).
"""

from __future__ import annotations

import re
from array import array
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path

import numpy as np

from remodiffuse.io.mocap_clip import (
    MAX_JOINTS,
    MAX_SKELETON_BYTES,
    MocapClip,
    MocapFormatError,
    check_frame_time,
    check_positions,
    check_size,
    read_text,
    text_lines,
)
from remodiffuse.io.rotations import axis_rotation

__all__ = ["BvhData", "BvhFormatError", "BvhJoint", "parse_bvh", "read_bvh"]

CHANNEL_NAMES = tuple(f"{axis}{kind}" for axis in "XYZ" for kind in ("position", "rotation"))
_CHANNEL_COUNTS = {str(count): count for count in range(len(CHANNEL_NAMES) + 1)}
_MOTION = re.compile(r"^[ \t]*MOTION[ \t\r]*$", re.MULTILINE)  # linear: no \s* across lines
_FRAMES = re.compile(r"^Frames:\s*(\S+)$", re.IGNORECASE)
_FRAME_TIME = re.compile(r"^Frame\s+Time:\s*(\S+)$", re.IGNORECASE)


class BvhFormatError(MocapFormatError):
    """A malformed BVH file: names the file, the line (1-based) and the problem."""

    def __init__(self, path: str | Path, line: int, reason: str) -> None:
        super().__init__(path, f"line {line}: {reason}")
        self.line = line


@dataclass
class BvhJoint:
    """A ROOT, JOINT or End Site of the hierarchy; `first_column` is its first channel's
    column in the MOTION rows."""

    name: str
    parent: int  # -1 for the root
    end_site: bool = False
    offset: np.ndarray = field(default_factory=lambda: np.zeros(3))  # (3,)
    channels: tuple[str, ...] = ()  # canonical names ("Xposition", ...) in file order
    first_column: int = 0


@dataclass(frozen=True, eq=False)
class BvhData:
    """A parsed BVH file: joints in file order (parents first), channel values, frame time."""

    joints: tuple[BvhJoint, ...]
    values: np.ndarray  # (T, C) float64, columns in file order
    frame_time: float  # seconds
    declared_frames: int  # the `Frames:` value (T is smaller when max_frames cut the take)


def read_bvh(path: str | Path, max_frames: int | None = None) -> MocapClip:
    """Read a BVH file: joints (end sites included), global positions in file units, fps.

    MocapFormatError (BvhFormatError for the grammar, with the line) for a malformed file or
    one over the limits in the module docstring.
    """
    path = Path(path)
    data = parse_bvh(read_text(path), path, max_frames)
    positions = check_positions(path, _forward_kinematics(data.joints, data.values))
    return MocapClip(
        joint_names=tuple(joint.name for joint in data.joints),
        parents=tuple(joint.parent for joint in data.joints),
        positions=positions,
        fps=_fps(data.frame_time),
        source=path,
    )


def parse_bvh(text: str, path: str | Path, max_frames: int | None = None) -> BvhData:
    """The hierarchy and the first `max_frames` rows (all when None) of BVH `text`; `path`
    names the file in errors. Rows past `max_frames` are counted, not read."""
    path = Path(path)
    match = _MOTION.search(text)
    if match is None:
        raise MocapFormatError(path, "no MOTION section (truncated or not a BVH file)")
    if match.start() > MAX_SKELETON_BYTES:
        raise MocapFormatError(
            path, f"hierarchy longer than the {MAX_SKELETON_BYTES} bytes allowed"
        )
    motion_line = text.count("\n", 0, match.start()) + 1
    joints = _Hierarchy(path, text[: match.start()], motion_line).parse()
    width = sum(len(joint.channels) for joint in joints)
    values, frame_time, declared = _parse_motion(
        path, text, match.end(), motion_line, width, len(joints), max_frames
    )
    return BvhData(tuple(joints), values, frame_time, declared)


class _Hierarchy:
    """Parser of the whitespace tokens before MOTION, each with its line number."""

    def __init__(self, path: Path, text: str, motion_line: int) -> None:
        self.path, self.motion_line = path, motion_line
        self.tokens: list[str] = []
        self.lines = array("q")  # (N,) line of each token
        for number, line in text_lines(path, text):
            words = line.split()
            self.tokens += words
            self.lines.extend([number] * len(words))
        self.pos, self.column = 0, 0  # next token, next MOTION column
        self.start = 0  # first token of the statement being parsed
        self.joints: list[BvhJoint] = []
        self.names: set[str] = set()
        self.stack: list[int] = []  # indices of the open joints
        self.with_offset: set[int] = set()  # joints whose OFFSET was read
        self.with_channels: set[int] = set()  # joints whose CHANNELS were read

    def error(self, reason: str, token: int | None = None) -> BvhFormatError:
        """BvhFormatError at token index `token` (default: the statement's first); past the
        last token, at the MOTION line."""
        index = self.start if token is None else token
        line = self.lines[index] if 0 <= index < len(self.tokens) else self.motion_line
        return BvhFormatError(self.path, line, reason)

    def take(self, count: int) -> list[str]:
        if self.pos + count > len(self.tokens):
            raise self.error("hierarchy ends early (unbalanced braces?)", len(self.tokens))
        out = self.tokens[self.pos : self.pos + count]
        self.pos += count
        return out

    def parse(self) -> list[BvhJoint]:
        """Joints in file order (parents first)."""
        if not self.tokens or self.tokens[0].upper() != "HIERARCHY":
            raise self.error("does not start with HIERARCHY", 0)
        if len(self.tokens) < 2 or self.tokens[1].upper() != "ROOT":
            raise self.error("no ROOT joint after HIERARCHY", 1)
        self.pos = 1
        while self.pos < len(self.tokens):
            self.start = self.pos
            self.statement(self.take(1)[0])
        if self.stack:
            raise self.error("hierarchy ends early (unbalanced braces?)", len(self.tokens))
        return self.joints

    def statement(self, keyword: str) -> None:
        """Parse the statement starting with `keyword`."""
        upper = keyword.upper()
        if upper in ("ROOT", "JOINT"):
            if (upper == "ROOT") != (not self.stack):
                raise self.error(f"unexpected {keyword} (one ROOT, JOINTs inside it)")
            self.open_joint(" ".join(self.name_until_brace()), end_site=False)
        elif upper == "END":
            if not self.stack:
                raise self.error("End Site outside a joint")
            if [word.upper() for word in self.name_until_brace()] != ["SITE"]:
                raise self.error("expected 'End Site {'")
            parent = self.joints[self.stack[-1]].name
            name, n = f"{parent}_end", 2
            while name in self.names:
                name, n = f"{parent}_end{n}", n + 1
            self.open_joint(name, end_site=True)
        elif upper == "OFFSET":
            self.offset()
        elif upper == "CHANNELS":
            self.channels()
        elif keyword == "}":
            self.close_joint()
        else:
            raise self.error(f"unexpected token {keyword!r} in the hierarchy")

    def current(self, keyword: str) -> int:
        """Index of the open joint a `keyword` line belongs to."""
        if not self.stack:
            raise self.error(f"{keyword} outside a joint")
        return self.stack[-1]

    def name_until_brace(self) -> list[str]:
        name: list[str] = []
        while (token := self.take(1)[0]) != "{":
            name.append(token)
        return name

    def open_joint(self, name: str, end_site: bool) -> None:
        if self.stack:
            parent = self.joints[self.stack[-1]]
            if parent.end_site:
                raise self.error(f"an End Site ({parent.name!r}) holds a joint")
            self.check_complete(self.stack[-1], "before its children")
        if not name:
            raise self.error("joint without a name")
        if name in self.names:
            raise self.error(f"duplicate joint name {name!r}")
        if len(self.joints) == MAX_JOINTS:
            raise self.error(f"more than the {MAX_JOINTS} joints allowed")
        self.names.add(name)
        parent = self.stack[-1] if self.stack else -1
        self.joints.append(BvhJoint(name=name, parent=parent, end_site=end_site))
        self.stack.append(len(self.joints) - 1)

    def check_complete(self, index: int, when: str) -> None:
        """BvhFormatError unless joint `index` has its OFFSET, and CHANNELS unless it is an End
        Site, by now (`when`: "before its children" or "at its end")."""
        joint = self.joints[index]
        kind = "End Site" if joint.end_site else "joint"
        if index not in self.with_offset:
            raise self.error(f"{kind} {joint.name!r} has no OFFSET {when}")
        if not joint.end_site and index not in self.with_channels:
            raise self.error(f"joint {joint.name!r} has no CHANNELS {when}")

    def offset(self) -> None:
        index = self.current("OFFSET")
        if index in self.with_offset:
            raise self.error(f"repeated OFFSET in joint {self.joints[index].name!r}")
        self.joints[index].offset = np.array([self.number(token) for token in self.take(3)])
        self.with_offset.add(index)

    def channels(self) -> None:
        index = self.current("CHANNELS")
        joint = self.joints[index]
        if joint.end_site:
            raise self.error(f"CHANNELS in an End Site ({joint.name!r}): it holds only an OFFSET")
        count = self.take(1)[0]
        if count not in _CHANNEL_COUNTS:
            raise self.error(f"bad channel count {count!r} (0 to {len(CHANNEL_NAMES)} per joint)")
        given = self.take(_CHANNEL_COUNTS[count])
        unknown = [name for name in given if name.capitalize() not in CHANNEL_NAMES]
        if unknown:
            raise self.error(f"unknown channel {unknown[0]!r}")
        channels = tuple(name.capitalize() for name in given)
        if index in self.with_channels or len(set(channels)) < len(channels):
            raise self.error(f"repeated channels in joint {joint.name!r}")
        joint.channels, joint.first_column = channels, self.column
        self.with_channels.add(index)
        self.column += len(channels)

    def close_joint(self) -> None:
        if not self.stack:
            raise self.error("unbalanced '}' in the hierarchy")
        self.check_complete(self.stack.pop(), "at its end")
        if not self.stack and self.pos < len(self.tokens):
            token = self.tokens[self.pos]
            raise self.error(f"unexpected {token!r} after the ROOT joint", self.pos)

    def number(self, token: str) -> float:
        try:
            value = float(token)
        except ValueError:
            raise self.error(f"expected a number in the hierarchy, got {token!r}") from None
        if not np.isfinite(value):
            raise self.error(f"non-finite number {token!r} in the hierarchy")
        return value


def _parse_motion(
    path: Path,
    text: str,
    start: int,
    motion_line: int,
    width: int,
    joints: int,
    max_frames: int | None,
) -> tuple[np.ndarray, float, int]:
    """(T, width) channel values, the frame time and the declared frame count from the text
    after MOTION (offset `start`, on line `motion_line`).

    Rows are read one at a time and only up to the declared count: memory follows the data.
    """
    lines = text_lines(path, text, start)
    header = list(islice(lines, 2))
    declared, frame_time = _motion_header(path, header, motion_line)
    try:
        check_frame_time(path, frame_time)
    except MocapFormatError as error:
        raise BvhFormatError(path, header[1][0], error.reason) from None
    try:
        check_size(path, declared, joints)
    except MocapFormatError as error:
        raise BvhFormatError(path, header[0][0], error.reason) from None
    kept = declared if max_frames is None else min(declared, max_frames)
    buffer = array("d")  # the kept rows, flattened
    row_lines = array("q")  # (T,) line of each kept row
    found = 0
    for number, row in lines:
        if found == declared:
            raise BvhFormatError(
                path, number, f"{declared} frames declared but line {number} holds one more"
            )
        if found < kept:
            _append_row(path, buffer, row.split(), found, width, number)
            row_lines.append(number)
        found += 1
    if found < declared:
        raise BvhFormatError(path, header[0][0], f"{declared} frames declared but {found} found")
    values = np.frombuffer(buffer, dtype=np.float64).reshape(kept, width)  # (T, C)
    if not np.all(np.isfinite(values)):
        frame = int(np.argwhere(~np.isfinite(values))[0, 0])
        raise BvhFormatError(path, row_lines[frame], f"non-finite channel value in frame {frame}")
    return values, frame_time, declared


def _motion_header(path: Path, lines: list[tuple[int, str]], motion_line: int) -> tuple[int, float]:
    """Declared frame count (> 0) and frame time from the 'Frames:' and 'Frame Time:' lines."""
    if len(lines) < 2:
        raise BvhFormatError(path, motion_line, "MOTION section without Frames / Frame Time")
    (frames_line, frames_text), (time_line, time_text) = lines
    frames_match, time_match = _FRAMES.match(frames_text), _FRAME_TIME.match(time_text)
    if frames_match is None or time_match is None:
        raise BvhFormatError(
            path,
            frames_line if frames_match is None else time_line,
            "MOTION section must start with 'Frames:' and 'Frame Time:'",
        )
    try:
        declared = int(frames_match.group(1))
    except ValueError:
        raise BvhFormatError(path, frames_line, "unreadable Frames value") from None
    try:
        frame_time = float(time_match.group(1))
    except ValueError:
        raise BvhFormatError(path, time_line, "unreadable Frame Time value") from None
    if declared <= 0:
        problem = "zero frames" if declared == 0 else "negative frame count"
        raise BvhFormatError(path, frames_line, f"{problem} (Frames: {declared})")
    return declared, frame_time


def _append_row(
    path: Path, buffer: array, values: list[str], frame: int, width: int, line: int
) -> None:
    """Append one frame's `width` numbers (from line `line`) to `buffer`, or BvhFormatError."""
    if len(values) != width:
        raise BvhFormatError(
            path,
            line,
            f"frame {frame} has {len(values)} values, the hierarchy has {width} channels",
        )
    try:
        buffer.extend(map(float, values))
    except ValueError:
        raise BvhFormatError(path, line, f"non-numeric value in frame {frame}") from None


def _forward_kinematics(joints: tuple[BvhJoint, ...], values: np.ndarray) -> np.ndarray:
    """Global positions (T, J, 3) of the joints from the channel values (T, C)."""
    frames = values.shape[0]
    positions = np.zeros((frames, len(joints), 3))
    rotations = np.zeros((frames, len(joints), 3, 3))
    for index, joint in enumerate(joints):
        local_t = np.broadcast_to(joint.offset, (frames, 3)).copy()  # (T, 3)
        local_r = np.broadcast_to(np.eye(3), (frames, 3, 3))  # (T, 3, 3)
        for n, channel in enumerate(joint.channels):
            axis, kind = channel[0], channel[1:]
            column = values[:, joint.first_column + n]  # (T,)
            if kind == "position":
                local_t[:, "XYZ".index(axis)] = column
            else:
                local_r = local_r @ axis_rotation(axis, np.radians(column))
        if joint.parent < 0:
            positions[:, index] = local_t
            rotations[:, index] = local_r
        else:
            parent_r = rotations[:, joint.parent]
            positions[:, index] = positions[:, joint.parent] + np.einsum(
                "tij,tj->ti", parent_r, local_t
            )
            rotations[:, index] = parent_r @ local_r
    return positions


def _fps(frame_time: float) -> float:
    """Frames per second; snapped to an integer when the frame time is a rounded 1/n."""
    fps = 1.0 / frame_time
    return float(round(fps)) if abs(fps - round(fps)) < 1e-3 * fps else fps
