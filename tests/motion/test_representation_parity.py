"""Parity of the motion representation with outputs of the reference HumanML3D code.

Fixtures: ../shared/fixtures/humanml3d-representation (the root is $REMODIFFUSE_FIXTURES when set).
Every `seq*.npz` / `kit*.npz` file found there is checked; a missing fixture skips the test, or
fails it under CI=true / REMODIFFUSE_REQUIRE_FIXTURES=1 (`require_fixture` of tests/conftest.py).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch

from remodiffuse.motion import (
    features_from_joints,
    get_skeleton,
    joints_from_features,
    joints_from_rotations,
    mean_std,
    normalize,
    process_motion,
    root_from_features,
)
from remodiffuse.motion.kinematics import inverse_kinematics

REPR = ("fixtures", "humanml3d-representation")
# `case` runs once per reference sequence (see pytest_generate_tests in tests/conftest.py).
pytestmark = pytest.mark.fixture_files(*REPR, patterns=("seq*.npz", "kit*.npz"))

# Suggested tolerances of the fixture README: positions in metres (HumanML3D) or mm (KIT).
POSITION_ATOL = {"humanml3d": 1e-4, "kit": 1e-2}
ANGLE_ATOL = 1e-4


def _skeleton_name(path: Path) -> str:
    """Skeleton of a fixture file: `kit*` files are KIT, the rest HumanML3D."""
    return "kit" if path.stem.startswith("kit") else "humanml3d"


@pytest.fixture(scope="module")
def summary(require_fixture: Callable[..., Path]) -> dict:
    """summary.json of the fixture set."""
    return json.loads(require_fixture(*REPR, "summary.json").read_text())


@pytest.fixture(scope="module")
def case(fixture_file: tuple[str, ...], require_fixture: Callable[..., Path]) -> dict:
    """Reference arrays and our intermediates for one fixture sequence."""
    path = require_fixture(*fixture_file)
    ref = dict(np.load(path))
    name = _skeleton_name(path)
    ours = process_motion(ref["input_joints"], name, ref["tgt_offsets"])
    return {"stem": path.stem, "skeleton": get_skeleton(name), "ref": ref, "ours": ours}


def _close(case: dict, key: str, atol: float) -> None:
    """Assert that our intermediate `key` matches the reference within atol."""
    assert key in case["ref"], f"{key} not stored in {case['stem']}"
    ours = np.asarray(case["ours"][key], dtype=np.float64)
    ref = np.asarray(case["ref"][key], dtype=np.float64)
    assert ours.shape == ref.shape, key
    np.testing.assert_allclose(ours, ref, rtol=0, atol=atol, err_msg=f"{case['stem']}: {key}")


@pytest.mark.parametrize(
    ("key", "kind"),
    [
        ("uniform_scale_rt", "angle"),
        ("uniform_skeleton_joints", "position"),
        ("floor_height", "position"),
        ("root_pose_init_xz", "position"),
        ("init_across", "angle"),
        ("init_forward", "angle"),
        ("init_root_quat", "angle"),
        ("global_positions", "position"),
        ("ik_forward_smoothed", "angle"),
        ("quat_params", "angle"),
        ("cont6d_params", "angle"),
        ("r_rot", "angle"),
        ("r_velocity_quat", "angle"),
        ("root_rot_velocity", "angle"),
        ("root_linear_velocity", "position"),
        ("root_velocity_3d", "position"),
        ("root_y", "position"),
        ("ric_positions", "position"),
        ("local_velocity", "position"),
    ],
)
def test_intermediates(case: dict, key: str, kind: str) -> None:
    atol = POSITION_ATOL[case["skeleton"].name] if kind == "position" else ANGLE_ATOL
    _close(case, key, atol)


def test_uniform_skeleton_ik(case: dict) -> None:
    assert "uniform_ik_quat" in case["ref"], f"uniform_ik_quat not stored in {case['stem']}"
    quats, _ = inverse_kinematics(case["ref"]["input_joints"], case["skeleton"], smooth_sigma=None)
    np.testing.assert_allclose(quats, case["ref"]["uniform_ik_quat"], rtol=0, atol=ANGLE_ATOL)


def test_foot_contacts_exact(case: dict) -> None:
    for key in ("feet_l", "feet_r"):
        np.testing.assert_array_equal(case["ours"][key], case["ref"][key], err_msg=key)
    contacts = case["skeleton"].feature_slices["foot_contacts"]
    np.testing.assert_array_equal(
        case["ours"]["features"][:, contacts], case["ref"]["features"][:, contacts]
    )


def test_features_per_block(case: dict) -> None:
    skel, ref = case["skeleton"], case["ref"]
    ours = features_from_joints(ref["input_joints"], skel, ref["tgt_offsets"])
    assert ours.dtype == np.float32
    assert ours.shape == ref["features"].shape == (len(ref["input_joints"]) - 1, skel.feature_dim)
    angle_blocks = {"root_rot_velocity", "rotations_6d"}
    for block, cols in skel.feature_slices.items():
        atol = ANGLE_ATOL if block in angle_blocks else POSITION_ATOL[skel.name]
        if block == "foot_contacts":
            atol = 0.0
        np.testing.assert_allclose(
            ours[:, cols], ref["features"][:, cols], rtol=0, atol=atol, err_msg=block
        )


def test_heading_wrap_rows(case: dict, summary: dict) -> None:
    meta = summary["sequences"][case["stem"]]
    wrapped = np.flatnonzero(case["ours"]["r_velocity_quat"][:, 0] < 0).tolist()
    assert wrapped == meta["heading_wrap_rows"]
    recovered = joints_from_features(case["ours"]["features"], case["skeleton"])
    drift = np.abs(recovered - case["ours"]["global_positions"][:-1]).max()
    atol = POSITION_ATOL[case["skeleton"].name]
    assert drift == pytest.approx(meta["recovered_ric_vs_global_max_abs"], abs=atol)


def test_recovery_of_reference_features(case: dict) -> None:
    skel, ref = case["skeleton"], case["ref"]
    atol = POSITION_ATOL[skel.name]
    quat, pos = root_from_features(ref["features"])
    np.testing.assert_allclose(quat, ref["recovered_root_quat"], rtol=0, atol=ANGLE_ATOL)
    np.testing.assert_allclose(pos, ref["recovered_root_pos"], rtol=0, atol=atol)
    joints = joints_from_features(ref["features"], skel)
    np.testing.assert_allclose(joints, ref["recovered_ric"], rtol=0, atol=atol)
    batched = joints_from_features(torch.from_numpy(ref["features"])[None], skel)[0]
    np.testing.assert_allclose(batched.numpy(), ref["recovered_ric"], rtol=0, atol=atol)
    if "recovered_rot" in ref:
        rot = joints_from_rotations(ref["features"], skel, ref["tgt_offsets"])
        np.testing.assert_allclose(rot, ref["recovered_rot"], rtol=0, atol=atol)


def test_recovery_of_our_features(case: dict) -> None:
    skel = case["skeleton"]
    joints = joints_from_features(case["ours"]["features"], skel)
    np.testing.assert_allclose(
        joints, case["ref"]["recovered_ric"], rtol=0, atol=POSITION_ATOL[skel.name]
    )


@pytest.mark.parametrize("dataset", ["t2m", "kit"])
def test_mean_std(dataset: str, require_fixture: Callable[..., Path]) -> None:
    stats = np.load(require_fixture(*REPR, f"mean_std_{dataset}.npz"))
    directory = require_fixture(*REPR)
    skel = get_skeleton(dataset)
    sequences = [
        np.load(directory / Path(name).with_suffix(".npz")) for name in sorted(stats["files"])
    ]
    # README: from the reference features, Mean/Std match bit for bit.
    reference = mean_std([seq["features"] for seq in sequences], skel)
    np.testing.assert_array_equal(reference[0], stats["Mean"])
    np.testing.assert_array_equal(reference[1], stats["Std"])
    ours = [features_from_joints(s["input_joints"], skel, s["tgt_offsets"]) for s in sequences]
    mean, std = mean_std(ours, skel)
    np.testing.assert_allclose(mean, stats["Mean"], rtol=0, atol=POSITION_ATOL[skel.name])
    np.testing.assert_allclose(std, stats["Std"], rtol=1e-4, atol=0)
    for key in (k for k in stats.files if k.endswith("_normalized_remodiffuse")):
        stem_prefix = key.removesuffix("_normalized_remodiffuse")
        source = next(n for n in sorted(stats["files"]) if n.startswith(stem_prefix))
        features = np.load(directory / Path(source).with_suffix(".npz"))["features"]
        np.testing.assert_allclose(
            normalize(features, stats["Mean"], stats["Std"]), stats[key], rtol=1e-6, atol=1e-6
        )


@pytest.fixture(scope="module")
def real_sample(require_fixture: Callable[..., Path]) -> Callable[[str], np.ndarray]:
    """Loader of the arrays of real_sample/ (see `require_fixture`)."""
    return lambda name: np.load(require_fixture(*REPR, "real_sample", name))


def test_real_sample_features(real_sample: Callable[[str], np.ndarray], summary: dict) -> None:
    joints = real_sample("000000_new_joints.npy")
    original = real_sample("000000_new_joint_vecs.npy")[:-1]
    reported = summary["seq00_vs_original_features"]
    error = np.abs(features_from_joints(joints, "humanml3d") - original)  # (T-1, 263)
    assert error[:40].max() <= reported["max_abs_first40"] + 1e-5
    assert error.max() <= reported["max_abs_all"] + 1e-4


def test_real_sample_recovery(real_sample: Callable[[str], np.ndarray]) -> None:
    joints = real_sample("000000_new_joints.npy")
    features = real_sample("000000_new_joint_vecs.npy")
    np.testing.assert_allclose(joints_from_features(features, "humanml3d"), joints, atol=1e-4)


def test_real_sample_std_is_block_constant(real_sample: Callable[[str], np.ndarray]) -> None:
    std = real_sample("humanml3d_dataset_Std.npy")
    for block, cols in get_skeleton("humanml3d").feature_slices.items():
        np.testing.assert_allclose(std[cols], std[cols][0], rtol=1e-6, err_msg=block)
