"""A motion-capture take as global joint positions, and the error raised for unreadable files."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = ["MocapClip", "MocapFormatError"]


class MocapFormatError(ValueError):
    """A motion file that cannot be read: names the file and the problem."""

    def __init__(self, path: str | Path, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = Path(path)
        self.reason = reason


@dataclass(frozen=True, eq=False)
class MocapClip:
    """Joint hierarchy and global joint positions of one take, in the file's own units.

    `metres_per_unit` is set when the format defines its length unit (ASF: inches / length).
    """

    joint_names: tuple[str, ...]
    parents: tuple[int, ...]  # -1 for the root
    positions: np.ndarray  # (T, J, 3) float64, file units and axes
    fps: float
    source: Path
    metres_per_unit: float | None = None

    @property
    def num_frames(self) -> int:
        """Number of frames T."""
        return int(self.positions.shape[0])

    def index(self, name: str) -> int:
        """Index of the joint called `name`."""
        try:
            return self.joint_names.index(name)
        except ValueError:
            raise KeyError(f"no joint {name!r} in {self.source}") from None


def check_positions(path: Path, positions: np.ndarray) -> np.ndarray:
    """Raise MocapFormatError unless positions (T, J, 3) have frames and are finite."""
    if positions.shape[0] == 0:
        raise MocapFormatError(path, "no frames")
    if not np.all(np.isfinite(positions)):
        frame = int(np.argwhere(~np.isfinite(positions))[0, 0])
        raise MocapFormatError(path, f"non-finite joint positions from frame {frame}")
    return positions


def read_text(path: Path) -> str:
    """File contents as text (Latin-1, never fails on bytes), or MocapFormatError."""
    try:
        return path.read_bytes().decode("latin-1")
    except OSError as exc:
        raise MocapFormatError(path, f"cannot read file ({exc.strerror or exc})") from None
