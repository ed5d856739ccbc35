"""A BVH of a generated motion read by an independent parser (the PyPI `bvh` package) and an
independent Euler convention (scipy): names, channels, frames, frame time, offsets and every
channel value agree with the library's reader and with the arrays the writer solved."""

import numpy as np
import pytest
from bvh import Bvh
from scipy.spatial.transform import Rotation

from remodiffuse.export import check_bvh, write_bvh
from remodiffuse.export.bvh import rest_offsets, solve_rotations
from remodiffuse.io.bvh import parse_bvh
from remodiffuse.motion import get_skeleton
from remodiffuse.pipeline import MotionGenerator

SKELETON = get_skeleton("humanml3d")
FILE_PRECISION = 5e-7  # half the last of the 6 decimals written, in file units (cm, degrees)


@pytest.fixture(scope="module")
def written(tiny_trained_run, tmp_path_factory):
    """(joints (T, 22, 3) of a generated motion, metres; the BVH written from them)."""
    generator = MotionGenerator(tiny_trained_run[0])
    motion = generator.generate(["a person walks forward"], [60], seed=0, steps=4)[0]
    path = write_bvh(motion.joints, tmp_path_factory.mktemp("independent") / "walk.bvh", fps=20)
    return motion.joints.astype(np.float64), path


def test_structure_matches_the_library_reader(written):
    joints, path = written
    mocap, summary = Bvh(path.read_text()), check_bvh(path)
    names = mocap.get_joints_names()  # ROOT and JOINTs, End Sites apart
    assert names == list(summary.joints) and set(names) == set(SKELETON.joint_names)
    assert [mocap.joint_channels(name) for name in names] == [list(c) for c in summary.channels]
    parents = [mocap.joint_parent_index(name) for name in names]
    assert parents == list(summary.parents)
    assert mocap.nframes == summary.frames == joints.shape[0] == len(mocap.frames)
    assert float(mocap.frame_time) == summary.frame_time == pytest.approx(1 / 20)


def test_every_value_matches_the_reader_and_the_written_arrays(written):
    joints, path = written
    text = path.read_text()
    mocap, data = Bvh(text), parse_bvh(text, path)
    values = np.array(mocap.frames, dtype=np.float64)  # (T, 69)
    np.testing.assert_array_equal(values, data.values)
    by_name = {joint.name: joint for joint in data.joints}
    positions = joints * 100.0  # (T, 22, 3) cm, as written
    offsets = rest_offsets(positions, SKELETON)  # (22, 3)
    rotations = solve_rotations(positions, SKELETON.parents, offsets)  # (T, 22, 3, 3) global
    for name in mocap.get_joints_names():
        joint = SKELETON.joint_names.index(name)
        parent = SKELETON.parents[joint]
        np.testing.assert_array_equal(mocap.joint_offset(name), by_name[name].offset)
        if parent >= 0:
            np.testing.assert_allclose(
                mocap.joint_offset(name), offsets[joint], atol=FILE_PRECISION
            )
        channels = mocap.joint_channels(name)
        start = mocap.get_joint_channels_index(name)
        columns = values[:, start : start + len(channels)]  # (T, C_j)
        moved = [n for n, channel in enumerate(channels) if channel.endswith("position")]
        if moved:
            np.testing.assert_allclose(columns[:, moved], positions[:, joint], atol=FILE_PRECISION)
        turned = [n for n, channel in enumerate(channels) if channel.endswith("rotation")]
        axes = "".join(channels[n][0] for n in turned)  # upper case: intrinsic, in file order
        local = Rotation.from_euler(axes, columns[:, turned], degrees=True).as_matrix()
        solved = rotations[:, joint]
        if parent >= 0:
            solved = np.swapaxes(rotations[:, parent], -1, -2) @ solved
        np.testing.assert_allclose(local, solved, atol=1e-6)
