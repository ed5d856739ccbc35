"""Motions stored once each in a ragged layout: all frames (F, D) plus offsets (M + 1,)."""

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class MotionStore:
    """Motion m is frames[offsets[m]:offsets[m + 1]] (normalised features, float32)."""

    frames: np.ndarray  # (F, D) float32, possibly memory-mapped
    offsets: np.ndarray  # (M + 1,) int64

    def __post_init__(self) -> None:
        offsets = self.offsets
        if (
            self.frames.ndim != 2
            or offsets.ndim != 1
            or offsets.size < 2
            or offsets[0] != 0
            or offsets[-1] != self.frames.shape[0]
            or (np.diff(offsets) <= 0).any()
        ):
            raise ValueError(
                f"inconsistent motion store: frames {self.frames.shape}, offsets {offsets.shape} "
                "must be increasing from 0 to the number of frames"
            )

    @classmethod
    def pack(cls, motions: Sequence[np.ndarray], lengths: np.ndarray) -> "MotionStore":
        """First lengths[m] frames of each (T_m, D) motion (a padded (M, T, D) array works too)."""
        if len(motions) != lengths.shape[0]:
            raise ValueError(f"got {len(motions)} motions for {lengths.shape[0]} motion lengths")
        offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
        dim = np.shape(motions[0])[-1] if len(motions) else 0
        frames = np.empty((int(offsets[-1]), dim), np.float32)  # (F, D)
        for m, (motion, length) in enumerate(zip(motions, lengths, strict=True)):
            motion = np.asarray(motion)
            if motion.ndim != 2 or motion.shape[1] != dim or motion.shape[0] < length:
                raise ValueError(
                    f"motion {m} must be a (T >= {length}, {dim}) array, got {motion.shape}"
                )
            frames[offsets[m] : offsets[m + 1]] = motion[:length]
        if not np.isfinite(frames).all():
            raise ValueError("motions contain NaN or infinite values")
        return cls(frames, offsets)

    @property
    def num_motions(self) -> int:
        return self.offsets.shape[0] - 1

    @property
    def lengths(self) -> np.ndarray:
        """(M,) frames per motion."""
        return np.diff(self.offsets)

    def padded(self, motions: np.ndarray, max_length: int) -> tuple[np.ndarray, np.ndarray]:
        """Motions (...,) as (..., max_length, D) float32 (first frames, zero-padded) + lengths."""
        flat = motions.reshape(-1)
        lengths = np.minimum(self.lengths[flat], max_length)  # (B,)
        out = np.zeros((flat.size, max_length, self.frames.shape[1]), np.float32)  # (B, T, D)
        for row, (motion, length) in enumerate(zip(flat, lengths, strict=True)):
            start = self.offsets[motion]
            out[row, :length] = self.frames[start : start + length]
        return out.reshape(*motions.shape, max_length, -1), lengths.reshape(motions.shape)
