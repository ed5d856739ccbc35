"""Per-frame control channels of a motion and their concatenation across primitives.

A primitive builds `Channels` in its own frame (root at the origin facing +Z at sample 0) with
n + 1 samples: sample 0 is the neutral standing start, sample n its neutral standing end.
`concatenate` places each primitive where the previous one ended and joins them.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from remodiffuse.data.synthetic.body import LEFT, RIGHT, BodyGeometry, Style, mirror_x
from remodiffuse.data.synthetic.kinematics import normalize

__all__ = ["Channels", "Step", "concatenate", "rest_arm_directions"]


@dataclass(frozen=True)
class Step:
    """One swing of one foot: it leaves the floor after frame `lift` and is down again at `land`."""

    foot: int  # LEFT or RIGHT
    lift: int  # last stance frame before the swing
    land: int  # first stance frame after the swing
    height: float  # extra ankle lift at mid-swing, metres
    plant: float = 0.5  # fraction of the next stance at which the ankle sits under the hip
    plant_by: int = -1  # end of the step's primitive: a foot still down there is placed in the
    # neutral stance of that frame (-1: no limit)
    same_spot: bool = False  # land exactly where it lifted (kicks)
    follow_root: bool = False  # the swing rises and falls with the pelvis (jumps)
    kick_reach: float = 0.0  # forward reach of the ankle at the kick's peak, metres
    kick_height: float = 0.0  # height of the ankle above the floor at the kick's peak

    def shifted(self, frames: int) -> Step:
        return replace(
            self,
            lift=self.lift + frames,
            land=self.land + frames,
            plant_by=self.plant_by + frames if self.plant_by >= 0 else -1,
        )


def rest_arm_directions(style: Style) -> np.ndarray:
    """(2, 2, 3) chest-frame directions [side, upper/fore] of the hanging arms."""
    upper = normalize(np.array([0.12 + style.arm_abduction, -0.99, -0.02]))
    fore = normalize(np.array([0.06 + 0.5 * style.arm_abduction, -0.97, 0.22]))
    left = np.stack([upper, fore])
    return np.stack([left, mirror_x(left)])


@dataclass
class Channels:
    """Control signals, one row per frame (angles in radians, lengths in metres)."""

    root_xz: np.ndarray  # (n, 2) pelvis ground position
    yaw: np.ndarray  # (n,) heading, positive = turned to the left
    height: np.ndarray  # (n,) nominal pelvis height (lowered later where legs cannot reach)
    pelvis_pitch: np.ndarray  # (n,) forward tilt of the pelvis
    pelvis_roll: np.ndarray  # (n,) sideways tilt, positive lifts the right hip
    spine_pitch: np.ndarray  # (n,) forward bend of the spine (split over three joints)
    spine_yaw: np.ndarray  # (n,) twist of the chest to the left
    spine_roll: np.ndarray  # (n,) sideways bend of the spine
    neck_pitch: np.ndarray  # (n,) nod of the head
    arm_swing: np.ndarray  # (n,) gait arm swing, radians of shoulder flexion per metre of stride
    elbow_bend: np.ndarray  # (n,) extra elbow flexion of the hanging arms
    arm_dirs: np.ndarray  # (n, 2, 2, 3) explicit chest-frame arm directions [side, upper/fore]
    arm_weight: np.ndarray  # (n, 2) blend of the explicit directions over the hanging arms
    steps: list[Step] = field(default_factory=list)

    @property
    def num_frames(self) -> int:
        return len(self.yaw)

    @staticmethod
    def standing(num_frames: int, geometry: BodyGeometry, style: Style) -> Channels:
        """Neutral stance held for num_frames frames at the origin, facing +Z."""
        zeros = np.zeros(num_frames)
        arms = np.broadcast_to(rest_arm_directions(style), (num_frames, 2, 2, 3)).copy()
        return Channels(
            root_xz=np.zeros((num_frames, 2)),
            yaw=zeros.copy(),
            height=np.full(num_frames, geometry.standing_height(style)),
            pelvis_pitch=zeros.copy(),
            pelvis_roll=zeros.copy(),
            spine_pitch=np.full(num_frames, style.posture_lean),
            spine_yaw=zeros.copy(),
            spine_roll=zeros.copy(),
            neck_pitch=zeros.copy(),
            arm_swing=zeros.copy(),
            elbow_bend=zeros.copy(),
            arm_dirs=arms,
            arm_weight=np.zeros((num_frames, 2)),
        )

    def set_arm(self, side: int, dirs: np.ndarray, weight: np.ndarray | float = 1.0) -> None:
        """Drive one arm (LEFT/RIGHT) with explicit (n, 2, 3) directions and blend weight."""
        self.arm_dirs[:, side] = dirs
        self.arm_weight[:, side] = weight

    def set_both_arms(self, left_dirs: np.ndarray, weight: np.ndarray | float = 1.0) -> None:
        """Drive both arms symmetrically from the left arm's (n, 2, 3) directions."""
        self.set_arm(LEFT, left_dirs, weight)
        self.set_arm(RIGHT, mirror_x(left_dirs), weight)


_PER_FRAME = (
    "yaw", "height", "pelvis_pitch", "pelvis_roll", "spine_pitch", "spine_yaw", "spine_roll",
    "neck_pitch", "arm_swing", "elbow_bend", "arm_dirs", "arm_weight",
)  # fmt: skip


def _ground_rotate(xz: np.ndarray, yaw: float) -> np.ndarray:
    """Rotate (n, 2) ground vectors (x, z) by `yaw` about +Y."""
    c, s = np.cos(yaw), np.sin(yaw)
    return np.stack([c * xz[:, 0] + s * xz[:, 1], -s * xz[:, 0] + c * xz[:, 1]], axis=-1)


def concatenate(
    parts: list[Channels], start_xz: np.ndarray | None = None, start_yaw: float = 0.0
) -> tuple[Channels, list[tuple[int, int]]]:
    """Chain primitives end to start; returns the joined channels and each part's frame span.

    The first part keeps its sample 0; later parts drop theirs (it equals the previous end).
    Spans are [first, last] frame indices of each part in the joined motion.
    """
    xz = np.zeros(2) if start_xz is None else np.asarray(start_xz, dtype=np.float64)
    yaw = float(start_yaw)
    pieces: dict[str, list[np.ndarray]] = {name: [] for name in ("root_xz", *_PER_FRAME)}
    steps: list[Step] = []
    spans: list[tuple[int, int]] = []
    offset = 0
    for index, part in enumerate(parts):
        first = 0 if index == 0 else 1
        pieces["root_xz"].append(xz + _ground_rotate(part.root_xz[first:], yaw))
        for name in _PER_FRAME:
            values = getattr(part, name)[first:]
            pieces[name].append(values + yaw if name == "yaw" else values)
        shift = offset - (0 if index == 0 else 1)
        steps.extend(step.shifted(shift) for step in part.steps)
        spans.append((offset if index == 0 else offset - 1, shift + part.num_frames - 1))
        offset = shift + part.num_frames
        xz = pieces["root_xz"][-1][-1]
        yaw = float(pieces["yaw"][-1][-1])
    joined = {name: np.concatenate(values, axis=0) for name, values in pieces.items()}
    return Channels(**joined, steps=steps), spans
