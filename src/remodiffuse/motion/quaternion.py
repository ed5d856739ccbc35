"""Quaternion (w, x, y, z) and 6D-rotation helpers working on numpy arrays and torch tensors.

Every function accepts either numpy arrays or torch tensors (broadcasting over leading axes) and
returns the same kind. Signs are never canonicalised: `qbetween` returns w >= 0 and the products
keep whatever sign they get, as in the reference HumanML3D code.
"""

from __future__ import annotations

from typing import TypeVar

import numpy as np
import torch

Array = TypeVar("Array", np.ndarray, torch.Tensor)

__all__ = [
    "qmul",
    "qinv",
    "qrot",
    "qnormalize",
    "qbetween",
    "quat_to_matrix",
    "matrix_to_cont6d",
    "quat_to_cont6d",
    "cont6d_to_matrix",
    "cross",
]


def _stack(parts: list[Array], like: Array, axis: int = -1) -> Array:
    """Stack along `axis` with the library of `like`."""
    if isinstance(like, torch.Tensor):
        return torch.stack(parts, dim=axis)
    return np.stack(parts, axis=axis)


def cross(a: Array, b: Array) -> Array:
    """Cross product over the last axis (broadcasting)."""
    ax, ay, az = a[..., 0], a[..., 1], a[..., 2]
    bx, by, bz = b[..., 0], b[..., 1], b[..., 2]
    return _stack([ay * bz - az * by, az * bx - ax * bz, ax * by - ay * bx], ax)


def qmul(q: Array, r: Array) -> Array:
    """Hamilton product q * r of (..., 4) quaternions."""
    w1, x1, y1, z1 = q[..., 0], q[..., 1], q[..., 2], q[..., 3]
    w2, x2, y2, z2 = r[..., 0], r[..., 1], r[..., 2], r[..., 3]
    return _stack(
        [
            w1 * w2 - x1 * x2 - y1 * y2 - z1 * z2,
            w1 * x2 + x1 * w2 + y1 * z2 - z1 * y2,
            w1 * y2 - x1 * z2 + y1 * w2 + z1 * x2,
            w1 * z2 + x1 * y2 - y1 * x2 + z1 * w2,
        ],
        w1 * w2,
    )


def qinv(q: Array) -> Array:
    """Conjugate (inverse of a unit quaternion)."""
    return _stack([q[..., 0], -q[..., 1], -q[..., 2], -q[..., 3]], q[..., 0])


def qrot(q: Array, v: Array) -> Array:
    """Rotate (..., 3) vectors v by unit quaternions q (..., 4)."""
    w = q[..., 0:1]
    u = q[..., 1:]
    uv = cross(u, v)
    uuv = cross(u, uv)
    return v + 2 * (w * uv + uuv)


def qnormalize(q: Array) -> Array:
    """Scale quaternions to unit norm."""
    return q / ((q * q).sum(-1) ** 0.5)[..., None]


def qbetween(a: Array, b: Array) -> Array:
    """Shortest-arc rotation taking direction a to direction b (w >= 0; NaN if opposite)."""
    v = cross(a, b)
    w = ((a * a).sum(-1) * (b * b).sum(-1)) ** 0.5 + (a * b).sum(-1)
    return qnormalize(_stack([w, v[..., 0], v[..., 1], v[..., 2]], w))


def quat_to_matrix(q: Array) -> Array:
    """(..., 4) quaternions to (..., 3, 3) rotation matrices (non-unit q are normalised)."""
    w, x, y, z = q[..., 0], q[..., 1], q[..., 2], q[..., 3]
    s = 2.0 / (q * q).sum(-1)
    rows = [
        _stack([1 - s * (y * y + z * z), s * (x * y - z * w), s * (x * z + y * w)], w),
        _stack([s * (x * y + z * w), 1 - s * (x * x + z * z), s * (y * z - x * w)], w),
        _stack([s * (x * z - y * w), s * (y * z + x * w), 1 - s * (x * x + y * y)], w),
    ]
    return _stack(rows, w, axis=-2)


def matrix_to_cont6d(mat: Array) -> Array:
    """First two columns of (..., 3, 3) matrices as (R00, R10, R20, R01, R11, R21)."""
    if isinstance(mat, torch.Tensor):
        return torch.cat([mat[..., 0], mat[..., 1]], dim=-1)
    return np.concatenate([mat[..., 0], mat[..., 1]], axis=-1)


def quat_to_cont6d(q: Array) -> Array:
    """(..., 4) quaternions to (..., 6) continuous 6D rotations."""
    return matrix_to_cont6d(quat_to_matrix(q))


def cont6d_to_matrix(d6: Array) -> Array:
    """(..., 6) 6D rotations to (..., 3, 3) matrices by Gram-Schmidt (columns x, y, z)."""
    x_raw, y_raw = d6[..., 0:3], d6[..., 3:6]
    x = x_raw / ((x_raw * x_raw).sum(-1)[..., None]) ** 0.5
    z = cross(x, y_raw)
    z = z / ((z * z).sum(-1)[..., None]) ** 0.5
    y = cross(z, x)
    return _stack([x, y, z], x, axis=-1)
