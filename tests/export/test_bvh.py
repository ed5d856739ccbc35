"""BVH export: file structure, and positions back through the BVH reader (round trip)."""

import re

import numpy as np
import pytest
import torch

from remodiffuse.export import write_bvh
from remodiffuse.io import read_bvh, retarget_clip
from remodiffuse.io.rotations import euler_to_matrix
from remodiffuse.motion import get_skeleton

SKELETON = get_skeleton("humanml3d")
NAMES = SKELETON.joint_names
# README: BVH files read back within 1 micrometre of the joints of the real sample (measured
# 6.6e-7 m); 1.5x margin.
REAL_ROUND_TRIP_ATOL = 1.5e-6  # metres


def fk_motion(frames: int = 30, seed: int = 0) -> np.ndarray:
    """(T, 22, 3) metres: random joint rotations on a skeleton whose branches (hips, collars)
    are not along the rest axes, so the branching joints need a full rotation."""
    rng = np.random.default_rng(seed)
    offsets = SKELETON.default_target_offsets.astype(np.float64)
    offsets[1], offsets[2] = [0.07, -0.08, -0.01], [-0.07, -0.08, -0.01]
    offsets[13], offsets[14] = [0.08, 0.09, -0.02], [-0.08, 0.09, -0.02]
    rotations = euler_to_matrix(rng.uniform(-0.6, 0.6, (frames, 22, 3)), "ZXY")  # (T, 22, 3, 3)
    rotations[:, 0] = euler_to_matrix(
        np.stack([np.zeros(frames), np.linspace(0, 4, frames), np.zeros(frames)], -1), "XYZ"
    )
    joints = np.zeros((frames, 22, 3))
    joints[:, 0] = np.stack([np.linspace(0, 1, frames), np.full(frames, 0.9), np.zeros(frames)], -1)
    for joint, parent in enumerate(SKELETON.parents):
        if parent >= 0:
            rotations[:, joint] = rotations[:, parent] @ rotations[:, joint]
            joints[:, joint] = joints[:, parent] + rotations[:, parent] @ offsets[joint]
    return joints


def round_trip_error(joints: np.ndarray, tmp_path, unit: str = "cm") -> np.ndarray:
    """Per-joint position error (T, 22), metres, of write_bvh -> read_bvh."""
    clip = read_bvh(write_bvh(joints, tmp_path / "motion.bvh", unit=unit))
    scale = 100.0 if unit == "cm" else 1.0
    read = clip.positions[:, [clip.index(name) for name in NAMES]] / scale
    return np.linalg.norm(read - joints, axis=-1)


def test_file_structure(tmp_path):
    path = write_bvh(fk_motion(7), tmp_path / "out" / "motion.bvh", fps=20)
    text = path.read_text()
    assert text.startswith("HIERARCHY\nROOT pelvis\n{\n")
    assert re.findall(r"(?:ROOT|JOINT) (\w+)", text) == [
        "pelvis", "left_hip", "left_knee", "left_ankle", "left_foot", "right_hip", "right_knee",
        "right_ankle", "right_foot", "spine1", "spine2", "spine3", "neck", "head", "left_collar",
        "left_shoulder", "left_elbow", "left_wrist", "right_collar", "right_shoulder",
        "right_elbow", "right_wrist",
    ]  # fmt: skip
    assert text.count("End Site") == 5  # feet, head, wrists
    assert text.count("CHANNELS 6 Xposition Yposition Zposition Yrotation Xrotation Zrotation") == 1
    assert text.count("CHANNELS 3 Yrotation Xrotation Zrotation") == 21
    assert "MOTION\nFrames: 7\nFrame Time: 0.05000000\n" in text
    rows = text.split("Frame Time: 0.05000000\n")[1].strip().splitlines()
    assert len(rows) == 7 and all(len(row.split()) == 6 + 21 * 3 for row in rows)
    clip = read_bvh(path)
    assert clip.fps == 20.0 and clip.num_frames == 7
    assert set(NAMES) < set(clip.joint_names)


def test_rest_offsets_are_mean_bone_lengths_along_the_rest_directions(tmp_path):
    joints = fk_motion(10)
    text = write_bvh(joints, tmp_path / "motion.bvh", unit="m").read_text()
    offsets = {
        name: np.array(values.split(), dtype=float)
        for name, values in re.findall(r"JOINT (\w+)\s*\{\s*OFFSET ([^\n]+)", text)
    }
    knee = np.linalg.norm(joints[:, NAMES.index("left_knee")] - joints[:, 1], axis=-1).mean()
    np.testing.assert_allclose(offsets["left_knee"], [0.0, -knee, 0.0], atol=1e-6)
    hip = np.linalg.norm(joints[:, 1] - joints[:, 0], axis=-1).mean()
    assert np.linalg.norm(offsets["left_hip"]) == pytest.approx(hip, abs=1e-6)
    assert offsets["left_hip"][0] > 0 > offsets["right_hip"][0]  # hips on their own sides


@pytest.mark.parametrize("unit", ["cm", "m"])
def test_round_trip_of_a_rigid_skeleton_motion(tmp_path, unit):
    error = round_trip_error(fk_motion(40), tmp_path, unit)
    assert error.max() < 1e-4  # metres; limited by the 6 decimals of the file


def test_round_trip_of_the_real_humanml3d_sample(tmp_path, require_fixture):
    real = require_fixture(
        "fixtures", "humanml3d-representation", "real_sample", "000000_new_joints.npy"
    )
    joints = np.load(real).astype(np.float64)  # (116, 22, 3)
    error = round_trip_error(joints, tmp_path).max()  # metres
    assert error < REAL_ROUND_TRIP_ATOL, f"max round-trip error {error:.3g} m"


def test_round_trip_on_the_kit_skeleton_in_millimetres(tmp_path):
    kit = get_skeleton("kit")
    rng = np.random.default_rng(3)
    offsets = kit.raw_offsets * rng.uniform(100.0, 300.0, (21, 1))  # mm
    offsets[[11, 16], 1] = -60.0  # hips below the root: a branch off the rest axes
    rotations = euler_to_matrix(rng.uniform(-0.5, 0.5, (25, 21, 3)), "XYZ")  # (T, 21, 3, 3)
    joints = np.zeros((25, 21, 3))
    joints[:, 0, 1] = 1000.0
    for joint, parent in enumerate(kit.parents):
        if parent >= 0:
            rotations[:, joint] = rotations[:, parent] @ rotations[:, joint]
            joints[:, joint] = joints[:, parent] + rotations[:, parent] @ offsets[joint]
    clip = read_bvh(write_bvh(joints, tmp_path / "kit.bvh", skeleton="kit", unit="m"))
    read = clip.positions[:, [clip.index(name) for name in kit.joint_names]] * 1000.0
    assert np.abs(read - joints).max() < 0.01  # mm


def test_written_file_imports_back_to_the_same_joints(tmp_path):
    joints = fk_motion(12)
    joints[..., 1] -= joints[..., 1].min()
    path = write_bvh(torch.tensor(joints, dtype=torch.float32), tmp_path / "motion.bvh")
    result = retarget_clip(read_bvh(path))
    assert result.joint_map == "smpl" and result.metres_per_unit == 0.01
    np.testing.assert_allclose(result.joints, joints, atol=1e-5)


@pytest.mark.parametrize(
    ("joints", "kwargs", "message"),
    [
        (np.zeros((5, 21, 3)), {}, "shape"),
        (np.full((5, 22, 3), np.nan), {}, "finite"),
        (np.zeros((0, 22, 3)), {}, "at least one frame"),
        (np.zeros((5, 22, 3)), {"fps": 0}, "fps"),
        (np.zeros((5, 22, 3)), {"unit": "mm"}, "unit"),
    ],
)
def test_bad_input(tmp_path, joints, kwargs, message):
    with pytest.raises(ValueError, match=message):
        write_bvh(joints, tmp_path / "bad.bvh", **kwargs)
