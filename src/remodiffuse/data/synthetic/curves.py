"""Smooth 1-D easing curves and keyframe interpolation used to shape every motion channel."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from remodiffuse.data.synthetic.kinematics import normalize, slerp

__all__ = [
    "bump",
    "direction_keyframes",
    "hermite",
    "plateau",
    "scalar_keyframes",
    "smoothstep",
]


def smoothstep(x: np.ndarray) -> np.ndarray:
    """3x^2 - 2x^3 on x clipped to [0, 1] (zero slope at both ends)."""
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3.0 - 2.0 * x)


def bump(x: np.ndarray) -> np.ndarray:
    """sin(pi x) on [0, 1], zero outside: a single smooth hump of height 1."""
    x = np.asarray(x, dtype=np.float64)
    return np.where((x > 0.0) & (x < 1.0), np.sin(np.pi * np.clip(x, 0.0, 1.0)), 0.0)


def plateau(t: np.ndarray, start: float, end: float, ramp: float) -> np.ndarray:
    """0 before `start`, smooth rise over `ramp` to 1, held until `end - ramp`, smooth fall to 0."""
    ramp = max(ramp, 1e-6)
    return smoothstep((t - start) / ramp) * smoothstep((end - t) / ramp)


def hermite(t: np.ndarray, p0: float, v0: float, p1: float, v1: float) -> np.ndarray:
    """Cubic Hermite curve on t in [0, 1]: end values p0, p1, end slopes v0, v1 (per unit t)."""
    t = np.clip(t, 0.0, 1.0)
    t2, t3 = t * t, t * t * t
    return (
        (2 * t3 - 3 * t2 + 1) * p0
        + (t3 - 2 * t2 + t) * v0
        + (-2 * t3 + 3 * t2) * p1
        + (t3 - t2) * v1
    )


def scalar_keyframes(n: int, times: Sequence[float], values: Sequence[float]) -> np.ndarray:
    """(n,) samples at frames 0..n-1 eased (smoothstep) between (time, value) keys, held outside."""
    frames = np.arange(n, dtype=np.float64)
    out = np.full(n, float(values[0]))
    for (t0, v0), (t1, v1) in zip(
        zip(times[:-1], values[:-1], strict=True),
        zip(times[1:], values[1:], strict=True),
        strict=True,
    ):
        if t1 <= t0:
            continue
        inside = frames >= t0
        out[inside] = v0 + (v1 - v0) * smoothstep((frames[inside] - t0) / (t1 - t0))
    return out


def direction_keyframes(
    n: int, times: Sequence[float], directions: Sequence[np.ndarray]
) -> np.ndarray:
    """(n, 3) unit vectors at frames 0..n-1, slerped with smoothstep easing between keys."""
    frames = np.arange(n, dtype=np.float64)
    keys = [normalize(np.asarray(d, dtype=np.float64)) for d in directions]
    out = np.repeat(keys[0][None], n, axis=0)
    for i in range(len(keys) - 1):
        t0, t1 = times[i], times[i + 1]
        if t1 <= t0:
            continue
        inside = frames >= t0
        s = smoothstep((frames[inside] - t0) / (t1 - t0))
        out[inside] = slerp(keys[i], keys[i + 1], s)
    return out
