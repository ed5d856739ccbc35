"""Helpers of the synthetic-dataset tests: posing single primitives, heading."""

from __future__ import annotations

import numpy as np

from remodiffuse.data.synthetic.body import Style, body_geometry
from remodiffuse.data.synthetic.channels import Channels
from remodiffuse.data.synthetic.pose import pose_joints
from remodiffuse.data.synthetic.primitives import PRIMITIVES, Params, build_primitive


def sample_params(label: str, rng: np.random.Generator) -> Params:
    """Random parameters of a primitive (heading 0)."""
    params = next(p for p in PRIMITIVES if p.label == label).sample(rng, 0.0)
    assert params is not None
    return params


def pose_primitive(label: str, params: Params) -> tuple[np.ndarray, Channels]:
    """(joints (T, 22, 3), channels) of one primitive for the default performer."""
    geometry, style = body_geometry(), Style()
    channels = build_primitive(label, params, geometry, style)
    return pose_joints(channels, geometry, style), channels


def facing_yaw(joints: np.ndarray) -> np.ndarray:
    """(T,) unwrapped heading of the hips (radians, + to the left) of (T, 22, 3) joints."""
    across = joints[:, 1] - joints[:, 2]  # right hip -> left hip: the body's +X
    forward = np.cross(across, np.array([0.0, 1.0, 0.0]))
    return np.unwrap(np.arctan2(forward[:, 0], forward[:, 2]))
