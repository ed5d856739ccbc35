"""Retargeting a mocap clip to the 22 HumanML3D joints (metres, Y up, floor at 0); resampling."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

from remodiffuse.io.joint_map import (
    BUILTIN_JOINT_MAPS,
    HUMANML3D_JOINTS,
    JointMap,
    apply_joint_map,
    resolve_joint_map,
    select_joint_map,
)
from remodiffuse.io.mocap_clip import MocapClip, MocapFormatError
from remodiffuse.io.rotations import rotation_between
from remodiffuse.motion import get_skeleton

__all__ = [
    "LENGTH_UNITS",
    "Retargeted",
    "body_height",
    "detect_metres_per_unit",
    "detect_up_axis",
    "is_tpose_first_frame",
    "resample",
    "resampled_length",
    "retarget_clip",
    "to_humanml3d_joints",
]

# Metres per file unit of the units a motion file is commonly written in.
LENGTH_UNITS = {"m": 1.0, "cm": 0.01, "mm": 0.001, "inch": 0.0254, "cmu": 0.0254 / 0.45}
_J = {name: n for n, name in enumerate(HUMANML3D_JOINTS)}
# Ankle-to-head chain whose summed bone lengths measure body size.
_HEIGHT_CHAIN = ("left_ankle", "left_knee", "left_hip", "pelvis", "spine1", "spine2", "spine3",
                 "neck", "head")  # fmt: skip
_AXES = {"x": 0, "y": 1, "z": 2}
DropFirstFrame = bool | Literal["auto"]


@dataclass(frozen=True)
class Retargeted:
    """The 22 HumanML3D joints of a clip and what was detected on the way."""

    joints: np.ndarray  # (T, 22, 3) float64 metres, Y up, lowest joint at y = 0
    fps: float
    joint_map: str  # built-in map name, or "custom"
    metres_per_unit: float
    up_axis: str  # the file's up axis: "+y", "+z", ...
    dropped_first_frame: bool


def body_height(joints: np.ndarray) -> float:
    """Summed mean bone lengths from the left ankle up to the head of (T, 22, 3) joints."""
    total = 0.0
    for child, parent in zip(_HEIGHT_CHAIN[:-1], _HEIGHT_CHAIN[1:], strict=True):
        total += float(np.linalg.norm(joints[:, _J[child]] - joints[:, _J[parent]], axis=-1).mean())
    return total


def _reference_height() -> float:
    """Body size (metres) of the HumanML3D target skeleton in its rest pose."""
    skeleton = get_skeleton("humanml3d")
    rest = np.zeros((1, skeleton.num_joints, 3))  # (1, 22, 3)
    for joint, parent in enumerate(skeleton.parents):
        if parent >= 0:
            rest[0, joint] = rest[0, parent] + skeleton.default_target_offsets[joint]
    return body_height(rest)


def detect_metres_per_unit(joints: np.ndarray, hint: float | None = None) -> float:
    """Metres per unit of (T, 22, 3) joints: `hint` if it gives a plausible body size, else the
    unit of LENGTH_UNITS that brings the body size nearest the HumanML3D reference skeleton."""
    height, reference = body_height(joints), _reference_height()
    if not height > 0:
        raise ValueError("cannot detect units: the skeleton has zero size")
    if hint is not None and 0.5 * reference <= hint * height <= 1.6 * reference:
        return hint
    return min(LENGTH_UNITS.values(), key=lambda s: abs(np.log(s * height / reference)))


def detect_up_axis(joints: np.ndarray) -> str:
    """The signed axis ("+y", "-z", ...) closest to the mean ankles-to-head direction."""
    ankles = joints[:, [_J["left_ankle"], _J["right_ankle"]]].mean(axis=1)  # (T, 3)
    up = (joints[:, _J["head"]] - ankles).mean(axis=0)  # (3,)
    axis = int(np.argmax(np.abs(up)))
    return ("+" if up[axis] >= 0 else "-") + "xyz"[axis]


def _up_rotation(up_axis: str) -> np.ndarray:
    """Proper rotation (3, 3) taking the signed axis `up_axis` to +Y."""
    name = up_axis.lower().lstrip("+-")
    if name not in _AXES or len(up_axis.lstrip("+-")) != 1:
        raise ValueError(f"up_axis must be 'auto' or one of x, y, z, -x, -y, -z; got {up_axis!r}")
    direction = np.zeros(3)
    direction[_AXES[name]] = -1.0 if up_axis.startswith("-") else 1.0
    return rotation_between(direction, np.array([0.0, 1.0, 0.0]))


def _check_handedness(joints: np.ndarray, source: Path) -> None:
    """Raise when the toes point backwards: a mirrored file or a swapped left/right map."""
    left = (joints[:, _J["left_hip"]] - joints[:, _J["right_hip"]]) + (
        joints[:, _J["left_shoulder"]] - joints[:, _J["right_shoulder"]]
    )  # (T, 3)
    up = joints[:, _J["neck"]] - joints[:, _J["pelvis"]]
    forward = np.cross(left, up)
    toes = (joints[:, _J["left_foot"]] - joints[:, _J["left_ankle"]]) + (
        joints[:, _J["right_foot"]] - joints[:, _J["right_ankle"]]
    )
    cosine = np.sum(forward * toes, axis=-1) / (
        np.linalg.norm(forward, axis=-1) * np.linalg.norm(toes, axis=-1) + 1e-12
    )
    if np.median(cosine) < -0.3:
        raise MocapFormatError(
            source,
            "the feet point backwards relative to left/right: the file looks mirrored "
            "(left-handed axes) or its joint map swaps left and right",
        )


def is_tpose_first_frame(joints: np.ndarray) -> bool:
    """Whether frame 0 of (T, 22, 3) metres, Y up, is a T-pose far from frame 1."""
    if joints.shape[0] < 2:
        return False
    pose = joints[0]
    arm_path = 0.0
    chain = ("left_wrist", "left_elbow", "left_shoulder", "left_collar", "spine3", "right_collar",
             "right_shoulder", "right_elbow", "right_wrist")  # fmt: skip
    for a, b in zip(chain[:-1], chain[1:], strict=True):
        arm_path += float(np.linalg.norm(pose[_J[a]] - pose[_J[b]]))
    span = pose[_J["left_wrist"]] - pose[_J["right_wrist"]]
    span_length = float(np.linalg.norm(span))
    arms_out = span_length > 0.85 * arm_path and abs(span[1]) < 0.25 * span_length
    relative = joints - joints[:, :1]  # (T, 22, 3) root-relative
    jumps = np.linalg.norm(relative[1:] - relative[:-1], axis=-1).max(axis=-1)  # (T-1,)
    typical = float(np.median(jumps[1:])) if jumps.size > 1 else 0.0
    return bool(arms_out and jumps[0] > max(0.15, 5.0 * typical))


def retarget_clip(
    clip: MocapClip,
    joint_map: JointMap | str | Path | None = None,
    *,
    metres_per_unit: float | None = None,
    up_axis: str = "auto",
    drop_first_frame: DropFirstFrame = "auto",
) -> Retargeted:
    """Map a clip to the 22 HumanML3D joints in metres, Y up, floor at 0 (see `Retargeted`).

    joint_map: None (choose a built-in map by the joint names), a built-in map name, a YAML
    path or a mapping. metres_per_unit / up_axis: None / "auto" detect them.
    """
    if joint_map is None:
        map_name, indices = select_joint_map(clip)
    else:
        indices = resolve_joint_map(joint_map, clip)
        builtin = isinstance(joint_map, str) and joint_map in BUILTIN_JOINT_MAPS
        map_name = joint_map if builtin else "custom"
    joints = apply_joint_map(clip, indices)  # (T, 22, 3) file units
    if metres_per_unit is not None and not metres_per_unit > 0:
        raise ValueError(f"metres_per_unit must be positive, got {metres_per_unit}")
    try:
        scale = metres_per_unit or detect_metres_per_unit(joints, clip.metres_per_unit)
    except ValueError as error:  # a skeleton of zero size
        raise MocapFormatError(clip.source, str(error)) from None
    joints = joints * scale
    axis = detect_up_axis(joints) if up_axis == "auto" else up_axis
    axis = axis if axis[:1] in ("+", "-") else "+" + axis
    joints = joints @ _up_rotation(axis).T
    _check_handedness(joints, clip.source)
    drop = is_tpose_first_frame(joints) if drop_first_frame == "auto" else bool(drop_first_frame)
    if drop:
        if joints.shape[0] < 2:
            raise MocapFormatError(clip.source, "cannot drop the first frame of a 1-frame clip")
        joints = joints[1:]
    joints = joints - np.array([0.0, joints[..., 1].min(), 0.0])
    return Retargeted(joints, clip.fps, map_name, scale, axis.lower(), drop)


def to_humanml3d_joints(
    clip: MocapClip,
    joint_map: JointMap | str | Path | None = None,
    *,
    metres_per_unit: float | None = None,
    up_axis: str = "auto",
    drop_first_frame: DropFirstFrame = "auto",
) -> np.ndarray:
    """The 22 HumanML3D joints (T, 22, 3) of a clip: metres, Y up, lowest joint at y = 0."""
    return retarget_clip(
        clip,
        joint_map,
        metres_per_unit=metres_per_unit,
        up_axis=up_axis,
        drop_first_frame=drop_first_frame,
    ).joints


def resampled_length(frames: int, src_fps: float, dst_fps: float) -> int:
    """Frames T' of `frames` frames resampled from src_fps to dst_fps (see `resample`)."""
    if not (src_fps > 0 and dst_fps > 0):
        raise ValueError(f"frame rates must be positive, got {src_fps} -> {dst_fps}")
    if frames == 0:
        raise ValueError("cannot resample zero frames")
    return int(np.floor((frames - 1) * dst_fps / src_fps + 1e-9)) + 1


def resample(joints: np.ndarray, src_fps: float, dst_fps: float = 20.0) -> np.ndarray:
    """Linearly interpolate (T, ...) frames from src_fps to dst_fps over the same duration.

    Check `resampled_length` first when the rates come from a file: T' can be far above T.
    """
    joints = np.asarray(joints, dtype=np.float64)
    frames = joints.shape[0]
    count = resampled_length(frames, src_fps, dst_fps)
    position = np.arange(count) * (src_fps / dst_fps)  # (T',) in source frames
    lower = np.minimum(np.floor(position + 1e-9).astype(int), frames - 1)
    upper = np.minimum(lower + 1, frames - 1)
    weight = np.clip(position - lower, 0.0, 1.0).reshape((-1,) + (1,) * (joints.ndim - 1))
    return (1.0 - weight) * joints[lower] + weight * joints[upper]
