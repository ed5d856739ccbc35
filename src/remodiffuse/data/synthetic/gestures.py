"""Arm gestures (wave, raise arms, punch, clap) as keyframed chest-frame arm directions.

Directions are given for the LEFT arm in the chest frame (+X left, +Y up, +Z forward); the right
arm uses their mirror image. Every gesture starts and ends with the arms hanging at rest, and its
blend weight ramps in while the arms are still at rest, so it can also be laid over a gait.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from remodiffuse.data.synthetic.body import LEFT, RIGHT, BodyGeometry, Style, mirror_x
from remodiffuse.data.synthetic.channels import Channels, rest_arm_directions
from remodiffuse.data.synthetic.curves import direction_keyframes, plateau, scalar_keyframes
from remodiffuse.data.synthetic.kinematics import rot_z

__all__ = ["ArmKey", "build_clap", "build_punch", "build_raise_arms", "build_wave"]

_BLEND_FRAMES = 3  # frames over which a gesture's weight ramps in (arms still at rest)

_WAVE_UPPER = {"high": (0.85, 0.3, 0.3), "low": (0.55, -0.5, 0.65)}
_WAVE_FORE = {"high": (-0.05, 0.97, 0.2), "low": (0.2, 0.8, 0.55)}
_WAVE_SWAY = {"high": 0.35, "low": 0.3}  # radians the forearm sways to each side
_WAVE_VIA = ((0.9, -0.3, 0.3), (0.6, 0.2, 0.75))  # (upper, fore) on the way up
_RAISE = {
    "overhead": ((0.22, 0.97, 0.08), (0.15, 0.99, 0.05)),
    "sideways": ((1.0, 0.02, 0.05), (1.0, 0.05, 0.08)),
    "forward": ((0.12, 0.0, 1.0), (0.08, 0.03, 1.0)),
}
_OVERHEAD_VIA = ((0.75, 0.15, 0.65), (0.7, 0.25, 0.65))
_GUARD = ((0.1, -0.8, 0.55), (-0.35, 0.8, 0.45))
_PUNCH = ((-0.08, 0.05, 1.0), (-0.1, 0.05, 1.0))
_CLAP_OPEN = ((0.15, -0.55, 0.8), (-0.2, 0.3, 0.93))
_CLAP_SHUT = ((0.12, -0.55, 0.8), (-0.66, 0.3, 0.69))


@dataclass(frozen=True)
class ArmKey:
    """One keyframe of the left arm: frame, upper-arm and forearm directions."""

    frame: float
    upper: tuple[float, float, float] | np.ndarray
    fore: tuple[float, float, float] | np.ndarray


def _arm_track(n: int, keys: list[ArmKey]) -> np.ndarray:
    """(n, 2, 3) eased left-arm directions through the keys."""
    times = [k.frame for k in keys]
    upper = direction_keyframes(n, times, [np.asarray(k.upper) for k in keys])
    fore = direction_keyframes(n, times, [np.asarray(k.fore) for k in keys])
    return np.stack([upper, fore], axis=1)


def _gesture_channels(
    n: int, geometry: BodyGeometry, style: Style
) -> tuple[Channels, ArmKey, np.ndarray]:
    """Standing channels with a ramped blend weight; returns (channels, rest key, weight)."""
    ch = Channels.standing(n, geometry, style)
    rest = rest_arm_directions(style)[LEFT]
    weight = plateau(np.arange(n, dtype=np.float64), 0.0, n - 1.0, _BLEND_FRAMES)
    return ch, ArmKey(0.0, rest[0], rest[1]), weight


def build_wave(
    side: int,
    cycles: int,
    height: str,
    period: float,
    geometry: BodyGeometry,
    style: Style,
) -> Channels:
    """Raise one hand and wave it side to side `cycles` times; `height` is "high" or "low"."""
    raise_time = 10.0
    n = int(round(_BLEND_FRAMES + raise_time + cycles * period + 4 + raise_time + 3))
    ch, rest, weight = _gesture_channels(n, geometry, style)
    upper, fore = np.array(_WAVE_UPPER[height]), np.array(_WAVE_FORE[height])
    start = _BLEND_FRAMES
    keys = [rest, ArmKey(start, rest.upper, rest.fore)]
    keys.append(ArmKey(start + 0.5 * raise_time, *_WAVE_VIA))
    t = start + raise_time
    keys.append(ArmKey(t, upper, fore))
    for i in range(2 * cycles):
        t += period / 2.0
        swing = rot_z(_WAVE_SWAY[height] * (1.0 if i % 2 == 0 else -1.0))
        keys.append(ArmKey(t, upper, swing @ fore))
    keys.append(ArmKey(t + 4, upper, fore))
    keys.append(ArmKey(t + 4 + 0.5 * raise_time, *_WAVE_VIA))
    keys.append(ArmKey(t + 4 + raise_time, rest.upper, rest.fore))
    track = _arm_track(n, keys)
    ch.set_arm(side, track if side == LEFT else mirror_x(track), weight)
    return ch


def build_raise_arms(
    style_name: str, times: int, hold: float, geometry: BodyGeometry, style: Style
) -> Channels:
    """Lift both arms (overhead, sideways or forward), hold, lower; `times` repetitions."""
    raise_time = 12.0
    cycle = 2 * raise_time + hold + 3
    n = int(round(_BLEND_FRAMES + times * cycle + 3))
    ch, rest, weight = _gesture_channels(n, geometry, style)
    top = ArmKey(0.0, *_RAISE[style_name])
    keys = [rest]
    t = float(_BLEND_FRAMES)
    for _ in range(times):
        keys.append(ArmKey(t, rest.upper, rest.fore))
        if style_name == "overhead":
            keys.append(ArmKey(t + 0.5 * raise_time, *_OVERHEAD_VIA))
        keys.append(ArmKey(t + raise_time, top.upper, top.fore))
        keys.append(ArmKey(t + raise_time + hold, top.upper, top.fore))
        if style_name == "overhead":
            keys.append(ArmKey(t + 1.5 * raise_time + hold, *_OVERHEAD_VIA))
        keys.append(ArmKey(t + 2 * raise_time + hold, rest.upper, rest.fore))
        t += cycle
    ch.set_both_arms(_arm_track(n, keys), weight)
    return ch


def build_punch(
    side: int, punches: int, extend: float, geometry: BodyGeometry, style: Style
) -> Channels:
    """Raise both fists to a guard, punch forward `punches` times with one arm, lower them."""
    guard_time, retract = 8.0, extend + 3.0
    n = int(round(_BLEND_FRAMES + 2 * guard_time + punches * (extend + retract + 2) + 3))
    ch, rest, weight = _gesture_channels(n, geometry, style)
    start = float(_BLEND_FRAMES)
    guard_keys = [rest, ArmKey(start, rest.upper, rest.fore), ArmKey(start + guard_time, *_GUARD)]
    punch_keys = list(guard_keys)
    twist_times, twist_values = [0.0, start + guard_time], [0.0, 0.0]
    t = start + guard_time
    for _ in range(punches):
        punch_keys.append(ArmKey(t + extend, *_PUNCH))
        punch_keys.append(ArmKey(t + extend + retract, *_GUARD))
        twist_times += [t + extend, t + extend + retract]
        twist_values += [0.3, 0.0]
        t += extend + retract + 2
    end_keys = [ArmKey(t, *_GUARD), ArmKey(t + guard_time, rest.upper, rest.fore)]
    punching, guarding = _arm_track(n, punch_keys + end_keys), _arm_track(n, guard_keys + end_keys)
    other = RIGHT if side == LEFT else LEFT
    ch.set_arm(side, punching if side == LEFT else mirror_x(punching), weight)
    ch.set_arm(other, guarding if other == LEFT else mirror_x(guarding), weight)
    # The punching shoulder comes forward: the chest twists away from the punching side.
    twist = scalar_keyframes(n, twist_times, twist_values)
    ch.spine_yaw = -twist if side == LEFT else twist
    return ch


def build_clap(claps: int, period: float, geometry: BodyGeometry, style: Style) -> Channels:
    """Bring both hands up in front of the chest and clap `claps` times."""
    lift_time = 10.0
    n = int(round(_BLEND_FRAMES + 2 * lift_time + claps * period + 3))
    ch, rest, weight = _gesture_channels(n, geometry, style)
    t = float(_BLEND_FRAMES)
    keys = [rest, ArmKey(t, rest.upper, rest.fore), ArmKey(t + lift_time, *_CLAP_OPEN)]
    t += lift_time
    for _ in range(claps):
        keys.append(ArmKey(t + 0.5 * period, *_CLAP_SHUT))
        keys.append(ArmKey(t + period, *_CLAP_OPEN))
        t += period
    keys.append(ArmKey(t + lift_time, rest.upper, rest.fore))
    ch.set_both_arms(_arm_track(n, keys), weight)
    return ch
