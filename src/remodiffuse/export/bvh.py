"""BVH export of joint positions on the HumanML3D (or KIT) hierarchy, rotations solved by IK.

The rest pose puts every bone along the skeleton's `raw_offsets` direction with the motion's mean
bone length, except the children of branching joints (pelvis, spine3): their rest offsets are
their mean directions in the best-fit frame of the branching joint, so that all branches can be
matched at once by one rigid rotation (Kabsch). Single-child joints get the shortest-arc swing
(no twist). Channels: root "Xposition Yposition Zposition Yrotation Xrotation Zrotation", other
joints "Yrotation Xrotation Zrotation" (yaw first: no gimbal lock when the body turns).

The text is checked with `check_bvh_text` before it is written (atomically). The file is rigid
(bone lengths are its offsets) while the joints it was solved from need not be: `bvh_joints`
reads the joints the file stands for back, by its forward kinematics.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np

from remodiffuse.errors import InputError
from remodiffuse.export.bvh_check import check_bvh_text
from remodiffuse.files import write_text
from remodiffuse.io.bvh import read_bvh
from remodiffuse.io.mocap_clip import MAX_FRAME_TIME, MIN_FRAME_TIME
from remodiffuse.io.rotations import best_fit_rotation, matrix_to_euler, rotation_between
from remodiffuse.motion import Skeleton, get_skeleton

if TYPE_CHECKING:
    import torch

__all__ = ["bvh_joints", "write_bvh", "solve_rotations", "rest_offsets"]

_UNITS = {"m": 1.0, "cm": 100.0}  # file units per metre
_SKELETON_UNITS = {"m": 1.0, "mm": 1000.0}
_ORDER = "YXZ"
_END_SITE_FRACTION = 0.5  # end-site length as a fraction of the leaf joint's bone length


def _children(parents: tuple[int, ...]) -> list[list[int]]:
    """Child indices of every joint."""
    children: list[list[int]] = [[] for _ in parents]
    for joint, parent in enumerate(parents):
        if parent >= 0:
            children[parent].append(joint)
    return children


def _depth_first(parents: tuple[int, ...]) -> list[int]:
    """Joints in depth-first order from the root (the order of the BVH hierarchy)."""
    children = _children(parents)
    order, stack = [], [parents.index(-1)]
    while stack:
        joint = stack.pop()
        order.append(joint)
        stack.extend(reversed(children[joint]))
    return order


def rest_offsets(positions: np.ndarray, skeleton: Skeleton) -> np.ndarray:
    """(J, 3) rest offsets for positions (T, J, 3): mean bone lengths along the rest directions
    (see the module docstring for the children of branching joints)."""
    parents = skeleton.parents
    lengths = np.zeros(len(parents))
    for joint, parent in enumerate(parents):
        if parent >= 0:
            bone = positions[:, joint] - positions[:, parent]  # (T, 3)
            lengths[joint] = np.linalg.norm(bone, axis=-1).mean()
    offsets = skeleton.raw_offsets * lengths[:, None]  # (J, 3)
    for joint, kids in enumerate(_children(parents)):
        if len(kids) < 2:
            continue
        observed = positions[:, kids] - positions[:, joint : joint + 1]  # (T, K, 3)
        frame = best_fit_rotation(offsets[kids], observed)  # (T, 3, 3)
        local = np.einsum("tji,tkj->tki", frame, observed).mean(axis=0)  # (K, 3)
        norms = np.maximum(np.linalg.norm(local, axis=-1, keepdims=True), 1e-12)
        offsets[kids] = local / norms * lengths[kids, None]
    return offsets.round(6)  # as written in the file


def solve_rotations(
    positions: np.ndarray, parents: tuple[int, ...], offsets: np.ndarray
) -> np.ndarray:
    """Global joint rotations (T, J, 3, 3) whose FK on `offsets` (J, 3) follows positions.

    Each joint aims its bones from its own FK position (not the observed one) at the observed
    children, so bone-length noise does not accumulate along the chains.
    """
    frames, count = positions.shape[:2]
    children = _children(parents)
    rotations = np.zeros((frames, count, 3, 3))
    solved = positions.copy()  # (T, J, 3) FK positions, filled parents first
    for joint in _depth_first(parents):
        parent = parents[joint]
        parent_rotation = rotations[:, parent] if parent >= 0 else np.eye(3)[None]  # (T|1, 3, 3)
        kids = children[joint]
        observed = positions[:, kids] - solved[:, joint : joint + 1]  # (T, K, 3)
        if not kids:
            rotation = np.broadcast_to(parent_rotation, (frames, 3, 3))
        elif len(kids) == 1:
            local_bone = np.einsum("tji,tj->ti", parent_rotation, observed[:, 0])
            rotation = parent_rotation @ rotation_between(offsets[kids[0]], local_bone)
        else:
            rotation = best_fit_rotation(offsets[kids], observed)
        rotations[:, joint] = rotation
        solved[:, kids] = solved[:, joint : joint + 1] + np.einsum(
            "tij,kj->tki", rotation, offsets[kids]
        )
    return rotations


def _hierarchy(skeleton: Skeleton, offsets: np.ndarray) -> str:
    """The HIERARCHY section text."""
    children = _children(skeleton.parents)
    lines = ["HIERARCHY"]

    def joint_block(joint: int, depth: int) -> None:
        pad = "\t" * depth
        name = skeleton.joint_names[joint]
        is_root = skeleton.parents[joint] < 0
        lines.append(f"{pad}{'ROOT' if is_root else 'JOINT'} {name}")
        lines.append(pad + "{")
        offset = np.zeros(3) if is_root else offsets[joint]
        lines.append(f"{pad}\tOFFSET {offset[0]:.6f} {offset[1]:.6f} {offset[2]:.6f}")
        rotations = " ".join(f"{axis}rotation" for axis in _ORDER)
        if is_root:
            lines.append(f"{pad}\tCHANNELS 6 Xposition Yposition Zposition {rotations}")
        else:
            lines.append(f"{pad}\tCHANNELS 3 {rotations}")
        for child in children[joint]:
            joint_block(child, depth + 1)
        if not children[joint]:
            end = offsets[joint] * _END_SITE_FRACTION
            lines.extend(
                [
                    f"{pad}\tEnd Site",
                    f"{pad}\t{{",
                    f"{pad}\t\tOFFSET {end[0]:.6f} {end[1]:.6f} {end[2]:.6f}",
                    f"{pad}\t}}",
                ]
            )
        lines.append(pad + "}")

    joint_block(skeleton.parents.index(-1), 0)
    return "\n".join(lines) + "\n"


def write_bvh(
    joints: np.ndarray | torch.Tensor,
    path: str | Path,
    fps: float = 20.0,
    skeleton: str | Skeleton = "humanml3d",
    *,
    unit: Literal["m", "cm"] = "cm",
) -> Path:
    """Write joint positions (T, J, 3), Y up, in the skeleton's unit (HumanML3D: m, KIT: mm), as
    a BVH in `unit`; return the path. Blender: import a "cm" file with scale 0.01.

    Joint names are the skeleton's joint_names; leaf joints end in an End Site.
    """
    skel = get_skeleton(skeleton)
    if hasattr(joints, "detach"):
        joints = joints.detach().cpu().numpy()
    positions = np.asarray(joints, dtype=np.float64)
    if positions.ndim != 3 or positions.shape[1:] != (skel.num_joints, 3):
        raise ValueError(
            f"expected joints of shape (T, {skel.num_joints}, 3), got {positions.shape}"
        )
    if positions.shape[0] == 0 or not np.all(np.isfinite(positions)):
        raise ValueError("joints must have at least one frame and be finite")
    if not 1 / MAX_FRAME_TIME <= fps <= 1 / MIN_FRAME_TIME:
        raise ValueError(
            f"fps must be within {1 / MAX_FRAME_TIME:g} .. {1 / MIN_FRAME_TIME:g} (what BVH "
            f"readers here accept), got {fps}"
        )
    if unit not in _UNITS:
        raise ValueError(f"unit must be one of {', '.join(_UNITS)}, got {unit!r}")
    positions = positions * (_UNITS[unit] / _SKELETON_UNITS[skel.unit])  # (T, J, 3)
    offsets = rest_offsets(positions, skel)
    rotations = solve_rotations(positions, skel.parents, offsets)  # (T, J, 3, 3) global
    columns = [positions[:, skel.parents.index(-1)]]  # root position (T, 3)
    for joint in _depth_first(skel.parents):
        parent = skel.parents[joint]
        local = rotations[:, joint]
        if parent >= 0:
            local = np.swapaxes(rotations[:, parent], -1, -2) @ local
        angles = np.degrees(matrix_to_euler(local, _ORDER))  # (T, 3)
        columns.append(np.unwrap(angles, period=360.0, axis=0))
    motion = io.StringIO()
    np.savetxt(motion, np.concatenate(columns, axis=1), fmt="%.6f")
    path = Path(path)
    header = f"MOTION\nFrames: {positions.shape[0]}\nFrame Time: {1.0 / fps:.8f}\n"
    text = _hierarchy(skel, offsets) + header + motion.getvalue()
    check_bvh_text(text, path)
    write_text(path, text)
    return path


def bvh_joints(
    path: str | Path, skeleton: str | Skeleton = "humanml3d", unit: Literal["m", "cm"] = "cm"
) -> np.ndarray:
    """(T, J, 3) joints of a BVH that write_bvh wrote in `unit`: its forward kinematics, in the
    skeleton's joint order and unit. Rigid: each bone keeps its OFFSET length."""
    skel = get_skeleton(skeleton)
    if unit not in _UNITS:
        raise ValueError(f"unit must be one of {', '.join(_UNITS)}, got {unit!r}")
    clip = read_bvh(path)
    missing = [name for name in skel.joint_names if name not in clip.joint_names]
    if missing:
        raise InputError(f"{path}: no joint {missing[0]!r}: not a {skel.name} BVH of write_bvh")
    order = [clip.index(name) for name in skel.joint_names]
    return clip.positions[:, order] * (_SKELETON_UNITS[skel.unit] / _UNITS[unit])  # (T, J, 3)
