"""Shared helpers of the mocap I/O tests: tiny files and simple HumanML3D motions.

The real CMU data is `require_fixture("data", "cmu-mini")` (tests/conftest.py)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from remodiffuse.motion import get_skeleton


def write_text(directory: Path, name: str, text: str) -> Path:
    """Write a text file into directory and return its path."""
    path = directory / name
    path.write_text(text)
    return path


def rest_pose() -> np.ndarray:
    """(22, 3) HumanML3D target skeleton in its rest pose, metres, Y up, feet on the floor."""
    skeleton = get_skeleton("humanml3d")
    pose = np.zeros((skeleton.num_joints, 3))
    for joint, parent in enumerate(skeleton.parents):
        if parent >= 0:
            pose[joint] = pose[parent] + skeleton.default_target_offsets[joint]
    pose[:, 1] -= pose[:, 1].min()
    return pose


_LEG, _ARM = ("hip", "knee", "ankle", "foot"), ("shoulder", "elbow", "wrist")


def walking(frames: int = 40, fps: float = 20.0) -> np.ndarray:
    """(T, 22, 3) rest pose moving forward (+Z) with swinging rigid arms and legs, metres, Y up."""
    names = get_skeleton("humanml3d").joint_names
    t = np.arange(frames) / fps
    base = rest_pose()
    motion = np.repeat(base[None], frames, axis=0)
    for side, sign in (("left", 1.0), ("right", -1.0)):
        for limb, amplitude in ((_LEG, 0.3), (_ARM, -0.3)):
            pivot = names.index(f"{side}_{limb[0]}")
            angle = sign * amplitude * np.sin(2 * np.pi * t)  # (T,) swing about the X axis
            cos, sin = np.cos(angle), np.sin(angle)
            for name in limb[1:]:
                joint = names.index(f"{side}_{name}")
                rel = base[joint] - base[pivot]
                motion[:, joint, 1] = base[pivot, 1] + cos * rel[1] - sin * rel[2]
                motion[:, joint, 2] = base[pivot, 2] + sin * rel[1] + cos * rel[2]
    motion[..., 2] += 1.2 * t[:, None]
    return motion
