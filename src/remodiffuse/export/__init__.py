"""Exporting motions: stick-figure animations (mp4 / gif) and BVH files (checked, read back)."""

from remodiffuse.export.animation import load_motion_file, render_motion
from remodiffuse.export.bvh import bvh_joints, write_bvh
from remodiffuse.export.bvh_check import BvhSummary, check_bvh, check_bvh_text

__all__ = [
    "BvhSummary",
    "bvh_joints",
    "check_bvh",
    "check_bvh_text",
    "load_motion_file",
    "render_motion",
    "write_bvh",
]
