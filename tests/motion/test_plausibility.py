"""Physical plausibility measures: a real sample passes, each kind of defect is flagged."""

from __future__ import annotations

import numpy as np
import pytest

from remodiffuse.data.synthetic.body import Style, body_geometry
from remodiffuse.data.synthetic.pose import pose_joints
from remodiffuse.data.synthetic.primitives import build_primitive
from remodiffuse.motion.plausibility import PhysicalLimits, physical_report


def test_real_humanml3d_sample_passes_the_checks(require_fixture):
    real = require_fixture(
        "fixtures", "humanml3d-representation", "real_sample", "000000_new_joints.npy"
    )
    report = physical_report(np.load(real))
    assert report["passed"], report


def _walk() -> np.ndarray:
    """(T, 22, 3) joints of the synthetic set's walk primitive for its default performer."""
    geometry, style = body_geometry(), Style()
    params = {"speed": 1.2, "steps": 8, "lead": "left", "turn": 0.0}
    return pose_joints(build_primitive("walk", params, geometry, style), geometry, style)


def test_report_flags_stretched_bones_sliding_feet_speed_and_penetration():
    joints = _walk()
    assert physical_report(joints)["passed"]

    stretched = joints.copy()
    stretched[20:, 20] += (joints[20:, 20] - joints[20:, 18]) * 0.05  # forearm 5 % longer
    assert physical_report(stretched)["bone_length_variation"] > 0.04

    sliding = joints.copy()
    sliding[:, 11, 0] += np.linspace(0.0, 3.0, len(joints))  # right toe drags 3 m sideways
    report = physical_report(sliding)
    assert report["toe_slide_fraction"] > 0.5 and not report["passed"]

    teleport = joints.copy()
    teleport[30:] += np.array([1.0, 0.0, 0.0])
    assert physical_report(teleport)["max_joint_speed"] > 15.0

    sinking = joints.copy()
    sinking[10:20, 20, 1] = -0.2
    assert physical_report(sinking)["penetration"] == pytest.approx(0.2, abs=1e-6)


def test_report_limits_are_the_documented_ones():
    limits = PhysicalLimits()
    assert (limits.bone_length_variation, limits.toe_contact_band, limits.toe_slide_speed,
            limits.toe_slide_fraction, limits.joint_speed, limits.penetration) == (
        0.02, 0.03, 0.5, 0.15, 15.0, 0.05)  # fmt: skip
    with pytest.raises(ValueError):
        physical_report(np.zeros((10, 21, 3)))
