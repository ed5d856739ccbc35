"""Acclaim ASF (skeleton) + AMC (motion) reader; positions by forward kinematics.

Each bone's position is its END point (the start is the parent's end, or the root). A bone's
global rotation is G_parent @ C @ M @ C^T, where C is the ASF `axis` frame and M the AMC
rotations; both are applied in their listed order about fixed axes ("XYZ": Rz @ Ry @ Rx).

Both files are read one line at a time within the limits of `remodiffuse.io.mocap_clip`
(MAX_SKELETON_BYTES for the ASF, MAX_FILE_BYTES for the AMC, MAX_JOINTS, MAX_FRAMES,
MAX_JOINT_FRAMES); the AMC values are stored as they are read, so memory follows the data.
"""

from __future__ import annotations

from array import array
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from remodiffuse.errors import InputError
from remodiffuse.io.mocap_clip import (
    MAX_FRAME_TIME,
    MAX_JOINTS,
    MAX_SKELETON_BYTES,
    MIN_FRAME_TIME,
    MocapClip,
    MocapFormatError,
    check_positions,
    check_size,
    read_text,
    text_lines,
)
from remodiffuse.io.rotations import euler_to_matrix

__all__ = ["read_asf_amc", "AMC_FPS"]

AMC_FPS = 120.0  # AMC files carry no frame rate; CMU recorded at 120 fps
_ROOT_CHANNELS = ("TX", "TY", "TZ", "RX", "RY", "RZ")
_INCH = 0.0254


@dataclass
class _Bone:
    name: str
    direction: np.ndarray  # (3,) unit, global at rest
    length: float
    axis: np.ndarray  # (3,) radians, about the axes of `axis_order`
    axis_order: str
    dofs: tuple[str, ...]  # "rx", "ry", "rz" in AMC order


@dataclass
class _Skeleton:
    length_factor: float
    degrees: bool
    root_order: tuple[str, ...]  # e.g. ("TX", "TY", "TZ", "RX", "RY", "RZ")
    root_axis: str
    root_position: np.ndarray  # (3,)
    root_orientation: np.ndarray  # (3,) radians
    bones: dict[str, _Bone]
    children: dict[str, list[str]]


def read_asf_amc(
    asf_path: str | Path,
    amc_path: str | Path,
    fps: float = AMC_FPS,
    max_frames: int | None = None,
) -> MocapClip:
    """Read an ASF skeleton and an AMC take: joints "root" + bones (bone END points), file units.

    `fps` must lie in 1 / MAX_FRAME_TIME .. 1 / MIN_FRAME_TIME (InputError otherwise).
    """
    asf_path, amc_path = Path(asf_path), Path(amc_path)
    if not 1 / MAX_FRAME_TIME <= fps <= 1 / MIN_FRAME_TIME:
        raise InputError(
            f"AMC frame rate fps={fps:g}: allowed {1 / MAX_FRAME_TIME:g} .. {1 / MIN_FRAME_TIME:g}"
        )
    skeleton = _parse_asf(asf_path)
    parents = _bone_parents(asf_path, skeleton)
    frames, values = _parse_amc(amc_path, skeleton, max_frames)
    positions = check_positions(amc_path, _forward_kinematics(skeleton, parents, frames, values))
    names = ("root", *parents)
    index = {name: n for n, name in enumerate(names)}
    return MocapClip(
        joint_names=names,
        parents=(-1, *(index[parent] for parent in parents.values())),
        positions=positions,
        fps=float(fps),
        source=amc_path,
        metres_per_unit=_INCH / skeleton.length_factor,
    )


def _numbers(path: Path, tokens: list[str], count: int, what: str) -> np.ndarray:
    """Exactly `count` finite numbers from tokens, or MocapFormatError."""
    try:
        values = np.array([float(token) for token in tokens[:count]])
    except ValueError:
        raise MocapFormatError(path, f"non-numeric {what}: {' '.join(tokens)}") from None
    if values.size != count:
        raise MocapFormatError(path, f"{what} needs {count} values, got {values.size}")
    if not np.all(np.isfinite(values)):
        raise MocapFormatError(path, f"non-finite {what}: {' '.join(tokens)}")
    return values


def _parse_asf(path: Path) -> _Skeleton:
    """Units, root and bones of an ASF file."""
    units = {"length": "1.0", "angle": "deg"}
    root: dict[str, list[str]] = {}
    raw_bones: list[dict[str, list[str]]] = []
    children: dict[str, list[str]] = {}
    section, bone = "", None
    for _, line in text_lines(path, read_text(path, MAX_SKELETON_BYTES)):
        tokens = line.split("#", 1)[0].split()
        if not tokens:
            continue
        key = tokens[0].lower()
        if key.startswith(":"):
            section, bone = key, None
            continue
        if section == ":units" and len(tokens) >= 2:
            units[key] = tokens[1]
        elif section == ":root":
            root[key] = tokens[1:]
        elif section == ":bonedata":
            if key == "begin":
                bone = {}
            elif key == "end":
                if bone is None:
                    raise MocapFormatError(path, "'end' without 'begin' in :bonedata")
                raw_bones.append(bone)
                bone = None
            elif bone is not None and not key.startswith("("):
                bone[key] = tokens[1:]
        elif section == ":hierarchy" and key not in ("begin", "end"):
            children.setdefault(tokens[0], []).extend(tokens[1:])
    if not raw_bones:
        raise MocapFormatError(path, "no bones in :bonedata (not an ASF file?)")
    if len(raw_bones) >= MAX_JOINTS:
        raise MocapFormatError(path, f"more than the {MAX_JOINTS - 1} bones allowed")
    try:
        length_factor = float(units["length"])
    except ValueError:
        raise MocapFormatError(path, f"bad :units length {units['length']!r}") from None
    if not (np.isfinite(length_factor) and length_factor > 0):
        raise MocapFormatError(path, f":units length must be positive, got {length_factor}")
    angle = units["angle"].lower()
    if angle not in ("deg", "rad"):
        raise MocapFormatError(path, f":units angle must be deg or rad, got {angle!r}")
    degrees = angle == "deg"
    to_radians = np.pi / 180.0 if degrees else 1.0
    bones = {}
    for fields in raw_bones:
        parsed = _parse_bone(path, fields, to_radians)
        if parsed.name in bones or parsed.name == "root":
            raise MocapFormatError(path, f"bone name {parsed.name!r} used twice (root included)")
        bones[parsed.name] = parsed
    root_order = tuple(token.upper() for token in root.get("order", []))
    for channel in root_order:
        if channel not in _ROOT_CHANNELS:
            raise MocapFormatError(path, f"unknown root channel {channel!r}")
    if len(set(root_order)) < len(root_order):
        raise MocapFormatError(path, f"repeated root channel in {' '.join(root_order)}")
    root_axis = next(iter(root.get("axis", ["XYZ"])), "").upper()
    if sorted(root_axis) != ["X", "Y", "Z"]:
        raise MocapFormatError(path, f"bad root axis order {root_axis!r}")
    return _Skeleton(
        length_factor=length_factor,
        degrees=degrees,
        root_order=root_order,
        root_axis=root_axis,
        root_position=_numbers(path, root.get("position", ["0"] * 3), 3, "root position"),
        root_orientation=_numbers(path, root.get("orientation", ["0"] * 3), 3, "root orientation")
        * to_radians,
        bones=bones,
        children=children,
    )


def _parse_bone(path: Path, fields: dict[str, list[str]], to_radians: float) -> _Bone:
    """One :bonedata begin/end block."""
    name = " ".join(fields.get("name", []))
    if not name:
        raise MocapFormatError(path, "bone without a name")
    for required in ("direction", "length"):
        if required not in fields:
            raise MocapFormatError(path, f"bone {name!r} has no {required}")
    direction = _numbers(path, fields["direction"], 3, f"direction of {name}")
    norm = np.linalg.norm(direction)
    length = float(_numbers(path, fields["length"], 1, f"length of {name}")[0])
    if norm == 0 and length != 0:
        raise MocapFormatError(path, f"bone {name!r} has a zero direction")
    axis_tokens = fields.get("axis", ["0", "0", "0", "XYZ"])
    axis_order = axis_tokens[3].upper() if len(axis_tokens) > 3 else "XYZ"
    if sorted(axis_order) != ["X", "Y", "Z"]:
        raise MocapFormatError(path, f"bad axis order {axis_order!r} of bone {name!r}")
    dofs = tuple(token.lower() for token in fields.get("dof", []))
    unsupported = [dof for dof in dofs if dof not in ("rx", "ry", "rz")]
    if unsupported:
        raise MocapFormatError(path, f"unsupported dof {unsupported[0]!r} of bone {name!r}")
    if len(set(dofs)) < len(dofs):
        raise MocapFormatError(path, f"repeated dof of bone {name!r}")
    return _Bone(
        name=name,
        direction=direction / (norm if norm else 1.0),
        length=length,
        axis=_numbers(path, axis_tokens, 3, f"axis of {name}") * to_radians,
        axis_order=axis_order,
        dofs=dofs,
    )


def _bone_parents(path: Path, skeleton: _Skeleton) -> dict[str, str]:
    """{bone: parent bone or "root"} in depth-first order from the root, each bone once; every
    :hierarchy parent must be a bone and every bone must be reached."""
    unknown = sorted(set(skeleton.children) - set(skeleton.bones) - {"root"})
    if unknown:
        raise MocapFormatError(path, f":hierarchy names unknown bone {unknown[0]!r}")
    parents: dict[str, str] = {}
    stack = [("root", name) for name in reversed(skeleton.children.get("root", []))]
    while stack:
        parent, name = stack.pop()
        if name not in skeleton.bones:
            raise MocapFormatError(path, f":hierarchy names unknown bone {name!r}")
        if name in parents:
            raise MocapFormatError(path, f"bone {name!r} appears twice in :hierarchy")
        parents[name] = parent
        stack.extend((name, child) for child in reversed(skeleton.children.get(name, [])))
    missing = sorted(set(skeleton.bones) - set(parents))
    if missing:
        raise MocapFormatError(path, f"bones not attached to the root: {', '.join(missing)}")
    return parents


def _parse_amc(
    path: Path, skeleton: _Skeleton, max_frames: int | None
) -> tuple[int, dict[str, np.ndarray]]:
    """Frame count T and the (T, n) values (radians, file units) of every animated bone."""
    widths = {"root": len(skeleton.root_order)} if skeleton.root_order else {}
    widths.update({name: len(bone.dofs) for name, bone in skeleton.bones.items() if bone.dofs})
    degrees = skeleton.degrees
    buffers = {name: array("d") for name in widths}  # each bone's rows, flattened
    frame_count = 0
    for number, line in text_lines(path, read_text(path)):
        tokens = line.split()
        head = tokens[0].upper()
        if head.startswith("#"):
            continue
        if head.startswith(":"):
            if head.startswith(":DEG"):
                degrees = True
            elif head.startswith(":RAD"):
                degrees = False
            continue
        if len(tokens) == 1 and head.isascii() and head.isdigit():
            _check_frame(path, buffers, widths, frame_count)
            if max_frames is not None and frame_count == max_frames:
                break
            frame_count += 1
            check_size(path, frame_count, 1 + len(skeleton.bones))
            continue
        if frame_count == 0:
            raise MocapFormatError(path, f"line {number}: data before the first frame number")
        _append_bone(path, number, tokens, buffers, widths, frame_count)
    if frame_count == 0:
        raise MocapFormatError(path, "zero frames")
    _check_frame(path, buffers, widths, frame_count)
    scale = np.pi / 180.0 if degrees else 1.0
    return frame_count, {
        name: _bone_values(path, skeleton, name, buffer, frame_count, scale)
        for name, buffer in buffers.items()
    }


def _bone_values(
    path: Path, skeleton: _Skeleton, name: str, buffer: array, frames: int, scale: float
) -> np.ndarray:
    """(T, n) finite values of one animated bone (or the root), angles times `scale`."""
    values = np.frombuffer(buffer, dtype=np.float64).reshape(frames, -1)  # (T, n), writable
    if not np.all(np.isfinite(values)):
        frame = int(np.argwhere(~np.isfinite(values))[0, 0])
        raise MocapFormatError(path, f"non-finite value for {name} in frame {frame + 1}")
    if name == "root":
        rotation = [n for n, channel in enumerate(skeleton.root_order) if channel[0] == "R"]
        values[:, rotation] *= scale
    else:
        values *= scale
    return values


def _append_bone(
    path: Path,
    number: int,
    tokens: list[str],
    buffers: dict[str, array],
    widths: dict[str, int],
    frame_count: int,
) -> None:
    """Append the values of the `bone v1 v2 ...` line `number` of frame `frame_count`."""
    name = tokens[0]
    if name not in widths:
        raise MocapFormatError(path, f"line {number}: unknown or fixed bone {name!r}")
    if len(tokens) - 1 != widths[name]:
        raise MocapFormatError(
            path, f"line {number}: {name} has {len(tokens) - 1} values, expected {widths[name]}"
        )
    if len(buffers[name]) == frame_count * widths[name]:
        raise MocapFormatError(path, f"line {number}: {name} given twice in one frame")
    try:
        buffers[name].extend(map(float, tokens[1:]))
    except ValueError:
        raise MocapFormatError(path, f"line {number}: non-numeric value for {name}") from None


def _check_frame(
    path: Path, buffers: dict[str, array], widths: dict[str, int], frame_count: int
) -> None:
    """Every animated bone must have a line in the frame just read."""
    missing = [name for name, rows in buffers.items() if len(rows) < frame_count * widths[name]]
    if missing:
        raise MocapFormatError(
            path, f"frame {frame_count} is missing {', '.join(missing)} (truncated file?)"
        )


def _fixed_axes(angles: np.ndarray, order: str) -> np.ndarray:
    """Rotations about fixed axes applied in `order`: "XYZ" -> Rz @ Ry @ Rx; (..., 3, 3)."""
    return euler_to_matrix(angles[..., ::-1], order[::-1])


def _forward_kinematics(
    skeleton: _Skeleton, parents: dict[str, str], frames: int, values: dict[str, np.ndarray]
) -> np.ndarray:
    """Global positions (T, 1 + bones, 3): the root, then each bone's end point (in the order of
    `parents`, parents first)."""
    root_values = values.get("root", np.zeros((frames, 0)))
    translation = np.broadcast_to(skeleton.root_position, (frames, 3)).copy()  # (T, 3)
    root_angles = np.zeros((frames, 3))
    for n, channel in enumerate(skeleton.root_order):
        target = translation if channel[0] == "T" else root_angles
        target[:, "XYZ".index(channel[1])] = root_values[:, n]
    axis_angles = root_angles[:, ["XYZ".index(a) for a in skeleton.root_axis]]
    frame = _fixed_axes(skeleton.root_orientation[None], skeleton.root_axis)  # (1, 3, 3)
    moved = _fixed_axes(axis_angles, skeleton.root_axis)  # (T, 3, 3)
    rotations = {"root": frame @ moved @ np.swapaxes(frame, -1, -2)}
    positions = {"root": translation}
    for name, parent in parents.items():
        bone = skeleton.bones[name]
        frame = _fixed_axes(bone.axis[None], bone.axis_order)  # (1, 3, 3)
        if bone.dofs:
            moved = _fixed_axes(values[name], "".join(dof[1].upper() for dof in bone.dofs))
        else:
            moved = np.eye(3)[None]
        rotations[name] = rotations[parent] @ frame @ moved @ np.swapaxes(frame, -1, -2)
        offset = rotations[name] @ (bone.direction * bone.length)  # (T, 3)
        positions[name] = positions[parent] + offset
    return np.stack([positions["root"], *(positions[name] for name in parents)], axis=1)
