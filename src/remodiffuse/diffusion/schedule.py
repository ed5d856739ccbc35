"""Gaussian diffusion with an x0-predicting network: float64 schedule, forward noising, loss."""

from typing import Literal

import numpy as np
import torch
from torch import Tensor

from remodiffuse.errors import InputError

LossReduction = Literal["sample", "frame"]


def linear_betas(num_timesteps: int, beta_start: float, beta_end: float) -> np.ndarray:
    """Betas spaced linearly from beta_start to beta_end, float64, shape (num_timesteps,)."""
    if num_timesteps < 1:
        raise InputError(f"num_timesteps must be >= 1, got {num_timesteps}")
    if not 0.0 < beta_start <= beta_end < 1.0:
        raise InputError(f"need 0 < beta_start <= beta_end < 1, got {beta_start}, {beta_end}")
    return np.linspace(beta_start, beta_end, num_timesteps, dtype=np.float64)


def extract(values: np.ndarray, t: Tensor, like: Tensor) -> Tensor:
    """values[t] cast to like's dtype on like's device, shaped (B, 1, ..., 1) to broadcast."""
    table = torch.from_numpy(values).to(dtype=like.dtype).to(like.device)
    picked = table[t.to(device=like.device, dtype=torch.long)]  # (B,)
    return picked.reshape(-1, *([1] * (like.dim() - 1)))


class GaussianDiffusion:
    """DDPM forward process (linear betas, T steps) for a network that predicts x0."""

    def __init__(
        self,
        num_timesteps: int = 1000,
        beta_start: float = 1.0e-4,
        beta_end: float = 0.02,
        beta_schedule: str = "linear",
    ) -> None:
        if beta_schedule != "linear":
            raise InputError(f"only the linear beta schedule is supported, got {beta_schedule!r}")
        self.num_timesteps = num_timesteps
        self.betas = linear_betas(num_timesteps, beta_start, beta_end)  # (T,) float64
        self.alphas_cumprod = np.cumprod(1.0 - self.betas)  # (T,) float64
        self.alphas_cumprod_prev = np.append(1.0, self.alphas_cumprod[:-1])  # (T,) float64
        self.sqrt_alphas_cumprod = np.sqrt(self.alphas_cumprod)
        self.sqrt_one_minus_alphas_cumprod = np.sqrt(1.0 - self.alphas_cumprod)

    def q_sample(self, x0: Tensor, t: Tensor, noise: Tensor) -> Tensor:
        """x_t = sqrt(abar_t) x0 + sqrt(1 - abar_t) noise; x0, noise (B, T, D), t (B,) long."""
        if noise.shape != x0.shape:
            raise InputError(f"noise shape {tuple(noise.shape)} != x0 shape {tuple(x0.shape)}")
        signal = extract(self.sqrt_alphas_cumprod, t, x0)  # (B, 1, 1)
        spread = extract(self.sqrt_one_minus_alphas_cumprod, t, x0)  # (B, 1, 1)
        return signal * x0 + spread * noise  # (B, T, D)

    def sample_timesteps(
        self,
        batch: int,
        generator: torch.Generator | None = None,
        device: torch.device | str | None = None,
    ) -> Tensor:
        """Training timesteps uniform in 0..T-1, shape (batch,) long, drawn with generator."""
        source = generator.device if generator is not None else device
        t = torch.randint(0, self.num_timesteps, (batch,), generator=generator, device=source)
        return t.to(device) if device is not None else t

    @staticmethod
    def training_loss(
        x0_pred: Tensor, x0: Tensor, mask: Tensor, reduction: LossReduction = "sample"
    ) -> Tensor:
        """Squared x0 error averaged over channels and over each sample's valid frames.

        reduction "sample": per-sample mean over its valid frames, then the batch mean (default);
        "frame": one mean over all valid frames of the batch (longer motions weigh more).
        mask (B, T) is 1/True on valid frames; a sample without valid frames contributes 0.
        """
        if x0_pred.shape != x0.shape:
            raise InputError(f"x0_pred shape {tuple(x0_pred.shape)} != x0 {tuple(x0.shape)}")
        if mask.shape != x0.shape[:2]:
            raise InputError(f"mask shape {tuple(mask.shape)} != (B, T) {tuple(x0.shape[:2])}")
        weights = mask.to(x0_pred.dtype)  # (B, T)
        per_frame = (x0_pred - x0).square().mean(dim=-1) * weights  # (B, T)
        if reduction == "sample":
            return (per_frame.sum(dim=1) / weights.sum(dim=1).clamp_min(1.0)).mean()
        if reduction == "frame":
            return per_frame.sum() / weights.sum().clamp_min(1.0)
        raise InputError(f"reduction must be 'sample' or 'frame', got {reduction!r}")
