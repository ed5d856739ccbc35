"""Whole-body actions on the spot or with a short flight: jump, squat, kick and bow."""

from __future__ import annotations

import numpy as np

from remodiffuse.data.synthetic.body import LEFT, RIGHT, BodyGeometry, Style
from remodiffuse.data.synthetic.channels import Channels, Step, rest_arm_directions
from remodiffuse.data.synthetic.curves import bump, hermite, plateau, scalar_keyframes, smoothstep
from remodiffuse.data.synthetic.kinematics import normalize, rot_x
from remodiffuse.data.synthetic.locomotion import FPS

__all__ = ["build_bow", "build_jump", "build_kick", "build_squat"]

GRAVITY = 9.81
_START = 3.0  # frames of neutral stance before an action starts


def _swung_arms(style: Style, flex: np.ndarray, elbow: np.ndarray) -> np.ndarray:
    """(n, 2, 3) left-arm directions for shoulder flexion `flex` and elbow bend `elbow` (n,)."""
    rest = rest_arm_directions(style)[LEFT]
    return np.stack([rot_x(-flex) @ rest[0], rot_x(-(flex + elbow)) @ rest[1]], axis=1)


def build_jump(
    jumps: int, clearance: float, distance: float, geometry: BodyGeometry, style: Style
) -> Channels:
    """Crouch, push off and fly `jumps` times; `clearance` is the pelvis rise after take-off and
    `distance` the ground covered by each jump (0 jumps on the spot)."""
    stand, takeoff = geometry.standing_height(style), geometry.takeoff_height()
    v0 = np.sqrt(2.0 * GRAVITY * clearance)  # take-off speed, m/s
    flight = 2.0 * v0 / GRAVITY * FPS  # frames
    crouch = stand - (0.1 + 0.3 * clearance + 0.08 * distance)
    landing = stand - (0.06 + 0.3 * clearance)
    dip, push, absorb, recover = 8.0, 4.0, 5.0, 10.0
    v_ground = distance * FPS / (flight + 0.5 * push + 0.5 * absorb)  # m/s in flight

    pieces: list[tuple[float, float, object, object]] = []  # (start, frames, height(s), x(s))
    t, x = _START, 0.0
    flights: list[tuple[int, int, int]] = []  # (lift, land, settled) frames
    for i in range(jumps):
        previous = stand if i == 0 else landing
        depth_time = dip if i == 0 else 6.0
        pieces.append((t, depth_time, lambda s, a=previous: a + (crouch - a) * smoothstep(s), x))
        t += depth_time
        pieces.append(
            (
                t,
                push,
                lambda s: hermite(s, crouch, 0.0, takeoff, v0 * push / FPS),
                lambda s, x0=x: x0 + v_ground * push / FPS * (s**3 - 0.5 * s**4),
            )
        )
        x += 0.5 * v_ground * push / FPS
        lift = int(np.floor(t + push))
        t += push
        pieces.append(
            (
                t,
                flight,
                lambda s: takeoff + v0 * s * flight / FPS - 0.5 * GRAVITY * (s * flight / FPS) ** 2,
                lambda s, x0=x: x0 + v_ground * s * flight / FPS,
            )
        )
        x += v_ground * flight / FPS
        t += flight
        land = int(np.ceil(t))
        pieces.append(
            (
                t,
                absorb,
                lambda s: hermite(s, takeoff, -v0 * absorb / FPS, landing, 0.0),
                lambda s, x0=x: x0 + v_ground * absorb / FPS * (s - s**3 + 0.5 * s**4),
            )
        )
        x += 0.5 * v_ground * absorb / FPS
        t += absorb
        flights.append((lift, land, int(np.ceil(t))))
    pieces.append((t, recover, lambda s: landing + (stand - landing) * smoothstep(s), x))
    t += recover
    n = int(np.ceil(t)) + 4

    ch = Channels.standing(n, geometry, style)
    frames = np.arange(n, dtype=np.float64)
    height, forward = np.full(n, stand), np.zeros(n)
    for start, length, h_curve, x_curve in pieces:
        inside = frames >= start
        s = np.clip((frames[inside] - start) / length, 0.0, 1.0)
        height[inside] = h_curve(s)
        forward[inside] = x_curve(s) if callable(x_curve) else x_curve
    ch.height = height
    ch.root_xz[:, 1] = forward

    ch.steps = [
        Step(foot=f, lift=lift, land=land, height=0.03, plant=1.0, plant_by=settled,
             follow_root=True)
        for lift, land, settled in flights
        for f in (LEFT, RIGHT)
    ]  # fmt: skip
    squat = np.clip((stand - height) / (stand - crouch), 0.0, 1.0)
    ch.spine_pitch = ch.spine_pitch + 0.35 * squat
    ch.pelvis_pitch = 0.2 * squat
    flex_times, flex_values = [0.0, _START], [0.0, 0.0]
    for lift, land, settled in flights:
        flex_times += [lift - push, 0.5 * (lift + land), settled]
        flex_values += [-0.7, 0.8 + 3.0 * clearance, 0.5]
    flex_times.append(n - 3.0)
    flex_values.append(0.0)
    elbow = scalar_keyframes(n, [_START, _START + 6.0, n - 9.0, n - 3.0], [0.0, 0.35, 0.35, 0.0])
    arms = _swung_arms(style, scalar_keyframes(n, flex_times, flex_values), elbow)
    ch.set_both_arms(arms)
    return ch


def build_squat(
    squats: int, depth: float, pace: float, hold: float, arms_forward: bool,
    geometry: BodyGeometry, style: Style,
) -> Channels:  # fmt: skip
    """Bend the knees `squats` times, lowering the pelvis by `depth` metres over `pace` frames."""
    stand = geometry.standing_height(style)
    times, values = [0.0, _START], [0.0, 0.0]
    t = _START
    for _ in range(squats):
        times += [t + pace, t + pace + hold, t + 2 * pace + hold]
        values += [1.0, 1.0, 0.0]
        t += 2 * pace + hold + 3
    n = int(np.ceil(t)) + 2
    down = scalar_keyframes(n, times, values)  # (n,) 0 standing .. 1 bottom
    ch = Channels.standing(n, geometry, style)
    ch.height = stand - depth * down
    ch.root_xz[:, 1] = -0.35 * depth * down
    ch.pelvis_pitch = (0.25 + 0.6 * depth) * down
    ch.spine_pitch = ch.spine_pitch + 0.15 * down
    ch.neck_pitch = -0.2 * down
    if arms_forward:
        reach = normalize(np.array([[0.12, 0.45, 0.9], [0.08, 0.4, 0.9]]))
        ch.set_both_arms(np.broadcast_to(reach, (n, 2, 3)).copy(), down)
    return ch


def build_kick(
    side: int, kicks: int, height: float, geometry: BodyGeometry, style: Style
) -> Channels:
    """Shift the weight onto the other foot and kick forward `kicks` times; `height` in metres
    is how far the ankle rises above a normal step at the kick's peak."""
    stand = geometry.standing_height(style)
    shift_time, swing_time = 8.0, 14.0 + 8.0 * height
    steps = []
    t = _START + shift_time
    for _ in range(kicks):
        steps.append((int(round(t)), int(round(t + swing_time))))
        t += swing_time + 5.0
    n = int(np.ceil(t + shift_time)) + 3
    ch = Channels.standing(n, geometry, style)
    frames = np.arange(n, dtype=np.float64)
    weight = plateau(frames, _START, t + shift_time - 5.0, shift_time)
    support = 1.0 if side == RIGHT else -1.0  # +X is the left: move over the other foot
    ch.root_xz[:, 0] = support * 0.06 * weight
    hip_height = stand + geometry.hip_offset(side)[1]
    peak = geometry.ankle_height(side) + 0.06 + height
    reach = np.sqrt(max((0.97 * geometry.leg(side)) ** 2 - (hip_height - peak) ** 2, 0.04))
    ch.steps = [
        Step(foot=side, lift=lift, land=land, height=0.06, same_spot=True,
             kick_reach=float(reach), kick_height=height)
        for lift, land in steps
    ]  # fmt: skip
    kicking = sum(bump((frames - lift) / (land - lift)) for lift, land in steps)
    ch.spine_pitch = ch.spine_pitch - 0.35 * height * kicking
    ch.pelvis_pitch = -0.2 * height * kicking
    balance = normalize(np.array([[0.45, -0.85, 0.2], [0.35, -0.8, 0.45]]))
    ch.set_both_arms(np.broadcast_to(balance, (n, 2, 3)).copy(), weight)
    return ch


def build_bow(angle: float, hold: float, geometry: BodyGeometry, style: Style) -> Channels:
    """Bend forward at the hips by `angle` radians, hold for `hold` frames, straighten up."""
    down_time, up_time = 12.0, 14.0
    end = _START + down_time + hold + up_time
    n = int(np.ceil(end)) + 3
    bend = scalar_keyframes(
        n, [0.0, _START, _START + down_time, _START + down_time + hold, end],
        [0.0, 0.0, 1.0, 1.0, 0.0],
    ) * angle  # fmt: skip
    ch = Channels.standing(n, geometry, style)
    ch.pelvis_pitch = 0.55 * bend
    ch.spine_pitch = ch.spine_pitch + 0.45 * bend
    ch.neck_pitch = -0.25 * bend
    ch.root_xz[:, 1] = -0.12 * np.sin(bend)
    ch.height = ch.height - 0.02 * np.sin(bend)
    rest = rest_arm_directions(style)[LEFT]
    hanging = np.stack([rot_x(-0.8 * bend) @ rest[0], rot_x(-0.8 * bend) @ rest[1]], axis=1)
    ch.set_both_arms(hanging)
    return ch
