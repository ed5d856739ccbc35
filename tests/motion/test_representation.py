"""Joints -> features -> joints on synthetic motions, torch/numpy recovery and input checks."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
import torch

from remodiffuse.motion import (
    features_from_joints,
    get_skeleton,
    joints_from_features,
    joints_from_rotations,
    process_motion,
    root_from_features,
)

ATOL = {"humanml3d": 1e-5, "kit": 1e-2}
# float32 on both sides, summed in another order by torch and numpy (which order depends on the
# CPU's kernels): 1.25e-7 relative seen on an AVX-512 Xeon, so allow 8 ulps
FLOAT32_RTOL = 1e-6

MakeMotion = Callable[..., np.ndarray]


@pytest.fixture
def target_offsets(make_offsets: MakeMotion) -> Callable[[str], np.ndarray | None]:
    """Target offsets per skeleton: HumanML3D uses its default, KIT random offsets."""
    return lambda name: None if name == "humanml3d" else make_offsets(name, 1)


@pytest.mark.parametrize("name", ["humanml3d", "kit"])
def test_round_trip(make_motion: MakeMotion, target_offsets: Callable, name: str) -> None:
    skel = get_skeleton(name)
    joints = make_motion(name, frames=80, seed=2)
    out = process_motion(joints, name, target_offsets(name))
    features = out["features"]
    assert features.shape == (79, skel.feature_dim) and features.dtype == np.float32
    np.testing.assert_array_equal(
        features, features_from_joints(joints, name, target_offsets(name))
    )
    recovered = joints_from_features(features, name)
    np.testing.assert_allclose(recovered, out["global_positions"][:-1], atol=ATOL[name])
    parents = list(skel.parents[1:])
    by_rotation = joints_from_rotations(features, name, target_offsets(name))
    lengths = np.linalg.norm(by_rotation[:, 1:] - by_rotation[:, parents], axis=-1)
    retargeted = out["uniform_skeleton_joints"][:-1]
    expected = np.linalg.norm(retargeted[:, 1:] - retargeted[:, parents], axis=-1)
    np.testing.assert_allclose(lengths, expected, rtol=1e-4)
    if name == "humanml3d":  # target offsets parallel to the raw offsets: FK reproduces the pose
        np.testing.assert_allclose(by_rotation, recovered, atol=1e-5)


def test_rigid_invariance(make_motion: MakeMotion) -> None:
    joints = make_motion("humanml3d", frames=50, seed=3)
    angle = 2.1
    rot = np.array(
        [[np.cos(angle), 0, np.sin(angle)], [0, 1, 0], [-np.sin(angle), 0, np.cos(angle)]]
    )
    moved = joints @ rot.T + np.array([1.5, 0.2, -3.0])
    np.testing.assert_allclose(features_from_joints(moved), features_from_joints(joints), atol=1e-4)


@pytest.mark.parametrize("name", ["humanml3d", "kit"])
def test_torch_batched_matches_numpy(
    make_motion: MakeMotion, target_offsets: Callable, name: str
) -> None:
    batch = np.stack(
        [
            features_from_joints(make_motion(name, 40, seed=s), name, target_offsets(name))
            for s in (4, 5)
        ]
    )  # (B, T, D)
    tensor = torch.from_numpy(batch)
    joints_t = joints_from_features(tensor, name)
    assert isinstance(joints_t, torch.Tensor) and joints_t.shape == (
        2,
        39,
        get_skeleton(name).num_joints,
        3,
    )
    for b in range(2):
        np.testing.assert_allclose(
            joints_t[b].numpy(), joints_from_features(batch[b], name), rtol=FLOAT32_RTOL
        )
    quat_t, pos_t = root_from_features(tensor)
    quat, pos = root_from_features(batch[1])
    np.testing.assert_allclose(quat_t[1].numpy(), quat, rtol=FLOAT32_RTOL)
    np.testing.assert_allclose(pos_t[1].numpy(), pos, rtol=FLOAT32_RTOL)
    rot_t = joints_from_rotations(tensor, name, target_offsets(name))
    np.testing.assert_allclose(
        rot_t[0].numpy(),
        joints_from_rotations(batch[0], name, target_offsets(name)),
        rtol=FLOAT32_RTOL,
    )


def test_torch_dtype_and_gradient(make_motion: MakeMotion) -> None:
    features = features_from_joints(make_motion("humanml3d", 30, seed=6)).astype(np.float64)
    tensor = torch.from_numpy(features).requires_grad_(True)
    joints = joints_from_features(tensor)
    assert joints.dtype == torch.float64 and joints.device == tensor.device
    joints.square().sum().backward()
    assert tensor.grad is not None and torch.isfinite(tensor.grad).all()
    assert tensor.grad[:, :4].abs().sum() > 0
    np.testing.assert_allclose(joints.detach().numpy(), joints_from_features(features))


def test_bad_inputs(make_motion: MakeMotion) -> None:
    joints = make_motion("humanml3d", 10)
    with pytest.raises(ValueError, match=r"\(T, 22, 3\)"):
        features_from_joints(joints[:, :21])
    with pytest.raises(ValueError, match=r"\(T, 22, 3\)"):
        features_from_joints(joints[0])
    with pytest.raises(ValueError, match="at least 2 frames"):
        features_from_joints(joints[:1])
    broken = joints.copy()
    broken[3, 4, 1] = np.inf
    with pytest.raises(ValueError, match="NaN or infinite"):
        features_from_joints(broken)
    with pytest.raises(ValueError, match="valid names"):
        features_from_joints(joints, "smpl")
    with pytest.raises(ValueError, match="target_offsets"):
        features_from_joints(make_motion("kit", 10), "kit")
    with pytest.raises(ValueError, match="target_offsets"):
        features_from_joints(joints, target_offsets=np.zeros((21, 3)))
    with pytest.raises(ValueError, match="263 channels"):
        joints_from_features(np.zeros((5, 251), np.float32))
    with pytest.raises(ValueError, match=r"\(\.\.\., T, D\)"):
        joints_from_features(torch.zeros(263))
    with pytest.raises(ValueError, match="offsets"):
        joints_from_rotations(np.zeros((5, 251), np.float32), "kit")


def test_degenerate_pose_is_a_clear_error(make_motion: MakeMotion) -> None:
    joints = make_motion("humanml3d", 10)
    joints[:, 4] = joints[:, 1]  # zero-length thigh: the reference would give NaN features
    with pytest.raises(ValueError, match="degenerate"):
        features_from_joints(joints)
