"""Condition mixture (paper section 3.4): per step, a weighted sum of four x0 predictions.

Branches are always in the order (both, text, retr, none): text + retrieval, text only,
retrieval only, unconditional. Only branches with a non-zero coefficient are evaluated.
"""

import math
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import torch
from torch import Tensor

from remodiffuse.errors import InputError

BRANCHES: tuple[str, ...] = ("both", "text", "retr", "none")
TEXT_ON: tuple[bool, ...] = (True, True, False, False)
RETRIEVAL_ON: tuple[bool, ...] = (True, False, True, False)
SUM_TOLERANCE = 1e-6


class ModelCall(Protocol):
    """Batched network call over branch-major rows [branch a x B, branch b x B, ...]."""

    def __call__(
        self, x: Tensor, t: Tensor, text_on: Tensor, retrieval_on: Tensor, branch_index: Tensor
    ) -> Tensor:
        """x (nB, T, D), t (nB,) long, text_on / retrieval_on (nB,) bool, branch_index (nB,)
        long (position in BRANCHES) -> x0 predictions (nB, T, D)."""


@dataclass(frozen=True)
class ReleasedPreset:
    """The released configs' guidance scale c and fixed weights (both, text, retr, none)."""

    coarse_scale: float
    weights: tuple[float, float, float, float]


RELEASED_PRESETS: dict[str, ReleasedPreset] = {
    "humanml3d": ReleasedPreset(6.5, (0.52351, -0.28419, 2.39872, -1.63804)),
    "kit": ReleasedPreset(4.0, (0.78123, 0.39284, -0.12475, -0.04932)),
}


def released_preset(dataset_name: str) -> ReleasedPreset:
    """KIT's values for "kit"; HumanML3D's for every HumanML3D-layout set (synthetic included)."""
    return RELEASED_PRESETS["kit" if dataset_name == "kit" else "humanml3d"]


def mix_branches(
    model_call: ModelCall, x_t: Tensor, t: int, weights: Tensor, branches: Sequence[int]
) -> Tensor:
    """sum_k weights[k] * x0 of branch branches[k]: one batched call over the branches' rows.

    x_t (B, T, D), weights (n,) -> (B, T, D); differentiable in the weights (and the network),
    summed in branch order (the released code's order of operations).
    """
    batch, device = x_t.shape[0], x_t.device
    branch = torch.as_tensor(branches, device=device).repeat_interleave(batch)  # (nB,)
    text_on = torch.tensor(TEXT_ON, device=device)[branch]  # (nB,)
    retrieval_on = torch.tensor(RETRIEVAL_ON, device=device)[branch]  # (nB,)
    timesteps = torch.full((branch.numel(),), int(t), dtype=torch.long, device=device)
    x = x_t.repeat(len(branches), *([1] * (x_t.dim() - 1)))  # (nB, T, D)
    out = model_call(x, timesteps, text_on, retrieval_on, branch)
    if out.shape != x.shape:
        raise InputError(f"model_call returned {tuple(out.shape)}, expected {tuple(x.shape)}")
    out = out.reshape(len(branches), *x_t.shape)  # (n, B, T, D)
    weights = weights.to(out)
    mixed = out[0] * weights[0]
    for row in range(1, len(branches)):
        mixed = mixed + out[row] * weights[row]
    return mixed


class ConditionMixture(ABC):
    """Chooses the four branch coefficients of a step and combines the branch predictions."""

    @abstractmethod
    def coefficients(self, t: int, step_index: int, num_steps: int) -> np.ndarray:
        """Coefficients (4,) float64 for (both, text, retr, none) at original timestep t."""

    def reset(self, seed: int | None = None) -> None:
        """Restart the mixture's random stream (new seed when given); stateless by default."""
        return None

    def denoise(
        self, model_call: ModelCall, x_t: Tensor, t: int, step_index: int, num_steps: int
    ) -> Tensor:
        """Mixed x0 (B, T, D): one batched call over the non-zero branches, summed in order."""
        coefs = self.coefficients(t, step_index, num_steps)  # (4,)
        active = np.flatnonzero(coefs)
        if active.size == 0:
            raise InputError(f"all four mixture coefficients are zero at t={t}")
        return mix_branches(model_call, x_t, t, torch.as_tensor(coefs[active]), active.tolist())

    @staticmethod
    def released(
        dataset_name: str = "humanml3d", seed: int | None = 0, coins: Sequence[int] | None = None
    ) -> "ReleasedMixture":
        """The released checkpoints' mixture with the dataset's values (see `ReleasedMixture`)."""
        preset = released_preset(dataset_name)
        return ReleasedMixture(preset.coarse_scale, preset.weights, seed=seed, coins=coins)

    @staticmethod
    def paper(
        coarse: Sequence[float], fine: Sequence[float], switch_fraction: float = 0.8
    ) -> "PaperMixture":
        """The paper's mixture: coarse weights, then fine weights (see `PaperMixture`)."""
        return PaperMixture(coarse, fine, switch_fraction)


class ReleasedMixture(ConditionMixture):
    """Released form: coin-flipped scaled guidance above `threshold`, fixed weights at or below.

    t > threshold: w = 1 + c * t / T; coin 0 gives w * both + (1 - w) * retr, coin 1 gives
    w * text + (1 - w) * none. One coin per call from a numpy generator seeded with `seed`, or
    replayed from `coins` (one entry per call, -1 for fixed-weight calls). `drawn` records the
    calls in that format.
    """

    def __init__(
        self,
        coarse_scale: float,
        weights: Sequence[float],
        threshold: int = 100,
        num_timesteps: int = 1000,
        seed: int | None = 0,
        coins: Sequence[int] | None = None,
    ) -> None:
        self.coarse_scale = float(coarse_scale)
        self.weights = _four_weights("weights", weights)
        self.threshold = threshold
        self.num_timesteps = num_timesteps
        self.seed = seed
        self.coins = None if coins is None else [int(c) for c in coins]
        self.reset()

    def reset(self, seed: int | None = None) -> None:
        """Re-seed the coin stream (or rewind the replayed coins) and clear `drawn`."""
        if seed is not None:
            self.seed = seed
        self._rng = np.random.default_rng(self.seed)
        self._position = 0
        self.drawn: list[int] = []

    def guidance_scale(self, t: int) -> float:
        """w = 1 + c * t / T, written as the released code evaluates it."""
        return (1 - (self.num_timesteps - t) / self.num_timesteps) * self.coarse_scale + 1

    def coefficients(self, t: int, step_index: int, num_steps: int) -> np.ndarray:
        """Draws (or replays) this call's coin when t > threshold."""
        guided = t > self.threshold
        coin = self._next_coin(t, guided)
        self.drawn.append(coin)
        if not guided:
            return self.weights.copy()
        w = self.guidance_scale(t)
        if coin == 0:
            return np.array([w, 0.0, 1.0 - w, 0.0])
        return np.array([0.0, w, 0.0, 1.0 - w])

    def _next_coin(self, t: int, guided: bool) -> int:
        """The replayed coin if replaying, else a fresh draw (-1 when no coin is used)."""
        if self.coins is None:
            return int(self._rng.integers(0, 2)) if guided else -1
        if self._position >= len(self.coins):
            raise InputError(f"replayed coins exhausted after {len(self.coins)} calls (t={t})")
        coin = self.coins[self._position]
        self._position += 1
        expected = (0, 1) if guided else (-1,)
        if coin not in expected:
            raise InputError(
                f"replayed coin {coin} at call {self._position - 1} (t={t}) must be one of "
                f"{expected} (threshold {self.threshold})"
            )
        return coin


class PaperMixture(ConditionMixture):
    """Paper form: `coarse` weights for the first round(switch_fraction * S) steps, then `fine`.

    Each set is (both, text, retr, none) and sums to 1 (40 + 10 of 50 steps at 0.8).
    """

    def __init__(
        self, coarse: Sequence[float], fine: Sequence[float], switch_fraction: float = 0.8
    ) -> None:
        if not 0.0 < switch_fraction <= 1.0:
            raise InputError(f"switch_fraction must be in (0, 1], got {switch_fraction}")
        self.coarse = _weights_summing_to_one("coarse", coarse)
        self.fine = _weights_summing_to_one("fine", fine)
        self.switch_fraction = float(switch_fraction)

    def switch_step(self, num_steps: int) -> int:
        """Loop index of the first fine step (40 for 50 steps, 16 for 20 at 0.8)."""
        return math.floor(self.switch_fraction * num_steps + 0.5)

    def coefficients(self, t: int, step_index: int, num_steps: int) -> np.ndarray:
        """Coarse weights before the switch step, fine weights from it on."""
        if not 0 <= step_index < num_steps:
            raise InputError(f"step_index {step_index} outside 0..{num_steps - 1}")
        chosen = self.coarse if step_index < self.switch_step(num_steps) else self.fine
        return chosen.copy()


def _four_weights(name: str, weights: Sequence[float]) -> np.ndarray:
    """Weights as a finite (4,) float64 array for (both, text, retr, none)."""
    array = np.asarray(weights, dtype=np.float64)
    if array.shape != (4,) or not np.all(np.isfinite(array)):
        raise InputError(f"{name} must be 4 finite numbers for {BRANCHES}, got {list(weights)}")
    return array


def _weights_summing_to_one(name: str, weights: Sequence[float]) -> np.ndarray:
    """`_four_weights`, also requiring w_both + w_text + w_retr + w_none = 1."""
    array = _four_weights(name, weights)
    total = float(array.sum())
    if abs(total - 1.0) > SUM_TOLERANCE:
        raise InputError(
            f"{name} weights {array.tolist()} for {BRANCHES} must sum to 1 "
            f"(within {SUM_TOLERANCE}), they sum to {total!r}"
        )
    return array
