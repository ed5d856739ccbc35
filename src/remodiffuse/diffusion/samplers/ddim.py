"""DDIM (Song et al. 2021) with the released code's float32 arithmetic."""

import numpy as np
import torch
from torch import Tensor

from remodiffuse.diffusion.samplers.base import Sampler, Spacing, noise_like, scalar_like
from remodiffuse.diffusion.schedule import GaussianDiffusion


class DDIMSampler(Sampler):
    """DDIM update; eta = 0 is deterministic, eta = 1 matches DDPM's posterior variance.

    Coefficients are computed in float64 and cast to the tensors' dtype; the square roots of the
    update are then taken in that dtype, as the released sampler does.
    """

    def __init__(
        self, diffusion: GaussianDiffusion, steps: Spacing | None = None, eta: float = 0.0
    ) -> None:
        if eta < 0:
            raise ValueError(f"eta must be >= 0, got {eta}")
        self.eta = eta
        super().__init__(diffusion, steps)

    def step(
        self, x0_pred: Tensor, t: int, x_t: Tensor, generator: torch.Generator | None = None
    ) -> Tensor:
        """x_prev = sqrt(abar_prev) x0 + sqrt(1 - abar_prev - sigma^2) eps (+ sigma z)."""
        i = self.step_index(t)
        abar, abar_prev = self.alphas_cumprod[i], self.alphas_cumprod_prev[i]
        recip = scalar_like(np.sqrt(1.0 / abar), x_t)
        recip_m1 = scalar_like(np.sqrt(1.0 / abar - 1.0), x_t)
        eps = (x_t * recip - x0_pred) / recip_m1  # (B, T, D)
        a, a_prev = scalar_like(abar, x_t), scalar_like(abar_prev, x_t)
        sigma = self.eta * torch.sqrt((1 - a_prev) / (1 - a)) * torch.sqrt(1 - a / a_prev)
        x_prev = x0_pred * torch.sqrt(a_prev) + torch.sqrt(1 - a_prev - sigma**2) * eps
        if self.eta > 0 and i < self.num_steps - 1:
            x_prev = x_prev + sigma * noise_like(x_t, generator)
        return x_prev  # (B, T, D)
