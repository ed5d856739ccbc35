"""Bone-length variation: how far motions are from a rigid skeleton.

Generated joints come from features that do not tie the bones to fixed lengths, so a forearm
can stretch and shrink over a motion; real (and BVH) motions keep them. Per motion, each bone's
length over time gives its coefficient of variation (std / mean) and its range (max - min).
Reported: `bone_length_cv` (%), the mean over bones and motions of the coefficient of variation,
and `bone_length_range_cm`, the largest range of any bone in any motion, in centimetres.
"""

from collections.abc import Sequence

import numpy as np

from remodiffuse.errors import InputError

__all__ = ["bone_lengths", "bone_length_variation"]


def bone_lengths(joints: np.ndarray, parents: Sequence[int]) -> np.ndarray:
    """(T, J, 3) positions -> (T, B) length of each bone (joint to parent; root skipped)."""
    if joints.ndim != 3 or joints.shape[1:] != (len(parents), 3) or joints.shape[0] == 0:
        raise InputError(
            f"bone lengths need (T >= 1, {len(parents)}, 3) joints, got {joints.shape}"
        )
    children = [joint for joint, parent in enumerate(parents) if parent >= 0]
    parent_of = [parents[joint] for joint in children]
    return np.linalg.norm(joints[:, children] - joints[:, parent_of], axis=-1)


def bone_length_variation(
    motions: Sequence[np.ndarray], parents: Sequence[int], centimetres_per_unit: float
) -> dict[str, float]:
    """bone_length_cv (%) and bone_length_range_cm of motions T_i x (J, 3) in a unit of
    `centimetres_per_unit` cm (metres: 100, millimetres: 0.1)."""
    if not motions:
        raise InputError("bone-length variation needs at least one motion")
    ratios, ranges = [], []
    for joints in motions:
        lengths = bone_lengths(np.asarray(joints, dtype=np.float64), parents)  # (T, B)
        mean = lengths.mean(axis=0)  # (B,)
        if not np.all(mean > 0):
            raise InputError("bone-length variation needs bones of non-zero length")
        ratios.append(lengths.std(axis=0) / mean)  # (B,)
        ranges.append(np.ptp(lengths, axis=0))  # (B,)
    return {
        "bone_length_cv": float(np.mean(ratios) * 100.0),
        "bone_length_range_cm": float(np.max(ranges) * centimetres_per_unit),
    }
