"""Transition smoothness around seams: FlowMDM's peak jerk (PJ) and area under the jerk (AUJ).

The jerk of a frame is the largest, over joints, magnitude of the third time derivative of the
joint positions (finite differences at `fps`, m/s^3). Around a seam, PJ is its maximum over a
window of `window` frames centred on the seam and AUJ its sum over that window divided by fps
(the area under the jerk curve, m/s^2).
"""

from collections.abc import Sequence

import numpy as np

from remodiffuse.errors import InputError

SEAM_WINDOW = 30  # frames around a seam (1.5 s at 20 fps)


def frame_jerk(joints: np.ndarray, fps: float) -> np.ndarray:
    """(T, J, 3) positions -> (T - 3,) jerk: max over joints of |d^3 x / dt^3|; entry i is
    centred between frames i + 1 and i + 2."""
    if joints.ndim != 3 or joints.shape[0] < 4:
        raise InputError(f"jerk needs (T >= 4, J, 3) joints, got {joints.shape}")
    third = np.diff(joints, n=3, axis=0) * fps**3  # (T - 3, J, 3)
    return np.linalg.norm(third, axis=-1).max(axis=-1)


def seam_jerk(
    joints: np.ndarray, seams: Sequence[int], fps: float, window: int = SEAM_WINDOW
) -> dict[str, float]:
    """Mean over `seams` (frame indices) of PJ and AUJ in a `window`-frame window around each."""
    jerk = frame_jerk(joints, fps)  # (T - 3,)
    peaks, areas = [], []
    for seam in seams:
        low = max(0, seam - window // 2 - 2)  # jerk entry i sits at frame i + 1.5
        high = min(len(jerk), seam + window - window // 2 - 1)
        if not low < high:
            raise InputError(f"seam {seam} is outside a motion of {joints.shape[0]} frames")
        peaks.append(float(jerk[low:high].max()))
        areas.append(float(jerk[low:high].sum() / fps))
    return {"peak_jerk": float(np.mean(peaks)), "area_under_jerk": float(np.mean(areas))}
