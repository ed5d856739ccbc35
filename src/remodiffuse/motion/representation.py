"""Joint positions -> HumanML3D / KIT-ML motion features (reference `process_file`)."""

from __future__ import annotations

import numpy as np

from remodiffuse.motion.kinematics import inverse_kinematics, uniform_skeleton
from remodiffuse.motion.quaternion import qbetween, qinv, qmul, qrot, quat_to_cont6d
from remodiffuse.motion.skeleton import Skeleton, get_skeleton

__all__ = ["features_from_joints", "process_motion", "validate_joints"]

_UP = np.array([0.0, 1.0, 0.0])
_FORWARD = np.array([0.0, 0.0, 1.0])


def validate_joints(joints: np.ndarray, skeleton: Skeleton) -> np.ndarray:
    """Return joints as float64 (T, J, 3) after checking shape, frame count and finiteness."""
    arr = np.asarray(joints, dtype=np.float64)
    j = skeleton.num_joints
    if arr.ndim != 3 or arr.shape[1:] != (j, 3):
        raise ValueError(f"{skeleton.name} joints must have shape (T, {j}, 3), got {arr.shape}")
    if arr.shape[0] < 2:
        raise ValueError(f"need at least 2 frames to compute features, got {arr.shape[0]}")
    if not np.isfinite(arr).all():
        raise ValueError("joints contain NaN or infinite values")
    return arr


def _target_offsets(skeleton: Skeleton, target_offsets: np.ndarray | None) -> np.ndarray:
    """Resolve and check the (J, 3) target skeleton offsets."""
    if target_offsets is None:
        if skeleton.default_target_offsets is None:
            raise ValueError(
                f"skeleton {skeleton.name!r} has no public reference target skeleton: "
                "pass target_offsets=(J, 3) bone offsets explicitly"
            )
        target_offsets = skeleton.default_target_offsets
    target = np.asarray(target_offsets, dtype=np.float64)
    if target.shape != (skeleton.num_joints, 3) or not np.isfinite(target).all():
        raise ValueError(
            f"target_offsets must be finite with shape ({skeleton.num_joints}, 3), "
            f"got {target.shape}"
        )
    return target


def _foot_contacts(positions: np.ndarray, feet: tuple[int, int], threshold: float) -> np.ndarray:
    """(T-1, 2) contacts: squared float32 displacement strictly below the threshold."""
    delta = positions[1:, list(feet)] - positions[:-1, list(feet)]  # (T-1, 2, 3) float32
    squared = delta[..., 0] ** 2 + delta[..., 1] ** 2 + delta[..., 2] ** 2
    return (squared < threshold).astype(np.float32)


def process_motion(
    joints: np.ndarray,
    skeleton: str | Skeleton = "humanml3d",
    target_offsets: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """Run the reference pipeline on (T, J, 3) joints and return every intermediate by name.

    Keys follow the reference fixtures (`global_positions`, `quat_params`, `features`, ...).
    As in the reference, degenerate inputs give NaN: zero-length bones, a bone exactly opposite
    its rest direction, or a facing exactly opposite +Z (qbetween of opposite vectors).
    """
    skel = get_skeleton(skeleton)
    positions = validate_joints(joints, skel)
    target = _target_offsets(skel, target_offsets)

    uniform, scale_rt = uniform_skeleton(positions, skel, target)  # (T, J, 3)
    floor_height = uniform[..., 1].min()
    placed = uniform - np.array([0.0, floor_height, 0.0])
    root_init_xz = placed[0, 0] * np.array([1.0, 0.0, 1.0])
    r_hip, l_hip, r_shoulder, l_shoulder = skel.face_joints
    across = (placed[0, r_hip] - placed[0, l_hip]) + (placed[0, r_shoulder] - placed[0, l_shoulder])
    across = across / np.linalg.norm(across)
    forward = np.cross(_UP, across)
    forward = forward / np.linalg.norm(forward)
    root_quat_init = qbetween(forward, _FORWARD)  # (4,)
    global_positions = qrot(root_quat_init, placed - root_init_xz).astype(np.float32)  # (T, J, 3)

    g = global_positions.astype(np.float64)  # (T, J, 3)
    quat_params, forward_smoothed = inverse_kinematics(g, skel)  # (T, J, 4), (T, 3)
    r_rot = quat_params[:, 0]  # (T, 4)
    r_velocity_quat = qmul(r_rot[1:], qinv(r_rot[:-1]))  # (T-1, 4)
    root_rot_velocity = np.arcsin(np.clip(r_velocity_quat[:, 2], -1.0, 1.0))  # (T-1,)
    root_velocity_3d = qrot(r_rot[1:], g[1:, 0] - g[:-1, 0])  # (T-1, 3)
    ric = g - g[:, :1] * np.array([1.0, 0.0, 1.0])  # (T, J, 3)
    ric = qrot(r_rot[:, None], ric)
    local_velocity = qrot(r_rot[:-1, None], g[1:] - g[:-1])  # (T-1, J, 3)
    cont6d = quat_to_cont6d(quat_params)  # (T, J, 6)
    feet_l = _foot_contacts(global_positions, skel.foot_left, skel.feet_threshold)
    feet_r = _foot_contacts(global_positions, skel.foot_right, skel.feet_threshold)

    n = len(g) - 1
    features = np.concatenate(
        [
            root_rot_velocity[:, None],
            root_velocity_3d[:, [0, 2]],
            ric[:-1, 0, 1:2],
            ric[:-1, 1:].reshape(n, -1),
            cont6d[:-1, 1:].reshape(n, -1),
            local_velocity.reshape(n, -1),
            feet_l,
            feet_r,
        ],
        axis=-1,
    ).astype(np.float32)  # (T-1, D)
    return {
        "uniform_scale_rt": np.float64(scale_rt),
        "uniform_skeleton_joints": uniform,
        "floor_height": np.float64(floor_height),
        "root_pose_init_xz": root_init_xz,
        "init_across": across,
        "init_forward": forward,
        "init_root_quat": root_quat_init,
        "global_positions": global_positions,
        "ik_forward_smoothed": forward_smoothed,
        "quat_params": quat_params,
        "cont6d_params": cont6d,
        "r_rot": r_rot,
        "r_velocity_quat": r_velocity_quat,
        "root_rot_velocity": root_rot_velocity,
        "root_linear_velocity": root_velocity_3d[:, [0, 2]],
        "root_velocity_3d": root_velocity_3d,
        "root_y": ric[:, 0, 1],
        "ric_positions": ric,
        "local_velocity": local_velocity,
        "feet_l": feet_l,
        "feet_r": feet_r,
        "features": features,
    }


def features_from_joints(
    joints: np.ndarray,
    skeleton: str | Skeleton = "humanml3d",
    target_offsets: np.ndarray | None = None,
) -> np.ndarray:
    """(T, J, 3) joints -> (T-1, 263 | 251) float32 features, as the reference `process_file`.

    HumanML3D defaults to the reference 000021 target skeleton; KIT requires `target_offsets`.
    Degenerate poses, which give NaN in the reference, raise a ValueError instead.
    """
    with np.errstate(invalid="ignore", divide="ignore"):
        features = process_motion(joints, skeleton, target_offsets)["features"]
    if not np.isfinite(features).all():
        raise ValueError(
            "joints give non-finite features: the pose is degenerate (a zero-length bone, a bone "
            "exactly opposite its rest direction, or a first-frame facing of exactly -Z)"
        )
    return features
