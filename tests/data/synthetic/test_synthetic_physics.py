"""Physical plausibility of synthetic motions, measured on joints recovered from their features."""

from __future__ import annotations

import numpy as np
import pytest
from synthetic_test_helpers import pose_primitive, sample_params

from remodiffuse.data.synthetic import PRIMITIVE_LABELS, sample_motion
from remodiffuse.data.synthetic.generate import RECOVERY_TOLERANCE
from remodiffuse.motion import joints_from_features, process_motion
from remodiffuse.motion.plausibility import physical_report


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
