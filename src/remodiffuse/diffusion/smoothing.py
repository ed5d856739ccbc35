"""Temporal low-pass of the predicted clean motion at every sampling step.

`smoothed(denoise_fn, sigma, lengths)` convolves each x0 prediction over time with a Gaussian of
`sigma` frames, within each motion's own frames (a normalised convolution: padding never leaks
in, the ends keep their level). Applied before any constraint, so pinned values stay exact.
"""

import math
from collections.abc import Sequence

import torch
from torch import Tensor
from torch.nn import functional

from remodiffuse.diffusion.loop import DenoiseFn
from remodiffuse.errors import InputError


def gaussian_kernel(sigma: float) -> Tensor:
    """(2r + 1,) normalised Gaussian taps, r = ceil(3 sigma)."""
    radius = math.ceil(3 * sigma)
    offsets = torch.arange(-radius, radius + 1, dtype=torch.float64)
    taps = torch.exp(-0.5 * (offsets / sigma) ** 2)
    return taps / taps.sum()


def smooth_in_time(x: Tensor, valid: Tensor, sigma: float) -> Tensor:
    """(B, T, D) x low-passed over T inside `valid` (B, T) bool frames; others left as they are."""
    kernel = gaussian_kernel(sigma).to(x)  # (K,)
    weight = valid.to(x)[:, None, :]  # (B, 1, T)
    channels = x.shape[2]
    signal = (x * weight.transpose(1, 2)).transpose(1, 2)  # (B, D, T)
    pad = len(kernel) // 2
    summed = functional.conv1d(
        signal, kernel.expand(channels, 1, -1).contiguous(), padding=pad, groups=channels
    )  # (B, D, T)
    norm = functional.conv1d(weight, kernel.view(1, 1, -1), padding=pad)  # (B, 1, T)
    smooth = (summed / norm.clamp_min(1e-12)).transpose(1, 2)  # (B, T, D)
    return torch.where(valid[:, :, None], smooth, x)


def check_sigma(sigma: float) -> float:
    """sigma as a float; InputError unless it is a finite number of frames >= 0."""
    if isinstance(sigma, bool) or not isinstance(sigma, int | float):
        raise InputError(f"smoothing must be a number of frames, got {sigma!r}")
    if not (math.isfinite(sigma) and sigma >= 0):
        raise InputError(f"smoothing must be a finite number of frames >= 0, got {sigma}")
    return float(sigma)


def smoothed(denoise_fn: DenoiseFn, sigma: float, lengths: Sequence[int]) -> DenoiseFn:
    """denoise_fn whose x0 predictions are low-passed over each motion's first lengths[b]
    frames (denoise_fn itself when sigma is 0)."""
    if check_sigma(sigma) == 0:
        return denoise_fn
    lengths_t = torch.as_tensor(list(lengths))

    def denoise(x_t: Tensor, t: int) -> Tensor:
        x0 = denoise_fn(x_t, t)  # (B, T, D)
        if len(lengths_t) != x0.shape[0]:
            raise InputError(f"{len(lengths_t)} lengths for a batch of {x0.shape[0]} motions")
        frames = torch.arange(x0.shape[1], device=x0.device)
        valid = frames[None] < lengths_t.to(x0.device)[:, None]  # (B, T)
        return smooth_in_time(x0, valid, sigma)

    return denoise
