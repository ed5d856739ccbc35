"""Biovision BVH reader: any hierarchy, per-joint channel orders, end sites; positions by FK.

Position channels replace the joint's OFFSET on their axis (as Blender reads them); rotation
channels multiply in their listed order (intrinsic): "Zrotation Xrotation Yrotation" is
Rz @ Rx @ Ry. End sites become joints named "<parent>_end".

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

__all__ = ["read_bvh"]

_CHANNELS = {f"{axis}{kind}": (kind, axis) for axis in "XYZ" for kind in ("position", "rotation")}
_CHANNEL_COUNTS = {str(count): count for count in range(len(_CHANNELS) + 1)}
_MOTION = re.compile(r"^[ \t]*MOTION[ \t\r]*$", re.MULTILINE)  # linear: no \s* across lines
_FRAMES = re.compile(r"^Frames:\s*(\S+)$", re.IGNORECASE)
_FRAME_TIME = re.compile(r"^Frame\s+Time:\s*(\S+)$", re.IGNORECASE)


@dataclass
class _Joint:
    name: str
    parent: int
    offset: np.ndarray = field(default_factory=lambda: np.zeros(3))  # (3,)
    channels: tuple[tuple[str, str], ...] = ()  # (kind, axis) in file order
    first_column: int = 0


def read_bvh(path: str | Path, max_frames: int | None = None) -> MocapClip:
    """Read a BVH file: joints (end sites included), global positions in file units, fps.

    MocapFormatError for a malformed file or one over the limits in the module docstring.
    """
    path = Path(path)
    text = read_text(path)
    match = _MOTION.search(text)
    if match is None:
        raise MocapFormatError(path, "no MOTION section (truncated or not a BVH file)")
    if match.start() > MAX_SKELETON_BYTES:
        raise MocapFormatError(
            path, f"hierarchy longer than the {MAX_SKELETON_BYTES} bytes allowed"
        )
    joints = _parse_hierarchy(path, text[: match.start()].split())
    width = sum(len(joint.channels) for joint in joints)
    values, frame_time = _parse_motion(path, text, match.end(), width, len(joints), max_frames)
    positions = check_positions(path, _forward_kinematics(joints, values))
    return MocapClip(
        joint_names=tuple(joint.name for joint in joints),
        parents=tuple(joint.parent for joint in joints),
        positions=positions,
        fps=_fps(frame_time),
        source=path,
    )


def _parse_hierarchy(path: Path, tokens: list[str]) -> list[_Joint]:
    """Joints in file order (parents first) from the whitespace tokens before MOTION."""
    if not tokens or tokens[0].upper() != "HIERARCHY":
        raise MocapFormatError(path, "does not start with HIERARCHY")
    if len(tokens) < 2 or tokens[1].upper() != "ROOT":
        raise MocapFormatError(path, "no ROOT joint after HIERARCHY")
    joints: list[_Joint] = []
    names: set[str] = set()
    stack: list[int] = []  # indices of the open joints
    pos, column = 1, 0

    def take(count: int) -> list[str]:
        nonlocal pos
        if pos + count > len(tokens):
            raise MocapFormatError(path, "hierarchy ends early (unbalanced braces?)")
        out = tokens[pos : pos + count]
        pos += count
        return out

    def number(token: str) -> float:
        try:
            value = float(token)
        except ValueError:
            raise MocapFormatError(
                path, f"expected a number in the hierarchy, got {token!r}"
            ) from None
        if not np.isfinite(value):
            raise MocapFormatError(path, f"non-finite number {token!r} in the hierarchy")
        return value

    def open_joint(name_tokens: list[str]) -> None:
        name = " ".join(name_tokens)
        if not name:
            raise MocapFormatError(path, "joint without a name")
        if name in names:
            raise MocapFormatError(path, f"duplicate joint name {name!r}")
        if len(joints) == MAX_JOINTS:
            raise MocapFormatError(path, f"more than the {MAX_JOINTS} joints allowed")
        names.add(name)
        joints.append(_Joint(name=name, parent=stack[-1] if stack else -1))
        stack.append(len(joints) - 1)

    def name_until_brace() -> list[str]:
        name: list[str] = []
        while (token := take(1)[0]) != "{":
            name.append(token)
        return name

    while pos < len(tokens):
        keyword = take(1)[0]
        upper = keyword.upper()
        if upper in ("ROOT", "JOINT"):
            if (upper == "ROOT") != (not stack):
                raise MocapFormatError(path, f"unexpected {keyword} (one ROOT, JOINTs inside it)")
            open_joint(name_until_brace())
        elif upper == "END":
            if not stack:
                raise MocapFormatError(path, "End Site outside a joint")
            name_until_brace()
            parent = joints[stack[-1]].name
            name, n = f"{parent}_end", 2
            while name in names:
                name, n = f"{parent}_end{n}", n + 1
            open_joint([name])
        elif upper == "OFFSET":
            if not stack:
                raise MocapFormatError(path, "OFFSET outside a joint")
            joints[stack[-1]].offset = np.array([number(t) for t in take(3)])
        elif upper == "CHANNELS":
            if not stack:
                raise MocapFormatError(path, "CHANNELS outside a joint")
            count = take(1)[0]
            if count not in _CHANNEL_COUNTS:
                raise MocapFormatError(
                    path, f"bad channel count {count!r} (0 to {len(_CHANNELS)} per joint)"
                )
            names_given = take(_CHANNEL_COUNTS[count])
            unknown = [name for name in names_given if name.capitalize() not in _CHANNELS]
            if unknown:
                raise MocapFormatError(path, f"unknown channel {unknown[0]!r}")
            joint = joints[stack[-1]]
            channels = tuple(_CHANNELS[name.capitalize()] for name in names_given)
            if joint.channels or len(set(channels)) < len(channels):
                raise MocapFormatError(path, f"repeated channels in joint {joint.name!r}")
            joint.channels = channels
            joint.first_column = column
            column += len(channels)
        elif keyword == "}":
            if not stack:
                raise MocapFormatError(path, "unbalanced '}' in the hierarchy")
            stack.pop()
            if not stack and pos < len(tokens):
                raise MocapFormatError(path, f"unexpected {tokens[pos]!r} after the ROOT joint")
        else:
            raise MocapFormatError(path, f"unexpected token {keyword!r} in the hierarchy")
    if stack:
        raise MocapFormatError(path, "hierarchy ends early (unbalanced braces?)")
    return joints


def _parse_motion(
    path: Path, text: str, start: int, width: int, joints: int, max_frames: int | None
) -> tuple[np.ndarray, float]:
    """(T, width) channel values and the frame time from the text after MOTION (offset `start`).

    Rows are read one at a time and only up to the declared count: memory follows the data.
    """
    lines = text_lines(path, text, start)
    declared, frame_time = _motion_header(path, [line for _, line in islice(lines, 2)])
    check_frame_time(path, frame_time)
    check_size(path, declared, joints)
    kept = declared if max_frames is None else min(declared, max_frames)
    buffer = array("d")  # the kept rows, flattened
    found = 0
    for number, row in lines:
        if found == declared:
            raise MocapFormatError(
                path, f"{declared} frames declared but line {number} holds one more"
            )
        if found < kept:
            _append_row(path, buffer, row.split(), found, width)
        found += 1
    if found < declared:
        raise MocapFormatError(path, f"{declared} frames declared but {found} found")
    values = np.frombuffer(buffer, dtype=np.float64).reshape(kept, width)  # (T, C)
    if not np.all(np.isfinite(values)):
        frame = int(np.argwhere(~np.isfinite(values))[0, 0])
        raise MocapFormatError(path, f"non-finite channel value in frame {frame}")
    return values, frame_time


def _motion_header(path: Path, lines: list[str]) -> tuple[int, float]:
    """Declared frame count (> 0) and frame time from the 'Frames:' and 'Frame Time:' lines."""
    if len(lines) < 2:
        raise MocapFormatError(path, "MOTION section without Frames / Frame Time")
    frames_match, time_match = _FRAMES.match(lines[0]), _FRAME_TIME.match(lines[1])
    if frames_match is None or time_match is None:
        raise MocapFormatError(path, "MOTION section must start with 'Frames:' and 'Frame Time:'")
    try:
        declared = int(frames_match.group(1))
        frame_time = float(time_match.group(1))
    except ValueError:
        raise MocapFormatError(path, "unreadable Frames or Frame Time value") from None
    if declared <= 0:
        problem = "zero frames" if declared == 0 else "negative frame count"
        raise MocapFormatError(path, f"{problem} (Frames: {declared})")
    return declared, frame_time


def _append_row(path: Path, buffer: array, values: list[str], frame: int, width: int) -> None:
    """Append one frame's `width` numbers to `buffer`, or MocapFormatError."""
    if len(values) != width:
        raise MocapFormatError(
            path, f"frame {frame} has {len(values)} values, the hierarchy has {width} channels"
        )
    try:
        buffer.extend(map(float, values))
    except ValueError:
        raise MocapFormatError(path, f"non-numeric value in frame {frame}") from None


def _forward_kinematics(joints: list[_Joint], values: np.ndarray) -> np.ndarray:
    """Global positions (T, J, 3) of the joints from the channel values (T, C)."""
    frames = values.shape[0]
    positions = np.zeros((frames, len(joints), 3))
    rotations = np.zeros((frames, len(joints), 3, 3))
    for index, joint in enumerate(joints):
        local_t = np.broadcast_to(joint.offset, (frames, 3)).copy()  # (T, 3)
        local_r = np.broadcast_to(np.eye(3), (frames, 3, 3))  # (T, 3, 3)
        for n, (kind, axis) in enumerate(joint.channels):
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
