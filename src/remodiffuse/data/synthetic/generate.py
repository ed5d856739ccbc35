"""One synthetic dataset entry: a motion run through the HumanML3D feature pipeline, checked, and
captioned, all drawn deterministically from one seed."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from remodiffuse.data.synthetic.captions import caption_line, describe_motion
from remodiffuse.data.synthetic.sequence import MAX_FRAMES, MIN_FRAMES, sample_motion
from remodiffuse.motion import joints_from_features, process_motion
from remodiffuse.motion.plausibility import physical_report

__all__ = ["MotionEntry", "RECOVERY_TOLERANCE", "make_entry"]

RECOVERY_TOLERANCE = 1e-3  # metres between recovered and pipeline-normalised generated joints
_MAX_ATTEMPTS = 20


@dataclass(frozen=True)
class MotionEntry:
    """Everything written for one motion id."""

    features: np.ndarray  # (T-1, 263) float32, new_joint_vecs
    joints: np.ndarray  # (T-1, 22, 3) float32, new_joints (recovered from the features)
    caption_lines: tuple[str, ...]  # texts/ID.txt lines
    metadata: dict  # primitives, style, physical report (JSON-serialisable)
    rejected: int  # motions drawn and discarded before this one


def _acceptable(joints: np.ndarray) -> tuple[np.ndarray, np.ndarray, dict] | None:
    """(features, recovered joints, report) if the motion passes every check, else None."""
    processed = process_motion(joints)
    features = processed["features"]  # (T-1, 263)
    recovered = joints_from_features(features)  # (T-1, 22, 3)
    if not MIN_FRAMES - 1 <= len(features) <= MAX_FRAMES - 1:
        return None
    error = float(np.abs(recovered - processed["global_positions"][:-1]).max())
    report = physical_report(recovered)
    if not report["passed"] or error > RECOVERY_TOLERANCE:
        return None
    report["recovery_error"] = error
    return features, recovered, report


def make_entry(seed: np.random.SeedSequence) -> MotionEntry:
    """Draw motions from `seed` until one passes the checks, then caption it."""
    rng = np.random.default_rng(seed)
    for attempt in range(_MAX_ATTEMPTS):
        motion = sample_motion(rng)
        checked = _acceptable(motion.joints)
        if checked is None:
            continue
        features, recovered, report = checked
        captions = describe_motion(motion.primitives, rng)
        metadata = {
            "frames": len(features),
            "primitives": [record.to_json() for record in motion.primitives],
            "style": {k: round(v, 4) for k, v in asdict(motion.style).items()},
            "physical": {k: round(float(v), 6) for k, v in report.items() if k != "passed"},
        }
        return MotionEntry(
            features=features.astype(np.float32),
            joints=recovered.astype(np.float32),
            caption_lines=tuple(caption_line(text) for text in captions),
            metadata=metadata,
            rejected=attempt,
        )
    raise RuntimeError(f"no synthetic motion passed the checks in {_MAX_ATTEMPTS} attempts")
