"""Skeleton definitions and lookup."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from remodiffuse.motion import Skeleton, get_skeleton
from remodiffuse.motion.kinematics import bone_offsets


@pytest.mark.parametrize(
    ("name", "joints", "dim", "unit"), [("humanml3d", 22, 263, "m"), ("kit", 21, 251, "mm")]
)
def test_sizes(name: str, joints: int, dim: int, unit: str) -> None:
    skel = get_skeleton(name)
    assert skel.num_joints == joints == len(skel.parents) == len(skel.raw_offsets)
    assert skel.feature_dim == dim
    assert skel.unit == unit
    slices = list(skel.feature_slices.values())
    assert slices[0].start == 0 and slices[-1].stop == dim
    assert all(a.stop == b.start for a, b in zip(slices[:-1], slices[1:], strict=True))


def test_lookup() -> None:
    assert get_skeleton("t2m") is get_skeleton("HumanML3D") is get_skeleton("humanml3d")
    kit = get_skeleton("kit")
    assert get_skeleton(kit) is kit
    with pytest.raises(ValueError, match="humanml3d, t2m, kit"):
        get_skeleton("smplx")


@pytest.mark.parametrize("name", ["humanml3d", "kit"])
def test_structure(name: str) -> None:
    skel = get_skeleton(name)
    assert skel.parents[0] == -1 and all(p >= 0 for p in skel.parents[1:])
    for chain in skel.kinematic_chain:
        for parent, child in zip(chain[:-1], chain[1:], strict=True):
            assert skel.parents[child] == parent
    np.testing.assert_array_equal(np.abs(skel.raw_offsets[1:]).sum(axis=1), 1.0)
    flip = np.array([-1.0, 1.0, 1.0])
    for a, b in skel.left_right_pairs:
        np.testing.assert_array_equal(skel.raw_offsets[b], skel.raw_offsets[a] * flip)
    pairs = {frozenset(p) for p in skel.left_right_pairs}
    for left, right in zip(skel.foot_left, skel.foot_right, strict=True):
        assert frozenset((left, right)) in pairs
    assert frozenset(skel.face_joints[:2]) in pairs and frozenset(skel.face_joints[2:]) in pairs


def test_frozen() -> None:
    skel = get_skeleton("humanml3d")
    with pytest.raises(dataclasses.FrozenInstanceError):
        skel.fps = 30.0  # type: ignore[misc]
    with pytest.raises(ValueError):
        skel.raw_offsets[0, 0] = 1.0
    assert isinstance(skel, Skeleton) and get_skeleton("kit").default_target_offsets is None


def test_default_offsets_match_example_000021(require_fixture: Callable[..., Path]) -> None:
    path = require_fixture("data", "humanml3d-meta", "raw_joints_000021.npy")
    skel = get_skeleton("humanml3d")
    expected = bone_offsets(np.load(path)[0, :22], skel).astype(np.float32)
    assert skel.default_target_offsets.dtype == np.float32
    np.testing.assert_allclose(skel.default_target_offsets, expected, rtol=0, atol=1e-7)


def test_constants_match_reference_skeleton(require_fixture: Callable[..., Path]) -> None:
    path = require_fixture("fixtures", "humanml3d-representation", "target_skeleton.npz")
    ref = np.load(path)
    humanml3d, kit = get_skeleton("humanml3d"), get_skeleton("kit")
    np.testing.assert_array_equal(humanml3d.raw_offsets, ref["t2m_raw_offsets"])
    np.testing.assert_array_equal(kit.raw_offsets, ref["kit_raw_offsets"])
    lengths = np.linalg.norm(humanml3d.default_target_offsets, axis=1)
    np.testing.assert_allclose(lengths, np.linalg.norm(ref["t2m_tgt_offsets"], axis=1), atol=1e-6)
