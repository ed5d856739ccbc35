"""Shared fixtures of the motion tests: data locations and a synthetic motion generator."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from remodiffuse.motion import get_skeleton
from remodiffuse.motion.quaternion import qmul, qrot


@pytest.fixture(scope="session")
def representation_dir(require_fixture: Callable[..., Path]) -> Path:
    """Reference fixture folder humanml3d-representation (see `require_fixture`)."""
    return require_fixture("fixtures", "humanml3d-representation")


def _axis_angle(axis: np.ndarray, angle: np.ndarray) -> np.ndarray:
    """(T,) angles about a fixed axis -> (T, 4) quaternions."""
    half = angle[:, None] / 2
    return np.concatenate([np.cos(half), np.sin(half) * axis], axis=-1)


# Bones along x at the hips and towards the shoulders (kept human-like so the body faces +Z).
_WIDTH_BONES = {"humanml3d": ((1, 2), (13, 14)), "kit": ((11, 16), (5, 8))}


def random_offsets(skeleton: str, rng: np.random.Generator, symmetric: bool = False) -> np.ndarray:
    """(J, 3) bone offsets of a body facing +Z: random lengths, slightly tilted directions.

    KIT raw offsets put the reference's right side (11-15, 5-7) at +X, so x is negated there.
    With `symmetric`, left/right twins are exact mirror images and unpaired bones have x = 0.
    """
    skel = get_skeleton(skeleton)
    unit = 1000.0 if skel.unit == "mm" else 1.0
    directions = skel.raw_offsets * (np.array([-1.0, 1.0, 1.0]) if skel.name == "kit" else 1.0)
    directions = directions + rng.normal(0.0, 0.1, directions.shape)
    lengths = rng.uniform(0.1, 0.45, skel.num_joints)
    hips, shoulders = _WIDTH_BONES[skel.name]
    lengths[list(hips)] = rng.uniform(0.08, 0.11, 2)
    lengths[list(shoulders)] = rng.uniform(0.14, 0.2, 2)
    lengths *= unit
    offsets = directions / np.linalg.norm(directions, axis=1, keepdims=True) * lengths[:, None]
    offsets[0] = 0.0
    if symmetric:
        paired = {j for pair in skel.left_right_pairs for j in pair}
        offsets[[j for j in range(skel.num_joints) if j not in paired], 0] = 0.0
        for a, b in skel.left_right_pairs:
            offsets[b] = offsets[a] * np.array([-1.0, 1.0, 1.0])
    return offsets


def synthesize_motion(
    skeleton: str = "humanml3d", frames: int = 60, offsets: np.ndarray | None = None, seed: int = 0
) -> np.ndarray:
    """Walking-like (T, J, 3) motion: swinging bones, turning heading, moving root.

    Frame 0 is the rest pose given by `offsets` (default: `random_offsets`).
    """
    skel = get_skeleton(skeleton)
    rng = np.random.default_rng(seed)
    bones = random_offsets(skel.name, rng) if offsets is None else np.asarray(offsets, float)
    unit = 1000.0 if skel.unit == "mm" else 1.0
    t = np.arange(frames) / skel.fps  # (T,)
    amplitude = rng.uniform(0.1, 0.5, skel.num_joints)
    frequency = rng.uniform(0.5, 1.5, skel.num_joints)
    x_axis = np.array([1.0, 0.0, 0.0])
    heading = _axis_angle(np.array([0.0, 1.0, 0.0]), 0.3 + 0.8 * np.sin(0.7 * t))  # (T, 4)
    joints = np.zeros((frames, skel.num_joints, 3))
    joints[:, 0] = np.stack([0.3 * t, 0.9 + 0.02 * np.sin(5 * t), 0.5 * np.sin(t)], -1) * unit
    rotations = {0: heading}
    for chain in skel.kinematic_chain:
        for parent, child in zip(chain[:-1], chain[1:], strict=True):
            swing = _axis_angle(x_axis, amplitude[child] * np.sin(2 * np.pi * frequency[child] * t))
            rotations[child] = qmul(rotations[parent], swing)
            joints[:, child] = joints[:, parent] + qrot(rotations[child], bones[child])
    return joints


@pytest.fixture
def make_motion() -> Callable[..., np.ndarray]:
    """Factory of synthetic motions (see `synthesize_motion`)."""
    return synthesize_motion


@pytest.fixture
def make_offsets() -> Callable[..., np.ndarray]:
    """Factory make_offsets(skeleton, seed, symmetric=False) of random bone offsets."""

    def make(skeleton: str, seed: int, symmetric: bool = False) -> np.ndarray:
        return random_offsets(skeleton, np.random.default_rng(seed), symmetric)

    return make
