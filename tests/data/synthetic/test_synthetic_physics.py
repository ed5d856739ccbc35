"""Physical plausibility of synthetic motions, measured on joints recovered from their features."""

from __future__ import annotations

import numpy as np
import pytest
from synthetic_test_helpers import pose_primitive, sample_params

from remodiffuse.data.synthetic import PRIMITIVE_LABELS, physical_report, sample_motion
from remodiffuse.data.synthetic.checks import PhysicalLimits
from remodiffuse.data.synthetic.generate import RECOVERY_TOLERANCE
from remodiffuse.motion import joints_from_features, process_motion


def _recover(joints: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(joints recovered from the features, pipeline-normalised input joints), both (T-1, 22, 3)."""
    processed = process_motion(joints)
    return joints_from_features(processed["features"]), processed["global_positions"][:-1]


@pytest.mark.parametrize("label", PRIMITIVE_LABELS)
def test_every_primitive_passes_the_physical_checks_after_the_pipeline(label):
    rng = np.random.default_rng(5)
    for _ in range(8):
        joints, _ = pose_primitive(label, sample_params(label, rng))
        recovered, normalised = _recover(joints)
        report = physical_report(recovered)
        assert report["passed"], report
        # No heading-wrap artefact: the features reproduce the (floor/origin/facing-normalised)
        # generated joints.
        assert np.abs(recovered - normalised).max() < RECOVERY_TOLERANCE


def test_sampled_motions_pass_the_checks_and_stay_in_length_range():
    seeds = np.random.SeedSequence(123).spawn(40)
    for seed in seeds:
        motion = sample_motion(np.random.default_rng(seed))
        recovered, normalised = _recover(motion.joints)
        assert 40 <= len(recovered) <= 196
        assert np.abs(recovered - normalised).max() < RECOVERY_TOLERANCE
        report = physical_report(recovered)
        assert report["passed"], (report, [r.label for r in motion.primitives])


def test_real_humanml3d_sample_passes_the_checks(require_fixture):
    real = require_fixture(
        "fixtures", "humanml3d-representation", "real_sample", "000000_new_joints.npy"
    )
    report = physical_report(np.load(real))
    assert report["passed"], report


def _walk() -> np.ndarray:
    joints, _ = pose_primitive("walk", {"speed": 1.2, "steps": 8, "lead": "left", "turn": 0.0})
    return joints


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
