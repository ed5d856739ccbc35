"""Files of generated motions: features, joints, an animation, a BVH with its rigid joints, and
the retrieved captions."""

import json
import re
from collections.abc import Sequence
from pathlib import Path

from remodiffuse.errors import InputError
from remodiffuse.export.animation import render_motion
from remodiffuse.export.bvh import bvh_joints, write_bvh
from remodiffuse.files import save_array, write_text
from remodiffuse.pipeline import GeneratedMotion


def slug(text: str, limit: int = 40) -> str:
    """File-name-safe lower-case form of a caption: 'A man walks!' -> 'a_man_walks'."""
    words = re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")
    return words[:limit].rstrip("_") or "motion"


def fresh_output_dir(path: str | Path) -> Path:
    """`path` created if missing; InputError if it exists and is not an empty folder (a run never
    mixes its files with another's)."""
    path = Path(path)
    if path.exists() and (not path.is_dir() or any(path.iterdir())):
        kind = "a folder that is not empty" if path.is_dir() else "a file"
        raise InputError(
            f"out_dir={path} is {kind}: generate writes into a new or empty folder "
            "(choose another out_dir, or leave it unset for a fresh generated/<time> folder)"
        )
    path.mkdir(parents=True, exist_ok=True)
    return path


class GeneratedWriter:
    """Writes motions into a fresh out_dir as they are done, numbering them in order, and keeps
    retrieved.json (rewritten atomically after each batch) listing every motion written."""

    def __init__(self, out_dir: str | Path, skeleton: str, fps: float, render: bool = True):
        self.out_dir = fresh_output_dir(out_dir)
        self.skeleton, self.fps, self.render = skeleton, fps, render
        self.retrieved: list[dict] = []

    def write(self, motions: Sequence[GeneratedMotion]) -> list[Path]:
        """Write <i>_<slug>.{features.npy, joints.npy, bvh, rigid_joints.npy, mp4|gif} per
        motion, then update retrieved.json; returns the files written.

        rigid_joints.npy (T, J, 3), in joints.npy's order, unit and dtype, are the forward
        kinematics of the BVH: the joints with the bone lengths fixed at the BVH's offsets.
        """
        written = []
        for motion in motions:
            stem = self.out_dir / f"{len(self.retrieved)}_{slug(motion.text)}"
            written += self._write_one(motion, stem)
            entry = {"file": stem.name, "text": motion.text, "length": motion.length}
            entry.update({"segments": motion.segments} if motion.segments else {})
            self.retrieved.append({**entry, "retrieved": motion.retrieved})
        retrieved = self.out_dir / "retrieved.json"
        write_text(retrieved, json.dumps(self.retrieved, indent=2) + "\n")
        return written + [retrieved]

    def _write_one(self, motion: GeneratedMotion, stem: Path) -> list[Path]:
        features, joints = Path(f"{stem}.features.npy"), Path(f"{stem}.joints.npy")
        bvh, rigid = Path(f"{stem}.bvh"), Path(f"{stem}.rigid_joints.npy")
        save_array(features, motion.features)
        save_array(joints, motion.joints)
        write_bvh(motion.joints, bvh, fps=self.fps, skeleton=self.skeleton)
        rigid_joints = bvh_joints(bvh, self.skeleton).astype(motion.joints.dtype)  # (T, J, 3)
        save_array(rigid, rigid_joints)
        paths = [features, joints, bvh, rigid]
        if self.render:
            paths.append(
                render_motion(
                    motion.joints,
                    f"{stem}.mp4",
                    skeleton=self.skeleton,
                    fps=self.fps,
                    title=motion.text,
                )
            )
        return paths
