"""Which feature channels belong to which joints, for constraints on parts of a motion.

A feature row (`Skeleton.feature_slices`) holds root channels (yaw rate, planar velocity,
height) for joint 0, a root-relative position (ric) and a 6D rotation for every other joint, a
local velocity for every joint and two contact flags per foot. A joint's channels are all of
those it owns, so pinning the lower body pins the root trajectory, the legs and the contacts.
"""

from collections.abc import Iterable

import numpy as np

from remodiffuse.errors import InputError
from remodiffuse.motion.skeleton import Skeleton

BODY_PARTS = ("upper_body", "lower_body")


def joint_channels(skeleton: Skeleton, joints: Iterable[int]) -> np.ndarray:
    """(D,) bool: the feature channels owned by `joints` of `skeleton`."""
    blocks = skeleton.feature_slices
    owned = np.zeros(skeleton.feature_dim, bool)
    contacts = blocks["foot_contacts"].start
    for joint in sorted(set(joints)):
        if not 0 <= joint < skeleton.num_joints:
            raise InputError(f"joint {joint} is not a joint of {skeleton.name!r}")
        if joint == 0:
            owned[: blocks["ric"].start] = True  # yaw rate, planar velocity, height
        else:
            ric = blocks["ric"].start + 3 * (joint - 1)
            rotation = blocks["rotations_6d"].start + 6 * (joint - 1)
            owned[ric : ric + 3] = owned[rotation : rotation + 6] = True
        velocity = blocks["local_velocity"].start + 3 * joint
        owned[velocity : velocity + 3] = True
        for side, feet in enumerate((skeleton.foot_left, skeleton.foot_right)):
            if joint in feet:
                owned[contacts + 2 * side + feet.index(joint)] = True
    return owned


def pose_channels(skeleton: Skeleton) -> np.ndarray:
    """(D,) bool: the channels that describe one frame's pose by themselves (root height, every
    joint's root-relative position and rotation). Root yaw rate, planar velocity, velocities and
    contacts are changes between frames: a keyframe leaves them free."""
    blocks = skeleton.feature_slices
    owned = np.zeros(skeleton.feature_dim, bool)
    owned[blocks["root_height"]] = True
    owned[blocks["ric"].start : blocks["rotations_6d"].stop] = True
    return owned


def body_part_joints(skeleton: Skeleton, part: str) -> tuple[int, ...]:
    """Joints of `part`: lower_body is the root and both legs (the first two kinematic chains,
    as in both datasets' definitions), upper_body every other joint."""
    if part not in BODY_PARTS:
        raise InputError(f"body part must be one of {BODY_PARTS}, got {part!r}")
    lower = {joint for chain in skeleton.kinematic_chain[:2] for joint in chain}
    if part == "lower_body":
        return tuple(sorted(lower))
    return tuple(joint for joint in range(skeleton.num_joints) if joint not in lower)
