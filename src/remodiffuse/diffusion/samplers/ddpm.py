"""Ancestral DDPM sampling (Ho et al. 2020) on a respaced schedule."""

from typing import Literal

import numpy as np
import torch
from torch import Tensor

from remodiffuse.diffusion.samplers.base import Sampler, Spacing, noise_like, scalar_like
from remodiffuse.diffusion.schedule import GaussianDiffusion

Variance = Literal["fixed_small", "fixed_large"]


class DDPMSampler(Sampler):
    """x_prev ~ q(x_prev | x_t, x0_pred) with beta_k = 1 - abar / abar_prev of the respaced step.

    variance "fixed_small" (default) is the true posterior variance
    beta_k (1 - abar_prev) / (1 - abar); "fixed_large" is beta_k. The last step adds no noise.
    """

    def __init__(
        self,
        diffusion: GaussianDiffusion,
        steps: Spacing | None = None,
        variance: Variance = "fixed_small",
    ) -> None:
        if variance not in ("fixed_small", "fixed_large"):
            raise ValueError(f"variance must be 'fixed_small' or 'fixed_large', got {variance!r}")
        self.variance = variance
        super().__init__(diffusion, steps)

    def step(
        self, x0_pred: Tensor, t: int, x_t: Tensor, generator: torch.Generator | None = None
    ) -> Tensor:
        """Posterior mean coef_x0 * x0 + coef_xt * x_t, plus sqrt(variance) z before the end."""
        i = self.step_index(t)
        abar, abar_prev = self.alphas_cumprod[i], self.alphas_cumprod_prev[i]
        beta = 1.0 - abar / abar_prev
        coef_x0 = beta * np.sqrt(abar_prev) / (1.0 - abar)
        coef_xt = (1.0 - abar_prev) * np.sqrt(1.0 - beta) / (1.0 - abar)
        mean = scalar_like(coef_x0, x_t) * x0_pred + scalar_like(coef_xt, x_t) * x_t
        if i == self.num_steps - 1:
            return mean  # (B, T, D)
        small = beta * (1.0 - abar_prev) / (1.0 - abar)
        std = np.sqrt(small if self.variance == "fixed_small" else beta)
        return mean + scalar_like(std, x_t) * noise_like(x_t, generator)  # (B, T, D)
