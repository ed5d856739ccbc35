"""The sampling loop: a denoise function and a sampler, nothing model-specific."""

from collections.abc import Callable

import torch
from rich.progress import track
from torch import Tensor

from remodiffuse.diffusion.mixture import ConditionMixture, ModelCall
from remodiffuse.diffusion.samplers import Sampler

DenoiseFn = Callable[[Tensor, int], Tensor]
StepCallback = Callable[[int, int, Tensor, Tensor], None]


def sample_loop(
    denoise_fn: DenoiseFn,
    noise: Tensor,
    sampler: Sampler,
    generator: torch.Generator | None = None,
    progress: bool = False,
    callback: StepCallback | None = None,
    start: int = 0,
    stop: int | None = None,
) -> Tensor:
    """Run sampler steps start..stop-1 (default: all) from x = noise (B, T, D); denoise_fn(x_t,
    t) -> x0 (B, T, D). Returns x after the last step (x_0 when stop is the end).

    t is the original timestep, shared by the batch. callback(step_index, t, x_t, x0_pred) sees
    each step's input and prediction. A multistep solver starts its history at `start`.
    Gradients are not disabled here (the caller decides).
    """
    if sampler.num_steps == 0:
        raise ValueError("the sampler has no timesteps: call sampler.set_timesteps first")
    stop = sampler.num_steps if stop is None else stop
    if not 0 <= start <= stop <= sampler.num_steps:
        raise ValueError(f"need 0 <= start <= stop <= {sampler.num_steps}, got {start}, {stop}")
    sampler.reset()
    x = noise  # (B, T, D)
    timesteps = sampler.timesteps.tolist()[start:stop]
    steps = track(timesteps, description="sampling", disable=not progress)
    for step_index, t in enumerate(steps, start=start):
        x0_pred = denoise_fn(x, t)  # (B, T, D)
        if callback is not None:
            callback(step_index, t, x, x0_pred)
        x = sampler.step(x0_pred, t, x, generator=generator)
    return x


def mixture_denoise_fn(
    mixture: ConditionMixture, model_call: ModelCall, sampler: Sampler
) -> DenoiseFn:
    """A denoise_fn that mixes the branches of model_call at the sampler's step position."""

    def denoise(x_t: Tensor, t: int) -> Tensor:
        return mixture.denoise(model_call, x_t, t, sampler.step_index(t), sampler.num_steps)

    return denoise
