"""The action primitives: labels, seeded parameter sampling, and channel builders.

Each primitive samples JSON-friendly parameters from a numpy Generator, can shorten them to fit a
frame budget, and builds neutral-to-neutral control channels. `PRIMITIVES` lists them from the
most to the least frequent: a motion draws them with Zipf-like weights 1 / rank.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from remodiffuse.data.synthetic.actions import build_bow, build_jump, build_kick, build_squat
from remodiffuse.data.synthetic.body import LEFT, RIGHT, BodyGeometry, Style
from remodiffuse.data.synthetic.channels import Channels
from remodiffuse.data.synthetic.gestures import (
    build_clap,
    build_punch,
    build_raise_arms,
    build_wave,
)
from remodiffuse.data.synthetic.locomotion import Gait, build_gait

__all__ = [
    "HEADING_LIMIT",
    "OVERLAY_LABELS",
    "PRIMITIVES",
    "Params",
    "Primitive",
    "build_primitive",
    "fit_primitive",
    "primitive_side",
]

Params = dict[str, float | int | str]
HEADING_LIMIT = math.radians(150.0)  # |heading - initial heading| stays below this
_MIN_TURN = math.radians(45.0)
_SIDES = {"left": LEFT, "right": RIGHT}


def _side_name(rng: np.random.Generator) -> str:
    return "left" if rng.random() < 0.5 else "right"


def _r(value: float, digits: int = 3) -> float:
    """Round a sampled float so parameters stay short and exact in JSON."""
    return round(float(value), digits)


def _turn_room(heading: float, direction: float) -> float:
    """Largest turn (radians, >= 0) in `direction` (+1 left, -1 right) within the heading limit."""
    return max(HEADING_LIMIT - direction * heading, 0.0)


# ---- locomotion --------------------------------------------------------------------------------


def _sample_walk(rng: np.random.Generator, heading: float) -> Params:
    turn = 0.0
    if rng.random() < 0.25:
        direction = 1.0 if rng.random() < 0.5 else -1.0
        room = _turn_room(heading, direction)
        if room >= 0.5:
            turn = direction * rng.uniform(0.5, min(1.4, room))
    return {"speed": _r(rng.uniform(0.6, 1.8), 2), "steps": int(rng.integers(4, 17)),
            "lead": _side_name(rng), "turn": _r(turn)}  # fmt: skip


def _build_walk(p: Params, geometry: BodyGeometry, style: Style) -> Channels:
    v = float(p["speed"])
    gait = Gait(direction=(0.0, 1.0), speed=v, cadence=1.45 + 0.35 * v, duty=0.62,
                steps=int(p["steps"]), lead=_SIDES[str(p["lead"])], plant=0.35,
                step_height=0.06 + 0.02 * v, turn=float(p["turn"]), lean=0.03 * v, bob=0.01,
                arm_swing=0.9, elbow_bend=0.15 + 0.1 * v)  # fmt: skip
    return build_gait(gait, geometry, style)


def _sample_run(rng: np.random.Generator, heading: float) -> Params:
    return {"speed": _r(rng.uniform(2.0, 3.5), 2), "steps": int(rng.integers(5, 17)),
            "lead": _side_name(rng)}  # fmt: skip


def _build_run(p: Params, geometry: BodyGeometry, style: Style) -> Channels:
    v = float(p["speed"])
    gait = Gait(direction=(0.0, 1.0), speed=v, cadence=2.8 + 0.12 * (v - 2.0), duty=0.36,
                steps=int(p["steps"]), lead=_SIDES[str(p["lead"])], plant=0.45, step_height=0.12,
                ramp_steps=2.0, lean=0.18, bob=-0.035, crouch=0.04, arm_swing=1.2,
                elbow_bend=1.35)  # fmt: skip
    return build_gait(gait, geometry, style)


def _sample_backward(rng: np.random.Generator, heading: float) -> Params:
    return {"speed": _r(rng.uniform(0.4, 1.0), 2), "steps": int(rng.integers(3, 12)),
            "lead": _side_name(rng)}  # fmt: skip


def _build_backward(p: Params, geometry: BodyGeometry, style: Style) -> Channels:
    v = float(p["speed"])
    gait = Gait(direction=(0.0, -1.0), speed=v, cadence=1.5 + 0.3 * v, duty=0.65,
                steps=int(p["steps"]), lead=_SIDES[str(p["lead"])], plant=0.65,
                step_height=0.05, lean=-0.04, arm_swing=0.4, elbow_bend=0.15)  # fmt: skip
    return build_gait(gait, geometry, style)


def _sample_sidestep(rng: np.random.Generator, heading: float) -> Params:
    return {"steps": int(rng.integers(2, 6)), "step_length": _r(rng.uniform(0.22, 0.42), 2),
            "cadence": _r(rng.uniform(1.6, 2.1), 2)}  # fmt: skip


def _sidestep_builder(side: int) -> Callable[[Params, BodyGeometry, Style], Channels]:
    def build(p: Params, geometry: BodyGeometry, style: Style) -> Channels:
        cadence = float(p["cadence"])
        gait = Gait(direction=(1.0 if side == LEFT else -1.0, 0.0),
                    speed=float(p["step_length"]) * cadence / 2.0, cadence=cadence, duty=0.7,
                    steps=2 * int(p["steps"]), lead=side, plant=0.5, step_height=0.05)  # fmt: skip
        return build_gait(gait, geometry, style)

    return build


def _turn_sampler(direction: float) -> Callable[[np.random.Generator, float], Params | None]:
    def sample(rng: np.random.Generator, heading: float) -> Params | None:
        room = _turn_room(heading, direction)
        if room < _MIN_TURN:
            return None
        angle = rng.uniform(_MIN_TURN, min(room, HEADING_LIMIT))
        return {"angle": _r(math.degrees(angle), 1), "cadence": _r(rng.uniform(1.6, 2.0), 2)}

    return sample


def _turn_builder(side: int) -> Callable[[Params, BodyGeometry, Style], Channels]:
    def build(p: Params, geometry: BodyGeometry, style: Style) -> Channels:
        angle = math.radians(float(p["angle"]))
        gait = Gait(direction=(0.0, 1.0), speed=0.0, cadence=float(p["cadence"]), duty=0.65,
                    steps=max(2, math.ceil(angle / 0.9) + 1), lead=side, plant=0.5,
                    step_height=0.05, turn=angle if side == LEFT else -angle,
                    turn_with_distance=False)  # fmt: skip
        return build_gait(gait, geometry, style)

    return build


# ---- whole-body actions ----------------------------------------------------------------------


def _sample_jump_in_place(rng: np.random.Generator, heading: float) -> Params:
    return {"jumps": int(rng.choice([1, 2, 3], p=[0.5, 0.3, 0.2])),
            "clearance": _r(rng.uniform(0.06, 0.32), 2)}  # fmt: skip


def _build_jump_in_place(p: Params, geometry: BodyGeometry, style: Style) -> Channels:
    return build_jump(int(p["jumps"]), float(p["clearance"]), 0.0, geometry, style)


def _sample_jump_forward(rng: np.random.Generator, heading: float) -> Params:
    return {"jumps": int(rng.choice([1, 2], p=[0.7, 0.3])),
            "distance": _r(rng.uniform(0.3, 1.1), 2),
            "clearance": _r(rng.uniform(0.08, 0.22), 2)}  # fmt: skip


def _build_jump_forward(p: Params, geometry: BodyGeometry, style: Style) -> Channels:
    jumps, distance = int(p["jumps"]), float(p["distance"])
    return build_jump(jumps, float(p["clearance"]), distance, geometry, style)


def _sample_squat(rng: np.random.Generator, heading: float) -> Params:
    return {"squats": int(rng.choice([1, 2, 3], p=[0.5, 0.3, 0.2])),
            "depth": _r(rng.uniform(0.15, 0.45), 2), "pace": _r(rng.uniform(8.0, 16.0), 1),
            "hold": _r(rng.uniform(2.0, 10.0), 1),
            "arms_forward": int(rng.random() < 0.5)}  # fmt: skip


def _build_squat(p: Params, geometry: BodyGeometry, style: Style) -> Channels:
    return build_squat(int(p["squats"]), float(p["depth"]), float(p["pace"]), float(p["hold"]),
                       bool(p["arms_forward"]), geometry, style)  # fmt: skip


def _sample_kick(rng: np.random.Generator, heading: float) -> Params:
    return {"kicks": int(rng.choice([1, 2], p=[0.7, 0.3])),
            "height": _r(rng.uniform(0.05, 0.6), 2)}  # fmt: skip


def _kick_builder(side: int) -> Callable[[Params, BodyGeometry, Style], Channels]:
    def build(p: Params, geometry: BodyGeometry, style: Style) -> Channels:
        return build_kick(side, int(p["kicks"]), float(p["height"]), geometry, style)

    return build


def _sample_bow(rng: np.random.Generator, heading: float) -> Params:
    return {"angle": _r(math.degrees(rng.uniform(0.35, 1.1)), 1),
            "hold": _r(rng.uniform(4.0, 26.0), 1)}  # fmt: skip


def _build_bow(p: Params, geometry: BodyGeometry, style: Style) -> Channels:
    return build_bow(math.radians(float(p["angle"])), float(p["hold"]), geometry, style)


# ---- arm gestures ------------------------------------------------------------------------------


def _sample_wave(rng: np.random.Generator, heading: float) -> Params:
    return {"cycles": int(rng.integers(2, 7)), "height": "high" if rng.random() < 0.65 else "low",
            "period": _r(rng.uniform(7.0, 12.0), 1)}  # fmt: skip


def _wave_builder(side: int) -> Callable[[Params, BodyGeometry, Style], Channels]:
    def build(p: Params, geometry: BodyGeometry, style: Style) -> Channels:
        return build_wave(side, int(p["cycles"]), str(p["height"]), float(p["period"]),
                          geometry, style)  # fmt: skip

    return build


def _sample_raise_arms(rng: np.random.Generator, heading: float) -> Params:
    return {"style": str(rng.choice(["overhead", "sideways", "forward"], p=[0.5, 0.3, 0.2])),
            "times": int(rng.choice([1, 2], p=[0.75, 0.25])),
            "hold": _r(rng.uniform(4.0, 30.0), 1)}  # fmt: skip


def _build_raise_arms(p: Params, geometry: BodyGeometry, style: Style) -> Channels:
    return build_raise_arms(str(p["style"]), int(p["times"]), float(p["hold"]), geometry, style)


def _sample_punch(rng: np.random.Generator, heading: float) -> Params:
    return {"punches": int(rng.integers(1, 5)), "extend": _r(rng.uniform(2.5, 5.0), 1)}


def _punch_builder(side: int) -> Callable[[Params, BodyGeometry, Style], Channels]:
    def build(p: Params, geometry: BodyGeometry, style: Style) -> Channels:
        return build_punch(side, int(p["punches"]), float(p["extend"]), geometry, style)

    return build


def _sample_clap(rng: np.random.Generator, heading: float) -> Params:
    return {"claps": int(rng.integers(2, 9)), "period": _r(rng.uniform(5.0, 9.0), 1)}


def _build_clap(p: Params, geometry: BodyGeometry, style: Style) -> Channels:
    return build_clap(int(p["claps"]), float(p["period"]), geometry, style)


# ---- registry ----------------------------------------------------------------------------------

_COUNT_KEYS = ("steps", "jumps", "squats", "kicks", "cycles", "times", "punches", "claps")
_MIN_COUNT = {"steps": 2, "claps": 2}


def _shrink(params: Params, ratio: float) -> Params | None:
    """A shorter version of the parameters, about `ratio` (< 1) of the length when it has a
    repetition count (else a shorter hold or turn), or None when nothing can be shortened."""
    for key in _COUNT_KEYS:
        count, least = int(params.get(key, 0)), _MIN_COUNT.get(key, 1)
        if count > least:
            return {**params, key: max(least, min(count - 1, int(count * ratio)))}
    if "hold" in params and float(params["hold"]) > 4.0:
        return {**params, "hold": _r(float(params["hold"]) / 2.0, 1)}
    if "angle" in params and "cadence" in params and float(params["angle"]) > 65.0:
        return {**params, "angle": _r(float(params["angle"]) - 20.0, 1)}
    return None


def _turn_of(params: Params, label: str) -> float:
    """Heading change (radians, + left) a primitive performs."""
    if label == "turn_left":
        return math.radians(float(params["angle"]))
    if label == "turn_right":
        return -math.radians(float(params["angle"]))
    return float(params.get("turn", 0.0))


@dataclass(frozen=True)
class Primitive:
    """One action primitive."""

    label: str
    sample: Callable[[np.random.Generator, float], Params | None]
    build: Callable[[Params, BodyGeometry, Style], Channels]

    def turn(self, params: Params) -> float:
        """Heading change in radians (+ to the left)."""
        return _turn_of(params, self.label)


PRIMITIVES: tuple[Primitive, ...] = (
    Primitive("walk", _sample_walk, _build_walk),
    Primitive("run", _sample_run, _build_run),
    Primitive("jump_in_place", _sample_jump_in_place, _build_jump_in_place),
    Primitive("turn_left", _turn_sampler(1.0), _turn_builder(LEFT)),
    Primitive("turn_right", _turn_sampler(-1.0), _turn_builder(RIGHT)),
    Primitive("wave_right", _sample_wave, _wave_builder(RIGHT)),
    Primitive("walk_backward", _sample_backward, _build_backward),
    Primitive("squat", _sample_squat, _build_squat),
    Primitive("wave_left", _sample_wave, _wave_builder(LEFT)),
    Primitive("jump_forward", _sample_jump_forward, _build_jump_forward),
    Primitive("kick_right", _sample_kick, _kick_builder(RIGHT)),
    Primitive("raise_arms", _sample_raise_arms, _build_raise_arms),
    Primitive("sidestep_left", _sample_sidestep, _sidestep_builder(LEFT)),
    Primitive("sidestep_right", _sample_sidestep, _sidestep_builder(RIGHT)),
    Primitive("kick_left", _sample_kick, _kick_builder(LEFT)),
    Primitive("clap", _sample_clap, _build_clap),
    Primitive("bow", _sample_bow, _build_bow),
    Primitive("punch_right", _sample_punch, _punch_builder(RIGHT)),
    Primitive("punch_left", _sample_punch, _punch_builder(LEFT)),
)
_BY_LABEL = {p.label: p for p in PRIMITIVES}
OVERLAY_LABELS = ("wave_right", "wave_left", "clap", "raise_arms")  # arm gestures over a gait
OVERLAY_HOSTS = ("walk", "walk_backward", "sidestep_left", "sidestep_right", "turn_left",
                 "turn_right")  # fmt: skip


def primitive_side(label: str) -> str | None:
    """The body side ("left" / "right") of a one-sided primitive, else None."""
    for side in ("left", "right"):
        if label.endswith("_" + side):
            return side
    return None


def build_primitive(label: str, params: Params, geometry: BodyGeometry, style: Style) -> Channels:
    """Neutral-to-neutral channels of one primitive in its own frame."""
    return _BY_LABEL[label].build(params, geometry, style)


def fit_primitive(
    label: str,
    rng: np.random.Generator,
    heading: float,
    budget: int,
    geometry: BodyGeometry,
    style: Style,
) -> tuple[Params, Channels] | None:
    """Sample parameters for `label` and shorten them until its channels have <= budget + 1
    samples (budget new frames); None when even the shortest version does not fit."""
    params = _BY_LABEL[label].sample(rng, heading)
    while params is not None:
        channels = build_primitive(label, params, geometry, style)
        if channels.num_frames - 1 <= budget:
            return params, channels
        params = _shrink(params, budget / (channels.num_frames - 1))
    return None
