"""Rotation matrices from and to Euler angles, shortest-arc rotations and best-fit rotations.

Convention: column vectors, right-handed active rotations. An Euler order "ZYX" means the matrix
Rz(a) @ Ry(b) @ Rx(c) (intrinsic rotations in the listed order, as BVH channels are read).
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "axis_rotation",
    "euler_to_matrix",
    "matrix_to_euler",
    "rotation_between",
    "best_fit_rotation",
]

_AXES = {"X": 0, "Y": 1, "Z": 2}


def axis_rotation(axis: str, angles: np.ndarray) -> np.ndarray:
    """Rotations by `angles` (...,) radians about the axis "X", "Y" or "Z" -> (..., 3, 3)."""
    i = _AXES[axis.upper()]
    j, k = (i + 1) % 3, (i + 2) % 3
    cos, sin = np.cos(angles), np.sin(angles)
    out = np.zeros(np.shape(angles) + (3, 3))
    out[..., i, i] = 1.0
    out[..., j, j] = cos
    out[..., k, k] = cos
    out[..., j, k] = -sin
    out[..., k, j] = sin
    return out


def euler_to_matrix(angles: np.ndarray, order: str) -> np.ndarray:
    """(..., n) radians about the axes of `order` ("ZXY", ...) -> (..., 3, 3), product in order."""
    angles = np.asarray(angles, dtype=np.float64)
    if angles.shape[-1] != len(order):
        raise ValueError(f"{angles.shape[-1]} angles for rotation order {order!r}")
    out = np.broadcast_to(np.eye(3), angles.shape[:-1] + (3, 3))
    for n, axis in enumerate(order):
        out = out @ axis_rotation(axis, angles[..., n])
    return out


def matrix_to_euler(matrices: np.ndarray, order: str) -> np.ndarray:
    """(..., 3, 3) rotations -> (..., 3) radians for a Tait-Bryan `order` such as "YXZ".

    Inverse of `euler_to_matrix`; the middle angle is in [-pi/2, pi/2]. At gimbal lock the last
    angle is set to zero.
    """
    if sorted(order.upper()) != ["X", "Y", "Z"]:
        raise ValueError(f"not a Tait-Bryan rotation order: {order!r}")
    i, j, k = (_AXES[a] for a in order.upper())
    sign = 1.0 if (j - i) % 3 == 1 else -1.0  # +1 for the cyclic orders XYZ, YZX, ZXY
    m = np.asarray(matrices, dtype=np.float64)
    middle = np.arcsin(np.clip(sign * m[..., i, k], -1.0, 1.0))
    first = np.arctan2(-sign * m[..., j, k], m[..., k, k])
    last = np.arctan2(-sign * m[..., i, j], m[..., i, i])
    locked = np.hypot(m[..., i, i], m[..., i, j]) < 1e-9
    if np.any(locked):
        # last = 0: m = R_i(first) @ R_j(middle), so R_i(first) = m @ R_j(middle)^T.
        rest = m[locked] @ np.swapaxes(axis_rotation(order[1], middle[locked]), -1, -2)
        first[locked] = np.arctan2(sign * rest[..., k, j], rest[..., j, j])
        last[locked] = 0.0
    return np.stack([first, middle, last], axis=-1)


def _skew(v: np.ndarray) -> np.ndarray:
    """(..., 3) vectors -> (..., 3, 3) cross-product matrices."""
    out = np.zeros(v.shape[:-1] + (3, 3))
    out[..., 0, 1], out[..., 0, 2] = -v[..., 2], v[..., 1]
    out[..., 1, 0], out[..., 1, 2] = v[..., 2], -v[..., 0]
    out[..., 2, 0], out[..., 2, 1] = -v[..., 1], v[..., 0]
    return out


def rotation_between(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Shortest-arc rotations taking directions u to v, (..., 3) -> (..., 3, 3).

    Zero vectors give the identity; opposite directions a half turn about an axis normal to u.
    """
    u, v = np.broadcast_arrays(np.asarray(u, np.float64), np.asarray(v, np.float64))
    u_len = np.linalg.norm(u, axis=-1, keepdims=True)
    v_len = np.linalg.norm(v, axis=-1, keepdims=True)
    degenerate = (u_len[..., 0] < 1e-12) | (v_len[..., 0] < 1e-12)
    u = u / np.where(u_len < 1e-12, 1.0, u_len)
    v = v / np.where(v_len < 1e-12, 1.0, v_len)
    cos = np.sum(u * v, axis=-1)
    skew = _skew(np.cross(u, v))
    opposite = (cos < -1.0 + 1e-9) & ~degenerate
    scale = 1.0 / np.where(opposite | degenerate, 1.0, 1.0 + cos)
    out = np.eye(3) + skew + skew @ skew * scale[..., None, None]
    if np.any(opposite):
        w = u[opposite]
        helper = np.where(np.abs(w[:, :1]) < 0.9, [[1.0, 0.0, 0.0]], [[0.0, 1.0, 0.0]])
        normal = np.cross(w, helper)
        normal /= np.linalg.norm(normal, axis=-1, keepdims=True)
        out[opposite] = 2.0 * normal[:, :, None] * normal[:, None, :] - np.eye(3)
    out[degenerate] = np.eye(3)
    return out


def best_fit_rotation(source: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Rotations R minimising sum |R s_n - t_n|^2 (Kabsch), (..., N, 3) pairs -> (..., 3, 3)."""
    cov = np.swapaxes(target, -1, -2) @ source  # (..., 3, 3) = sum t s^T
    u, _, vt = np.linalg.svd(cov)
    det = np.linalg.det(u @ vt)
    fix = np.ones(det.shape + (3,))
    fix[..., 2] = np.sign(det) + (det == 0)
    return (u * fix[..., None, :]) @ vt
