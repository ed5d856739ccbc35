"""Sampler interface: a respaced timestep list and one update per step, no network inside."""

from abc import ABC, abstractmethod

import numpy as np
import torch
from torch import Tensor

from remodiffuse.diffusion.respacing import respaced_alphas_cumprod, respaced_timesteps
from remodiffuse.diffusion.schedule import GaussianDiffusion

Spacing = int | str


def scalar_like(value: float, like: Tensor) -> Tensor:
    """A 0-d tensor holding value (e.g. a float64 coefficient) in like's dtype and device."""
    return torch.tensor(value, dtype=like.dtype, device=like.device)


def noise_like(x: Tensor, generator: torch.Generator | None) -> Tensor:
    """Standard normal noise shaped like x, drawn on the generator's device, moved to x's."""
    source = generator.device if generator is not None else x.device
    noise = torch.randn(x.shape, generator=generator, device=source, dtype=x.dtype)
    return noise.to(x.device)


class Sampler(ABC):
    """Steps x_t to x_prev from the network's x0 prediction on a respaced schedule.

    After `set_timesteps`, `timesteps` holds the original timesteps in loop order (descending) and
    `alphas_cumprod` / `alphas_cumprod_prev` the float64 abar / abar_prev of each loop step.
    """

    def __init__(self, diffusion: GaussianDiffusion, steps: Spacing | None = None) -> None:
        self.diffusion = diffusion
        self.timesteps = np.zeros(0, dtype=np.int64)
        self.alphas_cumprod = np.zeros(0, dtype=np.float64)
        self.alphas_cumprod_prev = np.zeros(0, dtype=np.float64)
        self._index: dict[int, int] = {}
        self.reset()
        if steps is not None:
            self.set_timesteps(steps)

    def set_timesteps(self, steps: Spacing) -> np.ndarray:
        """Pick the schedule (`respaced_timesteps`); returns the original timesteps, descending."""
        abar_table = self.diffusion.alphas_cumprod
        kept = respaced_timesteps(self.diffusion.num_timesteps, steps, abar_table)  # (S,) ascending
        abar, abar_prev = respaced_alphas_cumprod(abar_table, kept)
        self.timesteps = kept[::-1].copy()
        self.alphas_cumprod = abar[::-1].copy()
        self.alphas_cumprod_prev = abar_prev[::-1].copy()
        self._index = {int(t): i for i, t in enumerate(self.timesteps)}
        self.reset()
        return self.timesteps

    @property
    def num_steps(self) -> int:
        """Number of loop steps of the current schedule."""
        return len(self.timesteps)

    def step_index(self, t: int) -> int:
        """Loop position (0 = noisiest) of original timestep t."""
        try:
            return self._index[int(t)]
        except KeyError:
            raise ValueError(
                f"timestep {t} is not in the schedule (call set_timesteps first; kept: "
                f"{self.timesteps.tolist()})"
            ) from None

    def prev_timestep(self, t: int) -> int:
        """The next original timestep in loop order, or -1 after the last step."""
        i = self.step_index(t) + 1
        return int(self.timesteps[i]) if i < self.num_steps else -1

    def reset(self) -> None:
        """Forget per-run state (multistep history) before a new sampling run; none by default."""
        return None

    @abstractmethod
    def step(
        self, x0_pred: Tensor, t: int, x_t: Tensor, generator: torch.Generator | None = None
    ) -> Tensor:
        """x_prev from x0_pred and x_t at original timestep t; tensors (B, T, D)."""
