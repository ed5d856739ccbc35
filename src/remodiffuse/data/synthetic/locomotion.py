"""Stepping gaits (walk, run, backward, sideways, turning on the spot) as control channels.

A gait is a sequence of alternating steps at a fixed cadence; the pelvis moves along a smooth
speed profile (start from and stop at the neutral stance) and each foot lands where the pelvis
will be a chosen fraction into its next stance, so step length follows speed and heading.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from remodiffuse.data.synthetic.body import LEFT, RIGHT, BodyGeometry, Style
from remodiffuse.data.synthetic.channels import Channels, Step
from remodiffuse.data.synthetic.curves import smoothstep

__all__ = ["FPS", "Gait", "build_gait", "gait_frames"]

FPS = 20.0
_START_DELAY = 3  # frames of standing before the first lift
_SETTLE = 5  # frames of standing after the last landing


@dataclass(frozen=True)
class Gait:
    """Parameters of one stepping primitive."""

    direction: tuple[float, float]  # body-frame ground direction (x = left, z = forward)
    speed: float  # peak pelvis speed, m/s
    cadence: float  # steps per second
    duty: float  # fraction of a stride each foot is planted (< 0.5 means flight phases)
    steps: int  # number of steps, alternating feet
    lead: int  # foot that steps first (LEFT or RIGHT)
    plant: float = 0.35  # where in its stance a foot sits under the pelvis
    step_height: float = 0.08  # ankle lift at mid-swing, metres
    turn: float = 0.0  # total heading change, radians (positive = to the left)
    turn_with_distance: bool = True  # heading follows distance walked (else time)
    ramp_steps: float = 1.0  # steps spent accelerating and decelerating
    lean: float = 0.0  # forward lean at full speed, radians
    bob: float = 0.0  # pelvis height change at mid-stance (+ up for walking, - down for running)
    crouch: float = 0.0  # pelvis lowered at full speed, metres
    arm_swing: float = 0.0  # shoulder flexion per metre of foot separation, rad/m
    elbow_bend: float = 0.0  # elbow flexion at full speed, radians


def _step_frames(gait: Gait) -> tuple[list[int], list[int]]:
    """Integer lift and land frames of every step."""
    period = FPS / gait.cadence
    swing = (1.0 - gait.duty) * 2.0 * period
    lifts, lands = [], []
    for i in range(gait.steps):
        lift = int(round(_START_DELAY + i * period))
        land = max(int(round(_START_DELAY + i * period + swing)), lift + 2)
        if i >= 2:  # the same foot must be down at least one frame between swings
            lift = max(lift, lands[i - 2] + 1)
            land = max(land, lift + 2)
        lifts.append(lift)
        lands.append(land)
    return lifts, lands


def gait_frames(gait: Gait) -> int:
    """Number of samples (frames) of the gait's channels."""
    _, lands = _step_frames(gait)
    return lands[-1] + _SETTLE + 1


def build_gait(gait: Gait, geometry: BodyGeometry, style: Style) -> Channels:
    """Control channels of a stepping gait starting and ending in the neutral stance."""
    lifts, lands = _step_frames(gait)
    n = lands[-1] + _SETTLE + 1
    ch = Channels.standing(n, geometry, style)
    period = FPS / gait.cadence
    t = np.arange(n, dtype=np.float64)
    moving_from, moving_to = float(lifts[0]), float(lands[-1])
    ramp = gait.ramp_steps * period
    envelope = smoothstep((t - moving_from) / ramp) * smoothstep((moving_to - t) / ramp)

    speed = gait.speed * envelope  # (n,) m/s
    travelled = np.concatenate([[0.0], np.cumsum(speed[:-1] / FPS)])  # (n,) metres
    if gait.turn_with_distance and travelled[-1] > 0:
        ch.yaw = gait.turn * travelled / travelled[-1]
    else:
        ch.yaw = gait.turn * smoothstep((t - moving_from) / max(moving_to - moving_from, 1.0))
    dx, dz = gait.direction
    c, s = np.cos(ch.yaw), np.sin(ch.yaw)
    velocity = np.stack([c * dx + s * dz, -s * dx + c * dz], axis=-1) * speed[:, None]
    ch.root_xz = np.concatenate([np.zeros((1, 2)), np.cumsum(velocity[:-1] / FPS, axis=0)])

    mid_stance = lands[0] + gait.duty * period
    rhythm = np.cos(2.0 * np.pi * (t - mid_stance) / period)
    ch.height = ch.height + envelope * (gait.bob * rhythm - gait.crouch)
    ch.spine_pitch = ch.spine_pitch + 0.6 * gait.lean * envelope
    ch.pelvis_pitch = 0.4 * gait.lean * envelope
    ch.arm_swing = gait.arm_swing * envelope
    ch.elbow_bend = gait.elbow_bend * envelope

    other = RIGHT if gait.lead == LEFT else LEFT
    ch.steps = [
        Step(
            foot=gait.lead if i % 2 == 0 else other,
            lift=lift,
            land=land,
            height=gait.step_height,
            plant=gait.plant,
            plant_by=n - 1,
        )
        for i, (lift, land) in enumerate(zip(lifts, lands, strict=True))
    ]
    return ch
