"""Acclaim ASF (skeleton) + AMC (motion) reader; positions by forward kinematics.

Each bone's position is its END point (the start is the parent's end, or the root). A bone's
global rotation is G_parent @ C @ M @ C^T, where C is the ASF `axis` frame and M the AMC
rotations; both are applied in their listed order about fixed axes ("XYZ": Rz @ Ry @ Rx).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from remodiffuse.io.mocap_clip import MocapClip, MocapFormatError, check_positions, read_text
from remodiffuse.io.rotations import euler_to_matrix

__all__ = ["read_asf_amc", "AMC_FPS"]

AMC_FPS = 120.0  # AMC files carry no frame rate; CMU recorded at 120 fps
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
    """Read an ASF skeleton and an AMC take: joints "root" + bones (bone END points), file units."""
    asf_path, amc_path = Path(asf_path), Path(amc_path)
    if not fps > 0:
        raise ValueError(f"fps must be positive, got {fps}")
    skeleton = _parse_asf(asf_path)
    order = _bone_order(asf_path, skeleton)
    frames, values = _parse_amc(amc_path, skeleton, max_frames)
    positions = check_positions(amc_path, _forward_kinematics(skeleton, order, frames, values))
    names = ("root", *order)
    index = {name: n for n, name in enumerate(names)}
    parents = [-1] + [index[_parent_of(skeleton, name)] for name in order]
    return MocapClip(
        joint_names=names,
        parents=tuple(parents),
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
    for line in read_text(path).splitlines():
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
        bones[parsed.name] = parsed
    root_order = tuple(token.upper() for token in root.get("order", []))
    for channel in root_order:
        if channel not in ("TX", "TY", "TZ", "RX", "RY", "RZ"):
            raise MocapFormatError(path, f"unknown root channel {channel!r}")
    root_axis = root.get("axis", ["XYZ"])[0].upper()
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
    return _Bone(
        name=name,
        direction=direction / (norm if norm else 1.0),
        length=length,
        axis=_numbers(path, axis_tokens, 3, f"axis of {name}") * to_radians,
        axis_order=axis_order,
        dofs=dofs,
    )


def _bone_order(path: Path, skeleton: _Skeleton) -> list[str]:
    """Bones in depth-first order from the root, each once; every bone must be reached."""
    order: list[str] = []
    stack = list(reversed(skeleton.children.get("root", [])))
    while stack:
        name = stack.pop()
        if name not in skeleton.bones:
            raise MocapFormatError(path, f":hierarchy names unknown bone {name!r}")
        if name in order:
            raise MocapFormatError(path, f"bone {name!r} appears twice in :hierarchy")
        order.append(name)
        stack.extend(reversed(skeleton.children.get(name, [])))
    missing = sorted(set(skeleton.bones) - set(order))
    if missing:
        raise MocapFormatError(path, f"bones not attached to the root: {', '.join(missing)}")
    return order


def _parent_of(skeleton: _Skeleton, name: str) -> str:
    """Name of the parent bone (or "root") of a bone."""
    return next(parent for parent, kids in skeleton.children.items() if name in kids)


def _parse_amc(
    path: Path, skeleton: _Skeleton, max_frames: int | None
) -> tuple[int, dict[str, np.ndarray]]:
    """Frame count T and the (T, n) values (radians, file units) of every animated bone."""
    widths = {"root": len(skeleton.root_order)} if skeleton.root_order else {}
    widths.update({name: len(bone.dofs) for name, bone in skeleton.bones.items() if bone.dofs})
    degrees = skeleton.degrees
    rows: dict[str, list[list[str]]] = {name: [] for name in widths}
    frame_count = 0
    for number, line in enumerate(read_text(path).splitlines(), start=1):
        tokens = line.split()
        if not tokens or tokens[0].startswith("#"):
            continue
        head = tokens[0].upper()
        if head.startswith(":"):
            if head.startswith(":DEG"):
                degrees = True
            elif head.startswith(":RAD"):
                degrees = False
            continue
        if len(tokens) == 1 and tokens[0].isdigit():
            _check_frame(path, rows, frame_count)
            if max_frames is not None and frame_count == max_frames:
                break
            frame_count += 1
            continue
        if frame_count == 0:
            raise MocapFormatError(path, f"line {number}: data before the first frame number")
        name = tokens[0]
        if name not in widths:
            raise MocapFormatError(path, f"line {number}: unknown or fixed bone {name!r}")
        if len(tokens) - 1 != widths[name]:
            raise MocapFormatError(
                path, f"line {number}: {name} has {len(tokens) - 1} values, expected {widths[name]}"
            )
        if len(rows[name]) == frame_count:
            raise MocapFormatError(path, f"line {number}: {name} given twice in one frame")
        rows[name].append(tokens[1:])
    if frame_count == 0:
        raise MocapFormatError(path, "zero frames")
    _check_frame(path, rows, frame_count)
    values = {}
    for name, bone_rows in rows.items():
        try:
            array = np.array(bone_rows, dtype=np.float64).reshape(frame_count, widths[name])
        except ValueError:
            raise MocapFormatError(path, f"non-numeric value for {name}") from None
        if not np.all(np.isfinite(array)):
            frame = int(np.argwhere(~np.isfinite(array))[0, 0])
            raise MocapFormatError(path, f"non-finite value for {name} in frame {frame + 1}")
        values[name] = array
    scale = np.pi / 180.0 if degrees else 1.0
    for name, bone in skeleton.bones.items():
        if bone.dofs:
            values[name] = values[name] * scale
    if "root" in values:
        rotation = [n for n, channel in enumerate(skeleton.root_order) if channel[0] == "R"]
        values["root"][:, rotation] *= scale
    return frame_count, values


def _check_frame(path: Path, rows: dict[str, list[list[str]]], frame_count: int) -> None:
    """Every animated bone must have a line in the frame just read."""
    missing = [name for name, bone_rows in rows.items() if len(bone_rows) < frame_count]
    if missing:
        raise MocapFormatError(
            path, f"frame {frame_count} is missing {', '.join(missing)} (truncated file?)"
        )


def _fixed_axes(angles: np.ndarray, order: str) -> np.ndarray:
    """Rotations about fixed axes applied in `order`: "XYZ" -> Rz @ Ry @ Rx; (..., 3, 3)."""
    return euler_to_matrix(angles[..., ::-1], order[::-1])


def _forward_kinematics(
    skeleton: _Skeleton, order: list[str], frames: int, values: dict[str, np.ndarray]
) -> np.ndarray:
    """Global positions (T, 1 + bones, 3): the root, then each bone's end point."""
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
    for name in order:
        bone = skeleton.bones[name]
        parent = _parent_of(skeleton, name)
        frame = _fixed_axes(bone.axis[None], bone.axis_order)  # (1, 3, 3)
        if bone.dofs:
            moved = _fixed_axes(values[name], "".join(dof[1].upper() for dof in bone.dofs))
        else:
            moved = np.eye(3)[None]
        rotations[name] = rotations[parent] @ frame @ moved @ np.swapaxes(frame, -1, -2)
        offset = rotations[name] @ (bone.direction * bone.length)  # (T, 3)
        positions[name] = positions[parent] + offset
    return np.stack([positions["root"], *(positions[name] for name in order)], axis=1)
