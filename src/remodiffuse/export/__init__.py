"""Exporting motions: stick-figure animations (mp4 / gif) and BVH files."""

from remodiffuse.export.animation import load_motion_file, render_motion
from remodiffuse.export.bvh import write_bvh

__all__ = ["load_motion_file", "render_motion", "write_bvh"]
