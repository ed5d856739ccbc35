"""Action primitives: shapes, constant bones, neutral ends, and the side / direction they move."""

from __future__ import annotations

import math

import numpy as np
import pytest
from synthetic_test_helpers import facing_yaw, pose_primitive, sample_params

from remodiffuse.data.synthetic import PRIMITIVE_LABELS
from remodiffuse.data.synthetic.body import Style, body_geometry
from remodiffuse.data.synthetic.channels import Channels, concatenate
from remodiffuse.data.synthetic.kinematics import rot_y
from remodiffuse.data.synthetic.pose import pose_joints
from remodiffuse.data.synthetic.primitives import build_primitive, fit_primitive
from remodiffuse.motion import get_skeleton

SKELETON = get_skeleton("humanml3d")
BONES = [j for j, p in enumerate(SKELETON.parents) if p >= 0]
PARENTS = [SKELETON.parents[j] for j in BONES]


def _bone_lengths(joints: np.ndarray) -> np.ndarray:
    return np.linalg.norm(joints[:, BONES] - joints[:, PARENTS], axis=-1)  # (T, 21)


def test_at_least_twelve_primitives_with_unique_labels():
    assert len(PRIMITIVE_LABELS) >= 12
    assert len(set(PRIMITIVE_LABELS)) == len(PRIMITIVE_LABELS)


@pytest.mark.parametrize("label", PRIMITIVE_LABELS)
def test_primitive_is_finite_rigid_and_neutral_at_both_ends(label):
    """Random parameters give finite joints with the target bone lengths, starting and ending in
    the neutral stance (so primitives chain without pops)."""
    rng = np.random.default_rng(7)
    geometry = body_geometry()
    standing = pose_joints(Channels.standing(1, geometry, Style()), geometry, Style())[0]
    for _ in range(6):
        joints, channels = pose_primitive(label, sample_params(label, rng))
        assert joints.ndim == 3 and joints.shape[1:] == (22, 3) and len(joints) >= 10
        assert np.isfinite(joints).all()
        np.testing.assert_allclose(
            _bone_lengths(joints), np.broadcast_to(geometry.bone_lengths[BONES], (len(joints), 21)),
            atol=1e-9,
        )  # fmt: skip
        np.testing.assert_allclose(joints[0], standing, atol=1e-6)
        end = channels.root_xz[-1]
        expected_end = standing @ rot_y(channels.yaw[-1]).T + np.array([end[0], 0.0, end[1]])
        np.testing.assert_allclose(joints[-1], expected_end, atol=1e-3)
        assert joints[..., 1].min() > -0.01  # nothing below the floor


def _max_travel(joints: np.ndarray, joint: int, relative_to: int = 0) -> float:
    """Largest displacement of a joint relative to another from its first-frame offset."""
    offset = joints[:, joint] - joints[:, relative_to]
    return float(np.linalg.norm(offset - offset[0], axis=-1).max())


@pytest.mark.parametrize(
    ("label", "moving", "still"),
    [("wave_left", 20, 21), ("wave_right", 21, 20), ("punch_left", 20, None),
     ("punch_right", 21, None)],
)  # fmt: skip
def test_one_armed_gestures_use_the_named_arm(label, moving, still):
    params = {"cycles": 3, "height": "high", "period": 9.0} if "wave" in label else {
        "punches": 2, "extend": 4.0}  # fmt: skip
    joints, _ = pose_primitive(label, params)
    assert _max_travel(joints, moving) > 0.5
    if still is not None:
        assert _max_travel(joints, still) < 0.02
    other = 41 - moving  # 20 <-> 21
    assert joints[:, moving, 2].max() > joints[:, other, 2].max() + 0.1 or "wave" in label


@pytest.mark.parametrize("height", ["high", "low"])
def test_wave_left_raises_the_left_hand_on_the_body_left(height):
    """The body faces +Z at the start, so its left is +X: the waving left wrist stays at x > 0."""
    joints, _ = pose_primitive("wave_left", {"cycles": 2, "height": height, "period": 10.0})
    top = int(np.argmax(joints[:, 20, 1]))
    assert joints[top, 20, 1] > joints[top, 16, 1] - 0.1  # hand up near or above the shoulder
    assert joints[top, 20, 0] > 0.1
    assert joints[:, 21, 1].max() < joints[0, 21, 1] + 0.02


def test_left_and_right_waves_mirror_each_other():
    """Mirrored (x -> -x) wrist paths relative to the pelvis agree within a few centimetres
    (the target skeleton itself is slightly asymmetric)."""
    params = {"cycles": 3, "height": "high", "period": 9.0}
    left, _ = pose_primitive("wave_left", params)
    right, _ = pose_primitive("wave_right", params)
    mirrored = (right[:, 21] - right[:, 0]) * np.array([-1.0, 1.0, 1.0])
    assert np.abs((left[:, 20] - left[:, 0]) - mirrored).max() < 0.05


@pytest.mark.parametrize(
    ("label", "kicking", "support"), [("kick_left", 7, 8), ("kick_right", 8, 7)]
)
def test_kicks_lift_the_named_foot_only(label, kicking, support):
    joints, _ = pose_primitive(label, {"kicks": 1, "height": 0.5})
    assert joints[:, kicking, 1].max() > 0.4
    assert joints[:, kicking, 2].max() > joints[0, kicking, 2] + 0.3  # forwards (+Z)
    assert np.ptp(joints[:, support], axis=0).max() < 1e-6  # the support foot stays planted


@pytest.mark.parametrize(("label", "axis", "sign"), [
    ("walk", 2, 1.0), ("run", 2, 1.0), ("walk_backward", 2, -1.0), ("sidestep_left", 0, 1.0),
    ("sidestep_right", 0, -1.0), ("jump_forward", 2, 1.0),
])  # fmt: skip
def test_locomotion_moves_the_named_way(label, axis, sign):
    """Starting at the origin facing +Z: forward is +Z, the body's left is +X."""
    params = sample_params(label, np.random.default_rng(3))
    if label == "walk":
        params = {**params, "turn": 0.0}
    joints, _ = pose_primitive(label, params)
    shift = joints[-1, 0] - joints[0, 0]
    assert sign * shift[axis] > 0.2
    assert abs(shift[2 - axis]) < 0.5 * abs(shift[axis])


@pytest.mark.parametrize(("label", "sign"), [("turn_left", 1.0), ("turn_right", -1.0)])
@pytest.mark.parametrize("angle", [50.0, 100.0, 145.0])
def test_turns_change_heading_by_the_angle(label, sign, angle):
    joints, _ = pose_primitive(label, {"angle": angle, "cadence": 1.8})
    yaw = facing_yaw(joints)
    assert sign * (yaw[-1] - yaw[0]) == pytest.approx(math.radians(angle), abs=0.05)
    assert np.linalg.norm(joints[-1, 0, [0, 2]] - joints[0, 0, [0, 2]]) < 0.05  # on the spot


def test_jumps_leave_the_floor_and_squats_go_down():
    joints, _ = pose_primitive("jump_in_place", {"jumps": 2, "clearance": 0.25})
    airborne = (joints[:, [10, 11], 1] > 0.05).all(axis=1)
    assert airborne.sum() >= 4
    assert joints[:, 0, 1].max() > joints[0, 0, 1] + 0.2
    squat, _ = pose_primitive("squat", {"squats": 1, "depth": 0.4, "pace": 12.0, "hold": 4.0,
                                        "arms_forward": 0})  # fmt: skip
    assert joints[0, 0, 1] - squat[:, 0, 1].min() == pytest.approx(0.4, abs=0.03)


def test_fit_primitive_respects_the_frame_budget_and_heading_limit():
    geometry, style = body_geometry(), Style()
    rng = np.random.default_rng(0)
    for label in PRIMITIVE_LABELS:
        fitted = fit_primitive(label, rng, 0.0, 60, geometry, style)
        if fitted is not None:
            assert fitted[1].num_frames - 1 <= 60
    # Already turned 120 degrees left: no room for another >= 45 degree left turn.
    assert fit_primitive("turn_left", rng, math.radians(120), 200, geometry, style) is None
    fitted = fit_primitive("turn_right", rng, math.radians(120), 200, geometry, style)
    assert fitted is not None and float(fitted[0]["angle"]) <= 270.0


def test_concatenated_primitives_are_continuous():
    """Chained primitives share their boundary frame: joint speeds stay human everywhere."""
    geometry, style = body_geometry(), Style()
    rng = np.random.default_rng(11)
    parts = [Channels.standing(3, geometry, style)]
    for label in ("walk", "turn_left", "wave_right", "jump_forward", "sidestep_right"):
        parts.append(build_primitive(label, sample_params(label, rng), geometry, style))
    channels, spans = concatenate(parts, np.array([0.3, -0.2]), 0.7)
    joints = pose_joints(channels, geometry, style)
    assert spans[0][0] == 0 and spans[-1][1] == len(joints) - 1
    assert all(a[1] == b[0] for a, b in zip(spans[:-1], spans[1:], strict=True))
    speed = np.linalg.norm(np.diff(joints, axis=0), axis=-1).max() * 20.0
    assert speed < 12.0
