"""Temporal low-pass of a sampled motion: a Gaussian over frames, inside each motion's frames.

`smooth_in_time(x, valid, sigma)` is a normalised convolution: padding never leaks in and the ends
keep their level. The generator applies it to the sampler's result (not to every step's x0
prediction, which moves the whole trajectory and costs text matching), then re-applies any
constraint, so pinned values stay exact.
"""

import math

import torch
from torch import Tensor
from torch.nn import functional

from remodiffuse.errors import InputError


def check_sigma(sigma: float) -> float:
    """sigma as a float; InputError unless it is a finite number of frames >= 0."""
    if isinstance(sigma, bool) or not isinstance(sigma, int | float):
        raise InputError(f"smoothing must be a number of frames, got {sigma!r}")
    if not (math.isfinite(sigma) and sigma >= 0):
        raise InputError(f"smoothing must be a finite number of frames >= 0, got {sigma}")
    return float(sigma)


def gaussian_kernel(sigma: float) -> Tensor:
    """(2r + 1,) normalised Gaussian taps, r = ceil(3 sigma)."""
    radius = math.ceil(3 * sigma)
    offsets = torch.arange(-radius, radius + 1, dtype=torch.float64)
    taps = torch.exp(-0.5 * (offsets / sigma) ** 2)
    return taps / taps.sum()


def smooth_in_time(x: Tensor, valid: Tensor, sigma: float) -> Tensor:
    """(B, T, D) x low-passed over T inside `valid` (B, T) bool frames; others left as they are
    (x itself when sigma is 0)."""
    if check_sigma(sigma) == 0:
        return x
    kernel = gaussian_kernel(sigma).to(x)  # (K,)
    weight = valid.to(x)[:, None, :]  # (B, 1, T)
    channels = x.shape[2]
    signal = x.transpose(1, 2) * weight  # (B, D, T)
    pad = len(kernel) // 2
    summed = functional.conv1d(
        signal, kernel.expand(channels, 1, -1).contiguous(), padding=pad, groups=channels
    )  # (B, D, T)
    norm = functional.conv1d(weight, kernel.view(1, 1, -1), padding=pad)  # (B, 1, T)
    smooth = (summed / norm.clamp_min(1e-12)).transpose(1, 2)  # (B, T, D)
    return torch.where(valid[:, :, None], smooth, x)
