"""Skeleton kinematics of the HumanML3D pipeline: bone offsets, facing, IK and retargeting."""

from __future__ import annotations

import numpy as np
from scipy.ndimage import gaussian_filter1d

from remodiffuse.motion.quaternion import qbetween, qinv, qmul, qrot
from remodiffuse.motion.skeleton import Skeleton

__all__ = ["bone_offsets", "facing_directions", "inverse_kinematics", "uniform_skeleton"]

_UP = np.array([0.0, 1.0, 0.0])
_FORWARD = np.array([0.0, 0.0, 1.0])
FACING_SMOOTH_SIGMA = 20.0


def _normalize(v: np.ndarray) -> np.ndarray:
    """Unit vectors along the last axis."""
    return v / np.sqrt((v * v).sum(-1, keepdims=True))


def bone_offsets(frame: np.ndarray, skeleton: Skeleton) -> np.ndarray:
    """Bone offsets raw_offsets[c] * |p[c] - p[parent]| of one (J, 3) pose (get_offsets_joints)."""
    offsets = np.array(skeleton.raw_offsets, dtype=np.float64)  # (J, 3)
    for child, parent in enumerate(skeleton.parents):
        if parent >= 0:
            offsets[child] *= np.linalg.norm(frame[child] - frame[parent])
    return offsets


def facing_directions(
    joints: np.ndarray, skeleton: Skeleton, smooth_sigma: float | None = FACING_SMOOTH_SIGMA
) -> np.ndarray:
    """Unit (T, 3) facing vectors of the reference IK, including its swapped hip sign.

    The IK unpacks the face joints as (l_hip, r_hip, ...), so its across vector is
    (j[f1] - j[f0]) + (j[f2] - j[f3]); it is smoothed over time with a Gaussian (mode nearest).
    """
    f0, f1, f2, f3 = skeleton.face_joints
    across = (joints[:, f1] - joints[:, f0]) + (joints[:, f2] - joints[:, f3])  # (T, 3)
    forward = np.cross(_UP, _normalize(across))  # (T, 3)
    if smooth_sigma:
        forward = gaussian_filter1d(forward, smooth_sigma, axis=0, mode="nearest")
    return _normalize(forward)


def inverse_kinematics(
    joints: np.ndarray, skeleton: Skeleton, smooth_sigma: float | None = FACING_SMOOTH_SIGMA
) -> tuple[np.ndarray, np.ndarray]:
    """Reference IK: (T, J, 3) joints -> ((T, J, 4) quaternions, (T, 3) facing directions).

    Joint 0 holds the root rotation qbetween(forward, +Z) with frame 0 forced to identity; every
    chain (arm chains included) starts from the root rotation, children hold local rotations.
    """
    forward = facing_directions(joints, skeleton, smooth_sigma)  # (T, 3)
    root_quat = qbetween(forward, _FORWARD)  # (T, 4)
    root_quat[0] = (1.0, 0.0, 0.0, 0.0)
    quats = np.zeros(joints.shape[:-1] + (4,))  # (T, J, 4)
    quats[:, 0] = root_quat
    for chain in skeleton.kinematic_chain:
        rot = root_quat
        for parent, child in zip(chain[:-1], chain[1:], strict=True):
            direction = _normalize(joints[:, child] - joints[:, parent])  # (T, 3)
            global_rot = qbetween(skeleton.raw_offsets[child], direction)  # (T, 4)
            local_rot = qmul(qinv(rot), global_rot)
            quats[:, child] = local_rot
            rot = qmul(rot, local_rot)
    return quats, forward


def uniform_skeleton(
    joints: np.ndarray, skeleton: Skeleton, target_offsets: np.ndarray
) -> tuple[np.ndarray, float]:
    """Retarget (T, J, 3) joints to the target bone offsets; returns (joints, scale_rt).

    Equals the reference IK followed by FK with the target offsets: each bone keeps its direction,
    takes the target offset, and the root path is scaled by the leg-length ratio.
    """
    source = bone_offsets(joints[0], skeleton)  # (J, 3)
    target = np.asarray(target_offsets, dtype=np.float64)  # (J, 3)
    leg1, leg2 = skeleton.leg_bones
    scale_rt = (np.abs(target[leg1]).max() + np.abs(target[leg2]).max()) / (
        np.abs(source[leg1]).max() + np.abs(source[leg2]).max()
    )
    out = np.empty_like(joints)  # (T, J, 3)
    out[:, 0] = joints[:, 0] * scale_rt
    for chain in skeleton.kinematic_chain:
        for parent, child in zip(chain[:-1], chain[1:], strict=True):
            direction = _normalize(joints[:, child] - joints[:, parent])  # (T, 3)
            global_rot = qbetween(skeleton.raw_offsets[child], direction)  # (T, 4)
            out[:, child] = out[:, parent] + qrot(global_rot, target[child])
    return out, float(scale_rt)
