"""Motion features -> root trajectory and joint positions (reference recover_* functions).

Every function takes (..., T, D) numpy arrays (returning numpy) or torch tensors (returning
differentiable tensors on the same device and dtype).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TypeVar

import numpy as np
import torch

from remodiffuse.motion.quaternion import cont6d_to_matrix, qinv, qrot, quat_to_matrix
from remodiffuse.motion.skeleton import Skeleton, get_skeleton

__all__ = ["root_from_features", "joints_from_features", "joints_from_rotations"]

Array = TypeVar("Array", np.ndarray, torch.Tensor)


def _as_tensor(features: np.ndarray | torch.Tensor, dim: int | None) -> torch.Tensor:
    """Check a (..., T, D) feature array and view it as a floating tensor."""
    if isinstance(features, torch.Tensor):
        tensor = features if features.is_floating_point() else features.float()
    else:
        array = np.asarray(features)
        if not np.issubdtype(array.dtype, np.floating):
            array = array.astype(np.float32)
        if not array.flags.writeable:
            array = array.copy()
        tensor = torch.from_numpy(np.ascontiguousarray(array))
    if tensor.ndim < 2 or tensor.shape[-2] < 1:
        raise ValueError(
            f"features must have shape (..., T, D) with T >= 1, got {tuple(tensor.shape)}"
        )
    if dim is not None and tensor.shape[-1] != dim:
        raise ValueError(f"features must have {dim} channels, got shape {tuple(tensor.shape)}")
    if dim is None and tensor.shape[-1] < 4:
        raise ValueError(f"features need at least 4 root channels, got {tuple(tensor.shape)}")
    return tensor


def _like_input(fn: Callable[..., torch.Tensor | tuple[torch.Tensor, ...]]):
    """Decorator converting torch results back to numpy when the features were numpy."""

    @functools.wraps(fn)
    def wrapper(features, *args, **kwargs):
        result = fn(features, *args, **kwargs)
        if isinstance(features, torch.Tensor):
            return result
        if isinstance(result, tuple):
            return tuple(r.numpy() for r in result)
        return result.numpy()

    return wrapper


def _root_from_tensor(f: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Integrate root yaw and velocity of (..., T, D) features -> (..., T, 4), (..., T, 3)."""
    rot_vel = f[..., 0]  # (..., T)
    zero = torch.zeros_like(rot_vel[..., :1])
    angle = torch.cumsum(torch.cat([zero, rot_vel[..., :-1]], dim=-1), dim=-1)  # (..., T)
    zeros = torch.zeros_like(angle)
    quat = torch.stack([torch.cos(angle), zeros, torch.sin(angle), zeros], dim=-1)  # (..., T, 4)
    zero_row = torch.zeros_like(f[..., :1, 1])  # (..., 1)
    vel_x = torch.cat([zero_row, f[..., :-1, 1]], dim=-1)
    vel_z = torch.cat([zero_row, f[..., :-1, 2]], dim=-1)
    vel = torch.stack([vel_x, zeros, vel_z], dim=-1)  # (..., T, 3)
    pos = torch.cumsum(qrot(qinv(quat), vel), dim=-2)
    pos = torch.stack([pos[..., 0], f[..., 3], pos[..., 2]], dim=-1)  # (..., T, 3)
    return quat, pos


@_like_input
def root_from_features(features: Array) -> tuple[Array, Array]:
    """Root rotation (..., T, 4) and position (..., T, 3) from features (recover_root_rot_pos).

    The yaw angle is the running sum of channel 0 (half-angle increments), the position the
    running sum of the ground velocity rotated back to world; y is channel 3.
    """
    return _root_from_tensor(_as_tensor(features, None))


@_like_input
def joints_from_features(features: Array, skeleton: str | Skeleton = "humanml3d") -> Array:
    """(..., T, D) features -> (..., T, J, 3) joints from the ric block (recover_from_ric)."""
    skel = get_skeleton(skeleton)
    f = _as_tensor(features, skel.feature_dim)
    quat, root = _root_from_tensor(f)  # (..., T, 4), (..., T, 3)
    ric = f[..., skel.feature_slices["ric"]].unflatten(-1, (skel.num_joints - 1, 3))
    joints = qrot(qinv(quat)[..., None, :], ric)  # (..., T, J-1, 3)
    ground = torch.stack([root[..., 0], torch.zeros_like(root[..., 0]), root[..., 2]], dim=-1)
    return torch.cat([root[..., None, :], joints + ground[..., None, :]], dim=-2)


@_like_input
def joints_from_rotations(
    features: Array, skeleton: str | Skeleton = "humanml3d", offsets: np.ndarray | None = None
) -> Array:
    """(..., T, D) features -> (..., T, J, 3) joints by FK of the 6D block (recover_from_rot).

    `offsets` (J, 3) defaults to the skeleton's target offsets (required for KIT).
    """
    skel = get_skeleton(skeleton)
    f = _as_tensor(features, skel.feature_dim)
    if offsets is None:
        offsets = skel.default_target_offsets
    if offsets is None:
        raise ValueError(f"skeleton {skel.name!r} has no default offsets: pass offsets=(J, 3)")
    bones = torch.tensor(np.asarray(offsets), dtype=f.dtype, device=f.device)  # (J, 3)
    quat, root = _root_from_tensor(f)
    local = cont6d_to_matrix(
        f[..., skel.feature_slices["rotations_6d"]].unflatten(-1, (skel.num_joints - 1, 6))
    )  # (..., T, J-1, 3, 3)
    root_matrix = quat_to_matrix(quat)  # (..., T, 3, 3)
    joints: list[torch.Tensor | None] = [root] + [None] * (skel.num_joints - 1)
    for chain in skel.kinematic_chain:
        matrix = root_matrix
        for parent, child in zip(chain[:-1], chain[1:], strict=True):
            matrix = matrix @ local[..., child - 1, :, :]
            joints[child] = (matrix @ bones[child]) + joints[parent]
    return torch.stack(joints, dim=-2)
