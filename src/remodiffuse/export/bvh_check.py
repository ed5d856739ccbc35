"""BVH validation: a file is valid when the library's BVH grammar (`remodiffuse.io.parse_bvh`,
the one `read_bvh` imports with) accepts it whole; the check returns what the file holds.

Checked: HIERARCHY, one ROOT, JOINTs and End Sites in balanced braces, one OFFSET and one
CHANNELS line (0 to 6 known channels, none repeated) per ROOT / JOINT before its children, only
an OFFSET in an End Site; MOTION, `Frames:` > 0 equal to the number of rows, `Frame Time:`
finite and within the reader's 1 ms .. 1 s, every row exactly as wide as the channels and
finite. A failure is a BvhFormatError (an InputError) naming the file, the line and the problem.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from remodiffuse.io.bvh import BvhData, parse_bvh
from remodiffuse.io.mocap_clip import read_text

__all__ = ["BvhSummary", "check_bvh", "check_bvh_text"]


@dataclass(frozen=True)
class BvhSummary:
    """What a valid BVH file holds: its ROOT and JOINTs in file order (End Sites apart)."""

    source: Path
    joints: tuple[str, ...]
    parents: tuple[int, ...]  # index into `joints`, -1 for the root
    channels: tuple[tuple[str, ...], ...]  # per joint, canonical names in file order
    end_sites: tuple[str, ...]  # the joint each End Site closes
    frames: int
    frame_time: float  # seconds

    @property
    def width(self) -> int:
        """Values per MOTION row: the sum of the channel counts."""
        return sum(len(names) for names in self.channels)


def check_bvh(path: str | Path) -> BvhSummary:
    """Check the BVH file at `path`; its summary, or BvhFormatError."""
    path = Path(path)
    return check_bvh_text(read_text(path), path)


def check_bvh_text(text: str, source: str | Path = "<text>") -> BvhSummary:
    """Check BVH `text` (`source` names it in errors); its summary, or BvhFormatError."""
    return _summary(parse_bvh(text, source), Path(source))


def _summary(data: BvhData, source: Path) -> BvhSummary:
    """The summary of a parsed file."""
    kept = [index for index, joint in enumerate(data.joints) if not joint.end_site]
    position = {index: n for n, index in enumerate(kept)}
    return BvhSummary(
        source=source,
        joints=tuple(data.joints[index].name for index in kept),
        parents=tuple(position.get(data.joints[index].parent, -1) for index in kept),
        channels=tuple(data.joints[index].channels for index in kept),
        end_sites=tuple(data.joints[j.parent].name for j in data.joints if j.end_site),
        frames=data.declared_frames,
        frame_time=data.frame_time,
    )
