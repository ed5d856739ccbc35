"""Sequences longer than the network's window: overlapping windows fused at every step.

`fused(denoise_fn, windows, length)` turns a denoise function over a batch of windows into one
over the whole (1, L, D) sequence: each step cuts the windows out of x_t, predicts their x0 in
one call and averages the predictions where windows overlap; the sampler then steps the whole
sequence, so the overlaps (the transitions) are denoised jointly, not pasted.
"""

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import Tensor

from remodiffuse.diffusion.loop import DenoiseFn
from remodiffuse.errors import InputError


@dataclass(frozen=True)
class Window:
    """Frames start..stop-1 of the whole sequence."""

    start: int
    stop: int

    @property
    def length(self) -> int:
        return self.stop - self.start


def check_windows(windows: Sequence[Window], length: int) -> None:
    """InputError unless the windows are non-empty, inside 0..length and cover every frame."""
    covered = torch.zeros(length, dtype=torch.bool)
    for window in windows:
        if not 0 <= window.start < window.stop <= length:
            raise InputError(f"window {window} is empty or outside frames 0..{length}")
        covered[window.start : window.stop] = True
    if not windows or not covered.all():
        first = int((~covered).nonzero()[0]) if windows else 0
        raise InputError(f"windows {list(windows)} leave frame {first} of {length} uncovered")


def fused(denoise_fn: DenoiseFn, windows: Sequence[Window], length: int) -> DenoiseFn:
    """A denoise function of (1, L, D) sequences from one of (W, T_max, D) windows (window w
    in row w, its frames first, zero padding after); overlapping x0 predictions are averaged."""
    check_windows(windows, length)
    longest = max(window.length for window in windows)
    counts = torch.zeros(length)
    for window in windows:
        counts[window.start : window.stop] += 1

    def denoise(x_t: Tensor, t: int) -> Tensor:
        if x_t.shape[:2] != (1, length):
            raise InputError(f"fused windows expect a (1, {length}, D) sequence, got {x_t.shape}")
        cut = x_t.new_zeros(len(windows), longest, x_t.shape[2])  # (W, T_max, D)
        for row, window in enumerate(windows):
            cut[row, : window.length] = x_t[0, window.start : window.stop]
        x0_windows = denoise_fn(cut, t)  # (W, T_max, D)
        total = torch.zeros_like(x_t[0])  # (L, D)
        for row, window in enumerate(windows):
            total[window.start : window.stop] += x0_windows[row, : window.length]
        return (total / counts.to(total)[:, None])[None]  # (1, L, D)

    return denoise
