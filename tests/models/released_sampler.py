"""The released sampler's cost model: the reference that scripts/bench_sampling.py times.

As the released code samples: the prompt and the retrieved samples are encoded once (by the
caller, before the loop), then every step runs all four branches (text+retrieval, text,
retrieval, none) in one batched forward pass and mixes them with the step's coefficients, zero
ones included. In the evaluation case every motion is padded to max_length frames first (the
released evaluation pads to 196); a single prompt of max_length frames needs no padding.
"""

import torch
from torch import Tensor

from remodiffuse.diffusion import RETRIEVAL_ON, TEXT_ON, DenoiseFn, ReleasedMixture, Sampler
from remodiffuse.models import Conditions, SemanticsModulatedTransformer

ALL_FOUR = tuple(zip(TEXT_ON, RETRIEVAL_ON, strict=True))  # (text_on, retrieval_on) per branch


def released_denoise_fn(
    model: SemanticsModulatedTransformer,
    conditions: Conditions,
    mask: Tensor,
    mixture: ReleasedMixture,
    sampler: Sampler,
) -> DenoiseFn:
    """x_t (B, T, D), t -> the mixed x0 (B, T, D); mask (B, T) marks the valid frames."""

    def denoise(x_t: Tensor, t: int) -> Tensor:
        timesteps = x_t.new_full((x_t.shape[0],), t, dtype=torch.long)
        x0 = model.forward_branches(x_t, timesteps, conditions, ALL_FOUR, mask)  # (4, B, T, D)
        coefficients = mixture.coefficients(t, sampler.step_index(t), sampler.num_steps)  # (4,)
        mixed = x0[0] * float(coefficients[0])
        for branch in range(1, len(ALL_FOUR)):
            mixed = mixed + x0[branch] * float(coefficients[branch])
        return mixed  # (B, T, D)

    return denoise
