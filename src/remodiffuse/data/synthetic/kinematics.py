"""Rotation helpers and forward kinematics on the HumanML3D 22-joint skeleton (Y up, metres)."""

from __future__ import annotations

import numpy as np

from remodiffuse.motion import Skeleton

__all__ = [
    "aim_joint",
    "forward_kinematics",
    "normalize",
    "rot_x",
    "rot_y",
    "rot_z",
    "slerp",
    "swing",
]


def normalize(v: np.ndarray) -> np.ndarray:
    """Unit vectors along the last axis."""
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


def _axis_rotation(angle: np.ndarray, axis: int) -> np.ndarray:
    """(..., 3, 3) right-handed rotations by `angle` (radians) about coordinate axis 0, 1 or 2."""
    angle = np.asarray(angle, dtype=np.float64)
    c, s = np.cos(angle), np.sin(angle)
    i, j = [(1, 2), (2, 0), (0, 1)][axis]
    out = np.zeros(angle.shape + (3, 3))
    out[..., axis, axis] = 1.0
    out[..., i, i] = c
    out[..., j, j] = c
    out[..., i, j] = -s
    out[..., j, i] = s
    return out


def rot_x(angle: np.ndarray) -> np.ndarray:
    """Rotation about +X (pitch; positive tips +Y towards +Z)."""
    return _axis_rotation(angle, 0)


def rot_y(angle: np.ndarray) -> np.ndarray:
    """Rotation about +Y (yaw; positive turns +Z towards +X, i.e. to the body's left)."""
    return _axis_rotation(angle, 1)


def rot_z(angle: np.ndarray) -> np.ndarray:
    """Rotation about +Z (roll; positive tips +X towards +Y)."""
    return _axis_rotation(angle, 2)


def swing(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(..., 3, 3) shortest-arc rotations taking unit vectors a onto unit vectors b."""
    v = np.cross(a, b)  # (..., 3)
    c = (a * b).sum(-1)[..., None, None]
    k = np.zeros(v.shape[:-1] + (3, 3))
    k[..., 0, 1], k[..., 0, 2] = -v[..., 2], v[..., 1]
    k[..., 1, 0], k[..., 1, 2] = v[..., 2], -v[..., 0]
    k[..., 2, 0], k[..., 2, 1] = -v[..., 1], v[..., 0]
    return np.eye(3) + k + (k @ k) / np.maximum(1.0 + c, 1e-9)


def slerp(a: np.ndarray, b: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Spherical interpolation of unit vectors a -> b (broadcast), t in [0, 1] on the last axis."""
    t = np.asarray(t, dtype=np.float64)[..., None]
    cos = np.clip((a * b).sum(-1, keepdims=True), -1.0, 1.0)
    angle = np.arccos(cos)
    sin = np.sin(angle)
    small = sin < 1e-6
    safe = np.where(small, 1.0, sin)
    wa = np.where(small, 1.0 - t, np.sin((1.0 - t) * angle) / safe)
    wb = np.where(small, t, np.sin(t * angle) / safe)
    return normalize(wa * a + wb * b)


def aim_joint(
    parent_global: np.ndarray, rest_direction: np.ndarray, target: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Local and global rotation of a joint whose bone (rest direction) must point at `target`.

    parent_global (T, 3, 3); rest_direction (3,) unit in the joint's rest frame; target (T, 3) unit
    in world. Returns (local (T, 3, 3), global (T, 3, 3)).
    """
    carried = parent_global @ rest_direction  # (T, 3)
    global_rot = swing(carried, target) @ parent_global  # (T, 3, 3)
    local = np.swapaxes(parent_global, -1, -2) @ global_rot
    return local, global_rot


def forward_kinematics(
    root: np.ndarray, local: np.ndarray, offsets: np.ndarray, skeleton: Skeleton
) -> np.ndarray:
    """Joint positions (T, J, 3) from root positions (T, 3) and local rotations (T, J, 3, 3).

    A joint's global rotation is its parent's times its local one, and it moves the bones to its
    children: p[c] = p[j] + G[j] @ offsets[c], with constant bone offsets (J, 3).
    """
    num = skeleton.num_joints
    positions = np.empty(root.shape[:1] + (num, 3))
    globals_ = np.empty(local.shape)
    positions[:, 0] = root
    globals_[:, 0] = local[:, 0]
    for joint in range(1, num):
        parent = skeleton.parents[joint]
        positions[:, joint] = positions[:, parent] + globals_[:, parent] @ offsets[joint]
        globals_[:, joint] = globals_[:, parent] @ local[:, joint]
    return positions
