"""Random motions: one to three primitives chained (sometimes with an arm gesture over a gait).

Primitive frequencies follow 1 / rank (`PRIMITIVES` order), the total length stays within
41..197 input frames (40..196 feature rows) and the heading stays within +-150 degrees of the
first frame, clear of the reference pipeline's heading-wrap artefact.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from remodiffuse.data.synthetic.body import BodyGeometry, Style, body_geometry
from remodiffuse.data.synthetic.channels import Channels, concatenate
from remodiffuse.data.synthetic.pose import pose_joints
from remodiffuse.data.synthetic.primitives import (
    OVERLAY_HOSTS,
    OVERLAY_LABELS,
    PRIMITIVES,
    Params,
    fit_primitive,
)

__all__ = ["MAX_FRAMES", "MIN_FRAMES", "PrimitiveRecord", "SyntheticMotion", "sample_motion"]

MIN_FRAMES, MAX_FRAMES = 41, 197  # input frames; the features have one row fewer
_LABELS = tuple(p.label for p in PRIMITIVES)
_ZIPF = 1.0 / np.arange(1, len(_LABELS) + 1)
_BY_LABEL = {p.label: p for p in PRIMITIVES}
_SEQUENCE_LENGTHS, _SEQUENCE_PROBS = (1, 2, 3), (0.25, 0.45, 0.3)
_OVERLAY_PROB = 0.12
_SHORT_PROB = 0.15  # motions capped at 41..90 frames; the rest at 91..197
_RESERVE = 40  # frames kept free for each primitive still to be drawn
_ATTEMPTS = 12


@dataclass(frozen=True)
class PrimitiveRecord:
    """One primitive of a motion, with its frame span [start, end] in the written frames."""

    label: str
    params: Params
    start: int
    end: int
    overlay: PrimitiveRecord | None = None  # an arm gesture performed during this primitive

    def to_json(self) -> dict:
        out: dict = {"label": self.label, "params": dict(self.params), "start": self.start,
                     "end": self.end}  # fmt: skip
        if self.overlay is not None:
            out["overlay"] = self.overlay.to_json()
        return out


@dataclass(frozen=True)
class SyntheticMotion:
    """Generated joints (T, 22, 3) in metres at 20 fps and what they show."""

    joints: np.ndarray
    primitives: tuple[PrimitiveRecord, ...]
    style: Style


def _draw_label(rng: np.random.Generator, exclude: str | None) -> str:
    weights = np.where(np.array(_LABELS) == exclude, 0.0, _ZIPF)
    return str(rng.choice(_LABELS, p=weights / weights.sum()))


def _add_overlay(
    host: Channels, rng: np.random.Generator, geometry: BodyGeometry, style: Style
) -> tuple[str, Params, int, int] | None:
    """Lay a random arm gesture over the host's arms; returns (label, params, first, last)."""
    label = str(rng.choice(OVERLAY_LABELS))
    fitted = fit_primitive(label, rng, 0.0, host.num_frames - 1, geometry, style)
    if fitted is None:
        return None
    params, gesture = fitted
    first = (host.num_frames - gesture.num_frames) // 2
    window = slice(first, first + gesture.num_frames)
    host.arm_dirs[window] = gesture.arm_dirs
    host.arm_weight[window] = gesture.arm_weight
    return label, params, first, first + gesture.num_frames - 1


def sample_motion(
    rng: np.random.Generator, geometry: BodyGeometry | None = None
) -> SyntheticMotion:
    """A random motion of one to three primitives, drawn from `rng`."""
    geometry = geometry or body_geometry()
    style = Style.sample(rng)
    short = rng.random() < _SHORT_PROB
    cap = int(rng.integers(MIN_FRAMES, 91) if short else rng.integers(91, MAX_FRAMES + 1))
    count = int(rng.choice(_SEQUENCE_LENGTHS, p=_SEQUENCE_PROBS))
    lead_in = int(rng.integers(0, 9))
    parts = [Channels.standing(lead_in + 1, geometry, style)]
    planned: list[tuple[str, Params, int, tuple[str, Params, int, int] | None]] = []
    used, heading, previous = lead_in, 0.0, None
    while len(planned) < count:
        fitted = None
        for _ in range(_ATTEMPTS):
            label = _draw_label(rng, previous)
            reserved = _RESERVE * (count - len(planned) - 1)  # room for the ones still to come
            budget = max(cap - 1 - used - reserved, _RESERVE)
            fitted = fit_primitive(label, rng, heading, min(budget, cap - 1 - used), geometry,
                                   style)  # fmt: skip
            if fitted is not None:
                break
        if fitted is None:
            if planned:
                break
            cap = MAX_FRAMES  # nothing fitted the short cap: allow a full-length motion
            continue
        params, channels = fitted
        overlay = None
        if label in OVERLAY_HOSTS and rng.random() < _OVERLAY_PROB:
            overlay = _add_overlay(channels, rng, geometry, style)
        planned.append((label, params, len(parts), overlay))
        parts.append(channels)
        used += channels.num_frames - 1
        heading += _BY_LABEL[label].turn(params)
        previous = label
    lead_out = max(MIN_FRAMES - 1 - used, min(int(rng.integers(0, 21)), cap - 1 - used))
    if lead_out > 0:
        parts.append(Channels.standing(lead_out + 1, geometry, style))

    start_xz = rng.uniform(-1.0, 1.0, size=2)
    start_yaw = float(rng.uniform(-np.pi, np.pi))
    channels, spans = concatenate(parts, start_xz, start_yaw)
    joints = pose_joints(channels, geometry, style)
    last = len(joints) - 2  # last feature row
    records = []
    for label, params, part, overlay in planned:
        start, end = spans[part]
        extra = None
        if overlay is not None:
            o_label, o_params, o_first, o_last = overlay
            extra = PrimitiveRecord(o_label, o_params, start + o_first, min(start + o_last, last))
        records.append(PrimitiveRecord(label, params, start, min(end, last), extra))
    return SyntheticMotion(joints, tuple(records), style)
