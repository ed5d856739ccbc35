"""Rest pose, bone lengths and derived body measures of the synthetic HumanML3D performer.

Body frame: +Y up, +Z forward, +X the body's left. Bone lengths come from the skeleton's default
target offsets, so the feature pipeline's retargeting leaves the generated joints unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np

from remodiffuse.data.synthetic.kinematics import normalize
from remodiffuse.motion import Skeleton, get_skeleton

__all__ = [
    "BodyGeometry",
    "LEFT",
    "RIGHT",
    "Style",
    "body_geometry",
    "mirror_x",
]

LEFT, RIGHT = 0, 1
HIP, KNEE, ANKLE, TOE = ((1, 2), (4, 5), (7, 8), (10, 11))
COLLAR, SHOULDER, ELBOW, WRIST = ((13, 14), (16, 17), (18, 19), (20, 21))

# Direction of each bone parent -> joint in the neutral standing pose (left side; right mirrored).
_REST_LEFT_AND_CENTRE = {
    1: (0.62, -0.77, -0.15),
    3: (0.0, 0.94, -0.33),
    4: (0.04, -1.0, 0.0),
    6: (0.0, 0.98, 0.2),
    7: (-0.01, -1.0, -0.06),
    9: (0.0, 0.99, 0.16),
    10: (0.15, -0.28, 0.95),
    12: (0.0, 0.98, -0.2),
    13: (0.53, 0.85, -0.05),
    15: (0.0, 0.89, 0.46),
    16: (0.88, -0.44, -0.16),
    18: (0.12, -0.99, -0.02),
    20: (0.06, -0.97, 0.22),
}
_MIRRORED = {2: 1, 5: 4, 8: 7, 11: 10, 14: 13, 17: 16, 19: 18, 21: 20}
FOOT_PITCH = np.arcsin(0.28 / np.linalg.norm(_REST_LEFT_AND_CENTRE[10]))  # toe below ankle, rad


def mirror_x(v: np.ndarray) -> np.ndarray:
    """Mirror body-frame vectors (..., 3) left <-> right (negate x)."""
    return v * np.array([-1.0, 1.0, 1.0])


def _rest_directions(num_joints: int) -> np.ndarray:
    """(J, 3) unit bone directions of the neutral pose (row 0 unused)."""
    dirs = np.zeros((num_joints, 3))
    for joint, vec in _REST_LEFT_AND_CENTRE.items():
        dirs[joint] = normalize(np.array(vec, dtype=np.float64))
    for joint, source in _MIRRORED.items():
        dirs[joint] = mirror_x(dirs[source])
    return dirs


@dataclass(frozen=True)
class Style:
    """Per-performer variation: stance width, toe-out, knee slack, arm carriage, posture."""

    stance_half_width: float = 0.1  # m, ankle centre to body midline
    toe_out: float = 0.12  # rad, each foot turned outwards
    knee_slack: float = 0.975  # standing hip-ankle distance / straight-leg length
    arm_abduction: float = 0.0  # rad, arms held away from the body at rest
    posture_lean: float = 0.0  # rad, constant forward lean of the spine

    @staticmethod
    def sample(rng: np.random.Generator) -> Style:
        """A random plausible performer."""
        return Style(
            stance_half_width=float(rng.uniform(0.085, 0.12)),
            toe_out=float(rng.uniform(0.05, 0.2)),
            knee_slack=float(rng.uniform(0.965, 0.985)),
            arm_abduction=float(rng.uniform(-0.03, 0.12)),
            posture_lean=float(rng.uniform(-0.04, 0.1)),
        )


@dataclass(frozen=True)
class BodyGeometry:
    """Bone offsets of the rest pose and the measures the motion builders need."""

    skeleton: Skeleton
    rest_directions: np.ndarray  # (J, 3) unit
    bone_lengths: np.ndarray  # (J,) metres, 0 for the root
    offsets: np.ndarray  # (J, 3) rest offsets parent -> joint

    def hip_offset(self, side: int) -> np.ndarray:
        """(3,) pelvis -> hip offset in the pelvis frame."""
        return self.offsets[HIP[side]]

    def thigh(self, side: int) -> float:
        return float(self.bone_lengths[KNEE[side]])

    def shin(self, side: int) -> float:
        return float(self.bone_lengths[ANKLE[side]])

    def foot(self, side: int) -> float:
        return float(self.bone_lengths[TOE[side]])

    def leg(self, side: int) -> float:
        """Straight-leg hip -> ankle distance."""
        return self.thigh(side) + self.shin(side)

    def ankle_height(self, side: int, heel_raise: float = 0.0) -> float:
        """Ankle height above a toe on the floor, for a heel raised by `heel_raise` radians."""
        return self.foot(side) * float(np.sin(FOOT_PITCH + heel_raise))

    def pelvis_height(self, reach: float, heel_raise: float = 0.0) -> float:
        """Pelvis height when both hip-ankle distances are `reach` times the leg length."""
        return min(
            self.ankle_height(s, heel_raise) + reach * self.leg(s) - self.hip_offset(s)[1]
            for s in (LEFT, RIGHT)
        )

    def standing_height(self, style: Style) -> float:
        """Pelvis height of the neutral stance."""
        return self.pelvis_height(style.knee_slack)

    def takeoff_height(self) -> float:
        """Pelvis height at which the feet must leave the floor (straight legs, heels raised)."""
        return self.pelvis_height(0.985, heel_raise=0.7)


@cache
def body_geometry(skeleton_name: str = "humanml3d") -> BodyGeometry:
    """Geometry of the synthetic performer on the named skeleton's default target bones."""
    skeleton = get_skeleton(skeleton_name)
    lengths = np.linalg.norm(np.asarray(skeleton.default_target_offsets, np.float64), axis=-1)
    directions = _rest_directions(skeleton.num_joints)
    return BodyGeometry(skeleton, directions, lengths, directions * lengths[:, None])
