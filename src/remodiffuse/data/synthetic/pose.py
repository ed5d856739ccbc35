"""Channels -> joint rotations -> joint positions (T, 22, 3) by forward kinematics.

Torso and head are driven by angles, arms by chest-frame bone directions, legs by a two-bone IK
towards the foot tracks; every joint ends up as a local rotation and one FK pass places them all.
"""

from __future__ import annotations

import numpy as np

from remodiffuse.data.synthetic.body import (
    ANKLE,
    COLLAR,
    ELBOW,
    HIP,
    KNEE,
    LEFT,
    RIGHT,
    SHOULDER,
    TOE,
    WRIST,
    BodyGeometry,
    Style,
)
from remodiffuse.data.synthetic.channels import Channels, rest_arm_directions
from remodiffuse.data.synthetic.feet import FootTrack, solve_feet
from remodiffuse.data.synthetic.kinematics import (
    aim_joint,
    forward_kinematics,
    normalize,
    rot_x,
    rot_y,
    rot_z,
)

__all__ = ["pose_joints", "two_bone_knee"]

_SPINE = (3, 6, 9)
_NECK = 12
_SHRUG = 0.25  # radians of collar elevation when the upper arm points straight up


def two_bone_knee(
    hip: np.ndarray, target: np.ndarray, pole: np.ndarray, thigh: float, shin: float
) -> tuple[np.ndarray, np.ndarray]:
    """Knee and reached ankle (T, 3) of a two-bone leg from hip to target, knee towards pole."""
    delta = target - hip
    distance = np.linalg.norm(delta, axis=-1, keepdims=True)
    axis = delta / np.maximum(distance, 1e-9)
    distance = np.clip(distance, abs(thigh - shin) + 1e-4, (thigh + shin) * (1.0 - 1e-6))
    along = (thigh**2 - shin**2 + distance**2) / (2.0 * distance)
    across = np.sqrt(np.maximum(thigh**2 - along**2, 0.0))
    bend = normalize(pole - (pole * axis).sum(-1, keepdims=True) * axis)
    knee = hip + along * axis + across * bend
    return knee, hip + distance * axis


def _pelvis_rotation(channels: Channels) -> np.ndarray:
    """(T, 3, 3) global pelvis rotation: heading, then forward tilt, then sideways tilt."""
    return rot_y(channels.yaw) @ rot_x(channels.pelvis_pitch) @ rot_z(channels.pelvis_roll)


def _gait_arm_dirs(
    channels: Channels, style: Style, feet: list[FootTrack], root_xz: np.ndarray
) -> np.ndarray:
    """(T, 2, 2, 3) hanging arms swinging against the legs: forward when the opposite foot is."""
    forward = np.stack([np.sin(channels.yaw), np.cos(channels.yaw)], axis=-1)  # (T, 2)
    ahead = [((f.ankle[:, [0, 2]] - root_xz) * forward).sum(-1) for f in feet]  # (T,) per side
    rest = rest_arm_directions(style)
    dirs = np.empty((channels.num_frames, 2, 2, 3))
    for side, other in ((LEFT, RIGHT), (RIGHT, LEFT)):
        flex = channels.arm_swing * 0.5 * (ahead[other] - ahead[side])
        elbow = channels.elbow_bend + 0.5 * np.maximum(flex, 0.0)
        dirs[:, side, 0] = rot_x(-flex) @ rest[side, 0]
        dirs[:, side, 1] = rot_x(-(flex + elbow)) @ rest[side, 1]
    return dirs


def _spine_rotations(channels: Channels) -> np.ndarray:
    """(T, 3, 3) local rotation of each of the three spine joints (a third of the bend each)."""
    return (
        rot_y(channels.spine_yaw / 3.0)
        @ rot_x(channels.spine_pitch / 3.0)
        @ rot_z(channels.spine_roll / 3.0)
    )


def pose_joints(channels: Channels, geometry: BodyGeometry, style: Style) -> np.ndarray:
    """World joint positions (T, J, 3) in metres for the given control channels."""
    skeleton, rest, lengths = geometry.skeleton, geometry.rest_directions, geometry.bone_lengths
    n = channels.num_frames
    pelvis = _pelvis_rotation(channels)  # (T, 3, 3)
    height, feet = solve_feet(channels, geometry, style, pelvis)
    root = np.stack([channels.root_xz[:, 0], height, channels.root_xz[:, 1]], axis=-1)

    local = np.broadcast_to(np.eye(3), (n, skeleton.num_joints, 3, 3)).copy()
    local[:, 0] = pelvis
    chest = pelvis
    for joint in _SPINE:
        local[:, joint] = _spine_rotations(channels)
        chest = chest @ local[:, joint]
    local[:, _NECK] = rot_x(channels.neck_pitch)

    swinging = _gait_arm_dirs(channels, style, feet, channels.root_xz)
    weight = channels.arm_weight[..., None, None]  # (T, 2, 1, 1)
    arm_dirs = normalize((1.0 - weight) * swinging + weight * channels.arm_dirs)  # (T, 2, 2, 3)
    world_arms = np.einsum("tij,tsbj->tsbi", chest, arm_dirs)
    for side, sign in ((LEFT, 1.0), (RIGHT, -1.0)):
        raise_up = np.clip(arm_dirs[:, side, 0, 1], 0.0, 1.0)
        local[:, COLLAR[side]] = rot_z(sign * _SHRUG * raise_up)
        collar = chest @ local[:, COLLAR[side]]
        local[:, SHOULDER[side]], upper = aim_joint(
            collar, rest[ELBOW[side]], world_arms[:, side, 0]
        )
        local[:, ELBOW[side]], _ = aim_joint(upper, rest[WRIST[side]], world_arms[:, side, 1])

    forward = np.stack([np.sin(channels.yaw), np.zeros(n), np.cos(channels.yaw)], axis=-1)
    left = np.stack([np.cos(channels.yaw), np.zeros(n), -np.sin(channels.yaw)], axis=-1)
    for side, sign in ((LEFT, 1.0), (RIGHT, -1.0)):
        foot = feet[side]
        hip = root + pelvis @ geometry.offsets[HIP[side]]
        pole = forward + np.array([0.0, 0.4, 0.0]) + 0.15 * sign * left
        knee, ankle = two_bone_knee(
            hip, foot.ankle, pole, lengths[KNEE[side]], lengths[ANKLE[side]]
        )
        local[:, HIP[side]], thigh = aim_joint(pelvis, rest[KNEE[side]], normalize(knee - hip))
        local[:, KNEE[side]], shin = aim_joint(thigh, rest[ANKLE[side]], normalize(ankle - knee))
        foot_direction = normalize(foot.toe - foot.ankle)
        local[:, ANKLE[side]], _ = aim_joint(shin, rest[TOE[side]], foot_direction)
    return forward_kinematics(root, local, geometry.offsets, skeleton)
