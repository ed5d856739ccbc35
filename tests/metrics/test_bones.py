"""Bone-length variation: zero on a rigid motion, known values on a stretched one."""

import numpy as np
import pytest

from remodiffuse.errors import InputError
from remodiffuse.metrics import bone_length_variation, bone_lengths

# a chain root -> a -> b, bones along +y
PARENTS = (-1, 0, 1)


def rigid_chain(frames: int = 20) -> np.ndarray:
    """(T, 3, 3) metres: bones of 0.3 and 0.2 m turning about z while the root travels."""
    angle = np.linspace(0.0, 2.0, frames)  # (T,)
    direction = np.stack([np.sin(angle), np.cos(angle), np.zeros(frames)], -1)  # (T, 3)
    root = np.stack([np.linspace(0, 1, frames), np.full(frames, 0.9), np.zeros(frames)], -1)
    return np.stack([root, root + 0.3 * direction, root + 0.5 * direction], axis=1)


def test_bone_lengths_of_a_chain():
    lengths = bone_lengths(rigid_chain(), PARENTS)  # (T, 2)
    np.testing.assert_allclose(lengths, np.tile([0.3, 0.2], (20, 1)), atol=1e-12)


def test_a_rigid_motion_varies_by_zero():
    result = bone_length_variation([rigid_chain(), rigid_chain(7)], PARENTS, 100.0)
    assert result["bone_length_cv"] == pytest.approx(0.0, abs=1e-9)
    assert result["bone_length_range_cm"] == pytest.approx(0.0, abs=1e-9)


def test_a_stretched_bone_gives_its_known_variation():
    joints = rigid_chain(2)
    joints[1, 2] += 0.1 * (joints[1, 2] - joints[1, 1]) / 0.2  # bone b: 0.2 m, then 0.3 m
    result = bone_length_variation([joints], PARENTS, 100.0)
    # bone b: lengths 0.2, 0.3 -> std 0.05, mean 0.25, cv 20 %; bone a: 0 %; mean 10 %
    assert result["bone_length_cv"] == pytest.approx(10.0)
    assert result["bone_length_range_cm"] == pytest.approx(10.0)
    in_mm = bone_length_variation([joints * 1000.0], PARENTS, 0.1)
    assert in_mm == pytest.approx(result)


def test_bad_input():
    with pytest.raises(InputError, match="3, 3"):
        bone_lengths(np.zeros((4, 2, 3)), PARENTS)
    with pytest.raises(InputError, match="at least one motion"):
        bone_length_variation([], PARENTS, 100.0)
    with pytest.raises(InputError, match="non-zero length"):
        bone_length_variation([np.zeros((4, 3, 3))], PARENTS, 100.0)
