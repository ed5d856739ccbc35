"""GeneratedWriter's rigid joints: the forward kinematics of the BVH it wrote."""

import numpy as np

from remodiffuse.export.generated import GeneratedWriter
from remodiffuse.io import read_bvh
from remodiffuse.metrics import bone_lengths
from remodiffuse.motion import get_skeleton
from remodiffuse.pipeline import GeneratedMotion

SKELETON = get_skeleton("humanml3d")
FLOAT32_ATOL = 2e-6  # metres: float32 rounding of coordinates up to ~2 m, differenced


def stretching_motion(frames: int = 40) -> np.ndarray:
    """(T, 22, 3) float32 metres: the default skeleton walking along +z, every bone scaled by
    its own factor between 0.9 and 1.1 that changes over time (bones do not keep lengths)."""
    rng = np.random.default_rng(0)
    offsets = SKELETON.default_target_offsets.astype(np.float64)  # (22, 3)
    phase = rng.uniform(0, 2 * np.pi, 22)  # (22,)
    scale = 1 + 0.1 * np.sin(np.linspace(0, 4, frames)[:, None] + phase)  # (T, 22)
    joints = np.zeros((frames, 22, 3))
    joints[:, 0] = np.stack(
        [np.zeros(frames), np.full(frames, 0.95), np.linspace(0, 2, frames)], -1
    )
    for joint, parent in enumerate(SKELETON.parents):
        if parent >= 0:
            joints[:, joint] = joints[:, parent] + scale[:, joint, None] * offsets[joint]
    return joints.astype(np.float32)


def test_rigid_joints_are_the_bvh_forward_kinematics(tmp_path):
    joints = stretching_motion()
    motion = GeneratedMotion(
        text="a person walks", length=40, features=np.zeros((40, 263), np.float32),
        joints=joints, retrieved=[],
    )  # fmt: skip
    written = GeneratedWriter(tmp_path, "humanml3d", 20.0, render=False).write([motion])
    rigid_path = tmp_path / "0_a_person_walks.rigid_joints.npy"
    assert rigid_path in written
    rigid = np.load(rigid_path)  # (T, 22, 3)
    assert rigid.shape == joints.shape and rigid.dtype == joints.dtype

    lengths = bone_lengths(rigid, SKELETON.parents)  # (T, 21)
    assert np.ptp(lengths, axis=0).max() < FLOAT32_ATOL
    stretched = bone_lengths(joints, SKELETON.parents)
    assert (np.ptp(stretched, axis=0) / stretched.mean(axis=0)).min() > 0.05  # every bone varies
    np.testing.assert_allclose(lengths[0], stretched.mean(axis=0), atol=1e-5)  # mean lengths

    clip = read_bvh(tmp_path / "0_a_person_walks.bvh")  # centimetres
    order = [clip.index(name) for name in SKELETON.joint_names]
    np.testing.assert_allclose(rigid, clip.positions[:, order] / 100.0, atol=FLOAT32_ATOL)
