"""Importing the real CMU takes (../shared/data/cmu-mini, see `require_fixture`): the dataset loads
and the motions pass the synthetic set's physical checks, except known toe-sliding takes."""

import json

import numpy as np
import pytest

from remodiffuse.data import TextMotionDataset
from remodiffuse.data.dataset import crop_length
from remodiffuse.export.bvh import write_bvh
from remodiffuse.io.bvh import read_bvh
from remodiffuse.io.importer import import_motion, prepare_dataset
from remodiffuse.motion import get_skeleton
from remodiffuse.motion.recovery import joints_from_features
from remodiffuse.motion.representation import features_from_joints

# Takes over the toe-sliding limit, measured: feet on playground bars / uneven terrain reach the
# toe's lowest height only in a few frames (01_*, 03_02), a 1.4 s run with 5 planted frames
# (02_03), a pivot while starting to walk (131_02). See docs/mocap.md.
TOE_SLIDING = {"01_02", "01_04", "01_08", "01_12", "01_13", "02_03", "03_02", "131_02"}
SUBSET = ("asfamc/02.asf", "asfamc/02_01.amc", "asfamc/02_02.amc", "bvh/131_01.bvh")


def _check_dataset(root, report) -> None:
    """Every imported motion is finite, loads, and passes the physical checks (but TOE_SLIDING)."""
    for motion_id, motion in report["motions"].items():
        physical = motion["physical"]
        assert physical["bone_length_variation"] < 0.02 and physical["penetration"] < 0.05
        assert physical["max_joint_speed"] < 15.0
        assert physical["passed"] == (motion_id not in TOE_SLIDING), (motion_id, physical)
        assert motion["up_axis"] == "+y" and not motion["dropped_first_frame"]
        features = np.load(root / "new_joint_vecs" / f"{motion_id}.npy")
        assert features.shape == (motion["frames"], 263) and np.isfinite(features).all()
    train_ids = (root / "train.txt").read_text().split()
    long_enough = [i for i in train_ids if crop_length(report["motions"][i]["frames"], 4) >= 40]
    train = TextMotionDataset(root, "train", long_motions="window")  # as the training loader
    assert sorted(clip.motion_id for clip in train.records) == long_enough


def test_cmu_subset(tmp_path, require_fixture):
    cmu = require_fixture("data", "cmu-mini")
    source = tmp_path / "takes"
    source.mkdir()
    for relative in SUBSET:  # links in tmp_path: the data is never copied
        (source / relative.split("/")[1]).symlink_to(cmu / relative)

    report = prepare_dataset(source, tmp_path / "out", captions=cmu / "cmu-descriptions.csv")

    assert report["imported"] == 3 and report["skipped"] == 0 and report["uncaptioned"] == 0
    assert report["motions"]["02_01"]["captions"] == ["walk"]
    assert report["motions"]["131_01"]["joint_map"] == "cmu_bvh"
    assert report["motions"]["02_01"]["frames"] == 57  # 343 frames at 120 fps -> 58 at 20 fps
    _check_dataset(tmp_path / "out", report)


@pytest.mark.slow
def test_cmu_all_takes(tmp_path, require_fixture):
    cmu = require_fixture("data", "cmu-mini")
    report = prepare_dataset(cmu, tmp_path / "out", captions=cmu / "cmu-descriptions.csv")
    assert report["imported"] == 31 and report["skipped"] == 0 and report["uncaptioned"] == 0
    assert report["splits"] == {"train": 25, "val": 2, "test": 4}
    assert set(report["physical_failed"]) == TOE_SLIDING
    assert json.loads((tmp_path / "out" / "report.json").read_text())["imported"] == 31
    _check_dataset(tmp_path / "out", report)


# HumanML3D's branching groups: (parent, its children), each one rigid body in the skeleton.
RIGID_GROUPS = {"pelvis": (0, 1, 2, 3), "spine3": (9, 12, 13, 14)}


@pytest.mark.parametrize("take", ["bvh/131_01.bvh", "asfamc/02_01.amc"])
def test_cmu_take_round_trips_through_the_bvh_export(take, tmp_path, require_fixture):
    """The imported take's pelvis and upper-spine groups stay rigid, so the rigid BVH written
    from its recovered joints reproduces them within 1 mm."""
    imported = import_motion(require_fixture("data", "cmu-mini") / take)
    recovered = np.asarray(joints_from_features(features_from_joints(imported.joints)))
    for group in RIGID_GROUPS.values():
        points = recovered[:, group]  # (T, 4, 3)
        distances = np.linalg.norm(points[:, :, None] - points[:, None], axis=-1)  # (T, 4, 4)
        assert np.ptp(distances, axis=0).max() < 1e-4  # metres
    write_bvh(recovered, tmp_path / "take.bvh", fps=20, skeleton="humanml3d")
    clip = read_bvh(tmp_path / "take.bvh")
    order = [clip.joint_names.index(name) for name in get_skeleton("humanml3d").joint_names]
    written = clip.positions[:, order] * 0.01  # (T, 22, 3) the BVH is in centimetres
    assert np.linalg.norm(written - recovered, axis=-1).max() < 1e-3
