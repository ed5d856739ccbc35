"""Physical plausibility measures of a joint sequence (synthetic or captured motion).

Measured on (T, 22, 3) HumanML3D joints in metres, Y up: bone-length constancy, toe sliding while
planted, joint speed and floor penetration. `physical_report` returns the numbers and whether they
are within `PhysicalLimits`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from remodiffuse.motion.skeleton import Skeleton, get_skeleton

__all__ = ["PhysicalLimits", "physical_report"]


@dataclass(frozen=True)
class PhysicalLimits:
    """Thresholds of `physical_report` (metres, seconds)."""

    bone_length_variation: float = 0.02  # (max - min) / mean of every bone
    toe_contact_band: float = 0.03  # a toe this close to its rest (min) height counts as planted
    toe_slide_speed: float = 0.5  # horizontal speed of a planted toe that counts as sliding
    toe_slide_fraction: float = 0.15  # allowed fraction of planted frames that slide, per toe
    joint_speed: float = 15.0  # fastest allowed joint speed, m/s
    penetration: float = 0.05  # deepest allowed point below the toes' rest height


def physical_report(
    joints: np.ndarray,
    fps: float = 20.0,
    skeleton: str | Skeleton = "humanml3d",
    limits: PhysicalLimits | None = None,
) -> dict[str, float | bool]:
    """Physical measures of (T, J, 3) joints and `passed` (all within `limits`).

    Keys: bone_length_variation (worst bone), toe_slide_fraction (worst toe), max_joint_speed,
    penetration (depth of the lowest joint below the lower toe rest height, >= 0), passed.
    """
    skel = get_skeleton(skeleton)
    limits = limits or PhysicalLimits()
    p = np.asarray(joints, dtype=np.float64)
    if p.ndim != 3 or p.shape[1:] != (skel.num_joints, 3) or len(p) < 2:
        raise ValueError(f"joints must have shape (T >= 2, {skel.num_joints}, 3), got {p.shape}")

    children = [j for j, parent in enumerate(skel.parents) if parent >= 0]
    parents = [skel.parents[j] for j in children]
    bones = np.linalg.norm(p[:, children] - p[:, parents], axis=-1)  # (T, B)
    variation = float(((bones.max(0) - bones.min(0)) / bones.mean(0)).max())

    toes = [skel.foot_left[1], skel.foot_right[1]]
    heights = p[:, toes, 1]  # (T, 2)
    rest = heights.min(axis=0)  # (2,)
    planted = heights[:-1] - rest <= limits.toe_contact_band  # (T-1, 2)
    speed = np.linalg.norm(np.diff(p[:, toes][..., [0, 2]], axis=0), axis=-1) * fps  # (T-1, 2)
    sliding = planted & (speed > limits.toe_slide_speed)
    slide_fraction = float((sliding.sum(0) / np.maximum(planted.sum(0), 1)).max())

    joint_speed = float(np.linalg.norm(np.diff(p, axis=0), axis=-1).max() * fps)
    penetration = float(max(rest.min() - p[..., 1].min(), 0.0))

    report: dict[str, float | bool] = {
        "bone_length_variation": variation,
        "toe_slide_fraction": slide_fraction,
        "max_joint_speed": joint_speed,
        "penetration": penetration,
    }
    report["passed"] = bool(
        variation < limits.bone_length_variation
        and slide_fraction < limits.toe_slide_fraction
        and joint_speed < limits.joint_speed
        and penetration < limits.penetration
    )
    return report
