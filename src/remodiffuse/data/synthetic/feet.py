"""Foot placement: planted toes during stance, swing arcs between them, and a reachable pelvis.

A stance foot keeps its toe (joint 10/11) fixed on the floor; when the hip moves too far for a
flat foot, the heel rises and the foot pivots about the toe. The pelvis is lowered (smoothly)
wherever neither heel raise nor knee straightening lets the legs reach their planted feet.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.ndimage import gaussian_filter1d, maximum_filter1d

from remodiffuse.data.synthetic.body import FOOT_PITCH, LEFT, RIGHT, BodyGeometry, Style
from remodiffuse.data.synthetic.channels import Channels, Step
from remodiffuse.data.synthetic.curves import bump, smoothstep

__all__ = ["FootTrack", "LEG_REACH", "solve_feet"]

LEG_REACH = 0.985  # largest hip-ankle distance used, as a fraction of the straight leg
_HEEL_RAISES = np.linspace(0.0, 1.0, 21)  # radians tried, smallest first
_ANKLE_BEHIND_PELVIS = 0.02  # metres, ankle of the neutral stance behind the pelvis
_SWING_HOLD = 0.12  # fraction of a swing at each end with (almost) no horizontal motion
_SWING_TOE_UP = 0.3  # radians of extra dorsiflexion at mid-swing
_KICK_TOE_UP = 0.9  # radians the toes point up at a kick's peak


@dataclass(frozen=True)
class FootTrack:
    """One foot over the motion."""

    ankle: np.ndarray  # (T, 3) ankle target
    toe: np.ndarray  # (T, 3) toe target


@dataclass(frozen=True)
class _Plant:
    """Where a stance foot is: toe on the floor (x, z) and the foot's heading."""

    toe_xz: np.ndarray  # (2,)
    heading: float


def _ground_direction(heading: np.ndarray) -> np.ndarray:
    """(..., 2) unit ground vectors (x, z) for headings about +Y."""
    return np.stack([np.sin(heading), np.cos(heading)], axis=-1)


def _foot_vector(length: float, heading: np.ndarray, pitch: np.ndarray) -> np.ndarray:
    """(..., 3) ankle -> toe vectors for a foot heading and downward pitch."""
    heading, pitch = np.broadcast_arrays(heading, pitch)
    ground = _ground_direction(heading) * np.cos(pitch)[..., None]
    return length * np.stack([ground[..., 0], -np.sin(pitch), ground[..., 1]], axis=-1)


def _sample(values: np.ndarray, time: float) -> np.ndarray:
    """Linear interpolation of per-frame rows at a fractional frame."""
    frames = np.arange(len(values), dtype=np.float64)
    if values.ndim == 1:
        return np.interp(time, frames, values)
    return np.stack([np.interp(time, frames, values[:, i]) for i in range(values.shape[1])])


def _plant_under_root(
    channels: Channels, geometry: BodyGeometry, style: Style, side: int, time: float
) -> _Plant:
    """The neutral-stance placement of a foot relative to the pelvis at a (fractional) frame."""
    yaw = float(_sample(channels.yaw, time))
    root_xz = _sample(channels.root_xz, time)
    lateral = style.stance_half_width * (1.0 if side == LEFT else -1.0)
    forward, left = _ground_direction(yaw), _ground_direction(yaw + np.pi / 2)
    ankle_xz = root_xz + lateral * left - _ANKLE_BEHIND_PELVIS * forward
    heading = yaw + style.toe_out * (1.0 if side == LEFT else -1.0)
    reach = geometry.foot(side) * np.cos(FOOT_PITCH)
    return _Plant(ankle_xz + reach * _ground_direction(heading), heading)


def _foot_steps(channels: Channels, side: int) -> list[Step]:
    """The foot's steps in time order, checked not to overlap."""
    steps = sorted((s for s in channels.steps if s.foot == side), key=lambda s: s.lift)
    last = channels.num_frames - 1
    previous_land = 0
    for step in steps:
        if not previous_land <= step.lift < step.land <= last:
            raise ValueError(f"overlapping or out-of-range step {step} (motion of {last + 1})")
        previous_land = step.land
    return steps


def _stance_plants(
    channels: Channels, geometry: BodyGeometry, style: Style, side: int, steps: list[Step]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per frame: stance mask (T,), planted toe xz (T, 2) and foot heading (T,) (NaN in swing)."""
    n = channels.num_frames
    stance = np.zeros(n, dtype=bool)
    toe_xz = np.full((n, 2), np.nan)
    heading = np.full(n, np.nan)
    plant = _plant_under_root(channels, geometry, style, side, 0.0)
    start = 0
    for index in range(len(steps) + 1):
        end = steps[index].lift if index < len(steps) else n - 1
        stance[start : end + 1] = True
        toe_xz[start : end + 1] = plant.toe_xz
        heading[start : end + 1] = plant.heading
        if index == len(steps):
            break
        step = steps[index]
        if not step.same_spot:
            following_end = steps[index + 1].lift if index + 1 < len(steps) else n - 1
            time = step.land + step.plant * (following_end - step.land)
            if 0 <= step.plant_by <= following_end:  # last step of its primitive: neutral stance
                time = float(step.plant_by)
            plant = _plant_under_root(channels, geometry, style, side, max(time, step.land))
        start = step.land
    return stance, toe_xz, heading


def _stance_ankles(toe_xz: np.ndarray, heading: np.ndarray, foot: float) -> np.ndarray:
    """(T, R, 3) ankle positions for every heel raise in _HEEL_RAISES, toe on the floor."""
    pitch = FOOT_PITCH + _HEEL_RAISES  # (R,)
    toe = np.stack([toe_xz[:, 0], np.zeros(len(toe_xz)), toe_xz[:, 1]], axis=-1)  # (T, 3)
    return toe[:, None] - _foot_vector(foot, heading[:, None], pitch[None])


def _height_bound(
    hip_xz: np.ndarray, hip_drop: np.ndarray, ankles: np.ndarray, reach: float
) -> np.ndarray:
    """(T,) highest pelvis height at which the hip still reaches some heel-raise ankle option."""
    horizontal = np.linalg.norm(hip_xz[:, None] - ankles[..., [0, 2]], axis=-1)  # (T, R)
    slack = reach**2 - horizontal**2
    best = np.where(slack > 0, ankles[..., 1] + np.sqrt(np.maximum(slack, 0.0)), -np.inf)
    return best.max(axis=1) - hip_drop


def _lowered_height(nominal: np.ndarray, bound: np.ndarray) -> np.ndarray:
    """Pelvis height: the nominal one, smoothly lowered where it exceeds the reachable bound."""
    deficit = np.maximum(nominal - bound, 0.0)
    deficit = gaussian_filter1d(maximum_filter1d(deficit, size=7, mode="nearest"), 1.5)
    return np.minimum(nominal - deficit, bound)


def _choose_heel_raise(hip: np.ndarray, ankles: np.ndarray, reach: float) -> np.ndarray:
    """(T,) index of the smallest heel raise whose ankle the hip reaches (else the closest)."""
    distance = np.linalg.norm(hip[:, None] - ankles, axis=-1)  # (T, R)
    reachable = distance <= reach * (1.0 + 1e-9)
    return np.where(reachable.any(axis=1), reachable.argmax(axis=1), distance.argmin(axis=1))


def _swing(
    step: Step,
    toe: np.ndarray,
    pitch: np.ndarray,
    heading: np.ndarray,
    height: np.ndarray,
    yaw: np.ndarray,
) -> None:
    """Fill frames lift+1 .. land-1 of toe (T, 3), pitch and heading in place.

    The toe barely moves horizontally at both ends of the swing (the foot peels off about it and
    sets down gently), rises by `step.height`, and for kicks reaches forward and up.
    """
    a, b = step.lift, step.land
    frames = np.arange(a + 1, b)
    s = (frames - a) / (b - a)
    ease = smoothstep((s - _SWING_HOLD) / (1.0 - 2.0 * _SWING_HOLD))
    arc = bump(s)
    kick = arc**2
    lift = np.where(s < 0.5, np.sqrt(arc), arc**1.5)  # quick to clear, slow to set down
    out = toe[a] + (toe[b] - toe[a]) * ease[:, None]  # (S, 3)
    out[:, 1] += step.height * lift
    if step.follow_root:
        out[:, 1] += height[frames] - (height[a] + (height[b] - height[a]) * s)
    forward = _ground_direction(yaw[frames])  # (S, 2)
    out[:, 0] += step.kick_reach * kick * forward[:, 0]
    out[:, 2] += step.kick_reach * kick * forward[:, 1]
    out[:, 1] += step.kick_height * kick
    toe[frames] = out
    turn = np.angle(np.exp(1j * (heading[b] - heading[a])))
    heading[frames] = heading[a] + turn * ease
    toe_up = _SWING_TOE_UP * arc + (_KICK_TOE_UP * kick if step.kick_height > 0 else 0.0)
    pitch[frames] = pitch[a] + (pitch[b] - pitch[a]) * s - toe_up


def solve_feet(
    channels: Channels, geometry: BodyGeometry, style: Style, pelvis: np.ndarray
) -> tuple[np.ndarray, list[FootTrack]]:
    """Pelvis height (T,) and both feet's tracks, given the pelvis rotations (T, 3, 3)."""
    root_xz = channels.root_xz
    plans = []
    bound = np.full(channels.num_frames, np.inf)
    for side in (LEFT, RIGHT):
        steps = _foot_steps(channels, side)
        stance, toe_xz, heading = _stance_plants(channels, geometry, style, side, steps)
        ankles = _stance_ankles(np.nan_to_num(toe_xz), np.nan_to_num(heading), geometry.foot(side))
        hip_offset = pelvis @ geometry.hip_offset(side)  # (T, 3)
        hip_xz = root_xz + hip_offset[:, [0, 2]]
        reach = LEG_REACH * geometry.leg(side)
        side_bound = _height_bound(hip_xz, hip_offset[:, 1], ankles, reach)
        bound = np.where(stance, np.minimum(bound, side_bound), bound)
        plans.append((steps, heading, ankles, hip_offset, reach))
    height = _lowered_height(channels.height, bound)

    tracks = []
    for side, (steps, heading, ankles, hip_offset, reach) in zip((LEFT, RIGHT), plans, strict=True):
        hip = np.stack([root_xz[:, 0], height, root_xz[:, 1]], axis=-1) + hip_offset
        choice = _choose_heel_raise(hip, ankles, reach)
        rows = np.arange(channels.num_frames)
        pitch = FOOT_PITCH + _HEEL_RAISES[choice]
        toe = ankles[rows, choice] + _foot_vector(geometry.foot(side), heading, pitch)  # (T, 3)
        heading = heading.copy()
        for step in steps:
            _swing(step, toe, pitch, heading, height, channels.yaw)
        ankle = toe - _foot_vector(geometry.foot(side), heading, pitch)
        tracks.append(FootTrack(ankle=ankle, toe=toe))
    return height, tracks
