"""Files of generated motions: features, joints, an animation, a BVH and the retrieved captions."""

import json
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from remodiffuse.export.animation import render_motion
from remodiffuse.export.bvh import write_bvh
from remodiffuse.pipeline import GeneratedMotion


def slug(text: str, limit: int = 40) -> str:
    """File-name-safe lower-case form of a caption: 'A man walks!' -> 'a_man_walks'."""
    words = re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")
    return words[:limit].rstrip("_") or "motion"


def save_generated(
    motions: Sequence[GeneratedMotion],
    out_dir: str | Path,
    skeleton: str,
    fps: float,
    render: bool = True,
) -> list[Path]:
    """Write <i>_<slug>.{features.npy, joints.npy, mp4|gif, bvh} per motion and retrieved.json."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written, retrieved = [], []
    for index, motion in enumerate(motions):
        stem = out_dir / f"{index}_{slug(motion.text)}"
        np.save(f"{stem}.features.npy", motion.features)
        np.save(f"{stem}.joints.npy", motion.joints)
        write_bvh(motion.joints, f"{stem}.bvh", fps=fps, skeleton=skeleton)
        written += [Path(f"{stem}.features.npy"), Path(f"{stem}.joints.npy"), Path(f"{stem}.bvh")]
        if render:
            written.append(
                render_motion(
                    motion.joints, f"{stem}.mp4", skeleton=skeleton, fps=fps, title=motion.text
                )
            )
        retrieved.append(
            {
                "file": stem.name,
                "text": motion.text,
                "length": motion.length,
                "retrieved": motion.retrieved,
            }
        )
    (out_dir / "retrieved.json").write_text(json.dumps(retrieved, indent=2) + "\n")
    return written + [out_dir / "retrieved.json"]
