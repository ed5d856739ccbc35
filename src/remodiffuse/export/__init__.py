"""Exporting motions: stick-figure animations (mp4 / gif)."""

from remodiffuse.export.animation import load_motion_file, render_motion

__all__ = ["load_motion_file", "render_motion"]
from remodiffuse.export.bvh import write_bvh as write_bvh
