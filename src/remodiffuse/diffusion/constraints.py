"""Sampling-time constraints on the predicted clean motion: known frames and channels.

Every sampler here steps from an x0 prediction, so pinning values of x0 at every step is enough
for continuation, keyframes and body-part editing: `constrained(denoise_fn, constraint)` wraps
any denoise function (the condition mixture included, unchanged) and the sampler does the rest.
Which channels a "known frame" pins is the motion representation's business, not this module's.
"""

from dataclasses import dataclass

import torch
from torch import Tensor

from remodiffuse.diffusion.loop import DenoiseFn
from remodiffuse.errors import InputError


@dataclass(frozen=True)
class X0Constraint:
    """x0 <- (1 - weight) x0 + weight values, at every sampling step.

    weight is 1 where a value is pinned exactly, 0 where it is free and in between for a soft
    blend; it broadcasts against the (B, T, D) motion (e.g. (1, T, D) or (B, T, 1)).
    """

    values: Tensor  # (B, T, D) known values in the sampler's space (normalised features)
    weight: Tensor  # broadcastable to (B, T, D), in [0, 1]

    def __post_init__(self) -> None:
        if self.values.dim() != 3 or self.weight.dim() != 3:
            raise InputError(
                f"constraint values and weight need 3 dims (B, T, D), got "
                f"{tuple(self.values.shape)} and {tuple(self.weight.shape)}"
            )
        try:
            torch.broadcast_shapes(self.values.shape, self.weight.shape)
        except RuntimeError:
            raise InputError(
                f"constraint weight {tuple(self.weight.shape)} does not broadcast to the values "
                f"{tuple(self.values.shape)}"
            ) from None
        if not ((self.weight >= 0) & (self.weight <= 1)).all():
            raise InputError("constraint weights must lie in [0, 1]")
        if not torch.isfinite(self.values[(self.weight > 0).expand_as(self.values)]).all():
            raise InputError("constrained values must be finite")

    def apply(self, x0: Tensor) -> Tensor:
        """(B, T, D) x0 with the known values blended in (exactly equal where weight is 1)."""
        if x0.shape != self.values.shape:
            raise InputError(
                f"constraint of shape {tuple(self.values.shape)} on a motion of shape "
                f"{tuple(x0.shape)}"
            )
        weight = self.weight.to(x0)
        return x0 * (1 - weight) + self.values.to(x0) * weight


def known_frames(values: Tensor, frames: Tensor, channels: Tensor) -> X0Constraint:
    """Pin `channels` (D,) bool of the `frames` (B, T) bool of (B, T, D) values exactly."""
    weight = frames[:, :, None] & channels[None, None, :]  # (B, T, D)
    return X0Constraint(values, weight.to(values.dtype))


def constrained(denoise_fn: DenoiseFn, constraint: X0Constraint | None) -> DenoiseFn:
    """denoise_fn whose x0 prediction obeys `constraint` (denoise_fn itself when None)."""
    if constraint is None:
        return denoise_fn

    def denoise(x_t: Tensor, t: int) -> Tensor:
        return constraint.apply(denoise_fn(x_t, t))

    return denoise
