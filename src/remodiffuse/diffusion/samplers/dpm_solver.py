"""DPM-Solver++(2M) (Lu et al. 2022): multistep data-prediction ODE solver for 10-20 steps."""

import numpy as np
import torch
from torch import Tensor

from remodiffuse.diffusion.samplers.base import Sampler, scalar_like


class DPMSolverPlusPlusSampler(Sampler):
    """Second-order multistep solver of the probability-flow ODE in lambda = log(alpha / sigma).

    The first step and the step into the last timestep are first order (no history; the last
    gap in log-SNR is usually the widest); the final step (abar_prev = 1) returns x0_pred. Best on
    log-SNR-uniform timesteps ("logsnrN").
    """

    def reset(self) -> None:
        """Drop the previous step's x0 and lambda."""
        self._last_x0: Tensor | None = None
        self._last_lambda = 0.0

    def step(
        self, x0_pred: Tensor, t: int, x_t: Tensor, generator: torch.Generator | None = None
    ) -> Tensor:
        """x_prev = (sigma_prev / sigma) x_t - alpha_prev expm1(-h) D (deterministic)."""
        i = self.step_index(t)
        abar, abar_prev = self.alphas_cumprod[i], self.alphas_cumprod_prev[i]
        if abar_prev >= 1.0:
            self.reset()
            return x0_pred  # (B, T, D)
        lam, lam_prev = _log_snr_half(abar), _log_snr_half(abar_prev)
        h = lam_prev - lam
        data = x0_pred  # (B, T, D)
        if self._last_x0 is not None and i < self.num_steps - 2:
            half_inv_r = 0.5 * h / (lam - self._last_lambda)  # 1 / (2r), r = h_last / h
            current, last = scalar_like(1.0 + half_inv_r, x_t), scalar_like(half_inv_r, x_t)
            data = current * x0_pred - last * self._last_x0
        ratio = np.sqrt((1.0 - abar_prev) / (1.0 - abar))
        coef = -np.sqrt(abar_prev) * np.expm1(-h)
        self._last_x0, self._last_lambda = x0_pred, lam
        return scalar_like(ratio, x_t) * x_t + scalar_like(coef, x_t) * data  # (B, T, D)


def _log_snr_half(abar: float) -> float:
    """lambda = log(alpha / sigma) = 0.5 * log(abar / (1 - abar))."""
    return 0.5 * (np.log(abar) - np.log1p(-abar))
