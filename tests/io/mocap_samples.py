"""Shared helpers of the mocap I/O tests: tiny files and simple HumanML3D motions.

The real CMU data is `require_fixture("data", "cmu-mini")` (tests/conftest.py)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from remodiffuse.motion import get_skeleton

# Five joints (two end sites), per-joint rotation orders, three frames at 30 fps.
TINY_BVH = """HIERARCHY
ROOT Hips
{
\tOFFSET 0 0 0
\tCHANNELS 6 Xposition Yposition Zposition Zrotation Xrotation Yrotation
\tJOINT Chest
\t{
\t\tOFFSET 0 10 0
\t\tCHANNELS 3 Xrotation Yrotation Zrotation
\t\tEnd Site
\t\t{
\t\t\tOFFSET 0 5 0
\t\t}
\t}
\tJOINT Leg
\t{
\t\tOFFSET 2 0 0
\t\tCHANNELS 3 Zrotation Yrotation Xrotation
\t\tEnd Site
\t\t{
\t\t\tOFFSET 0 -8 0
\t\t}
\t}
}
MOTION
Frames: 3
Frame Time: 0.0333333
0 0 0 0 0 0 0 0 0 0 0 0
1 2 3 90 0 0 0 0 0 0 0 0
0 0 0 0 0 0 0 0 90 0 0 0
"""

# Two bones (one dof, then two in "rz ry" order), four frames in degrees.
TINY_ASF = """# tiny skeleton
:version 1.10
:name tiny
:units
  mass 1.0
  length 0.5
  angle deg
:documentation
  two bones
:root
  order TX TY TZ RX RY RZ
  axis XYZ
  position 0 0 0
  orientation 0 0 0
:bonedata
  begin
    id 1
    name up
    direction 0 1 0
    length 4
    axis 0 0 90 XYZ
    dof rx
    limits (-180.0 180.0)
  end
  begin
    id 2
    name side
    direction 1 0 0
    length 2
    axis 0 0 0 XYZ
    dof rz ry
    limits (-180.0 180.0)
           (-180.0 180.0)
  end
:hierarchy
  begin
    root up
    up side
  end
"""

TINY_AMC = """#!OML:ASF tiny.asf
:FULLY-SPECIFIED
:DEGREES
1
root 0 0 0 0 0 0
up 0
side 0 0
2
root 1 2 3 0 0 90
up 0
side 0 0
3
root 0 0 0 0 0 0
up 90
side 0 0
4
root 0 0 0 0 0 0
up 0
side 90 90
"""


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
