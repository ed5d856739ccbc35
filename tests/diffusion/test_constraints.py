"""Constraints on x0: known frames and channels come out exactly, with every sampler."""

import pytest
import torch

from remodiffuse.diffusion import (
    DDIMSampler,
    DPMSolverPlusPlusSampler,
    GaussianDiffusion,
    X0Constraint,
    constrained,
    known_frames,
    sample_loop,
)
from remodiffuse.errors import InputError

DIFFUSION = GaussianDiffusion()
SAMPLERS = {
    "ddim": lambda: DDIMSampler(DIFFUSION, 10),
    "dpm_solver++": lambda: DPMSolverPlusPlusSampler(DIFFUSION, "logsnr10"),
}


def drifting_denoiser(x_t: torch.Tensor, t: int) -> torch.Tensor:
    """A stand-in network that mixes frames: x0 depends on x_t and t, not on the constraint."""
    return torch.tanh(0.5 * x_t) + 0.3 * x_t.mean(dim=1, keepdim=True) + 1e-4 * t


@pytest.mark.parametrize("name", sorted(SAMPLERS))
def test_known_frames_and_channels_are_reproduced_exactly(name):
    generator = torch.Generator().manual_seed(0)
    noise = torch.randn(2, 12, 5, generator=generator)
    values = torch.randn(2, 12, 5, generator=generator)
    frames = torch.zeros(2, 12, dtype=torch.bool)
    frames[0, :4] = True  # a prefix
    frames[1, [0, 6, 11]] = True  # keyframes
    channels = torch.tensor([True, True, False, True, False])
    constraint = known_frames(values, frames, channels)
    out = sample_loop(constrained(drifting_denoiser, constraint), noise, SAMPLERS[name]())
    pinned = constraint.weight.bool()
    assert torch.equal(out[pinned], values[pinned])
    free = sample_loop(drifting_denoiser, noise, SAMPLERS[name]())
    assert not torch.allclose(out[~pinned], values[~pinned])
    assert not torch.equal(out[~pinned], free[~pinned])  # the free part follows the pinned part


def test_soft_weights_blend_and_none_is_no_constraint():
    x0, values = torch.zeros(1, 3, 2), torch.ones(1, 3, 2)
    half = X0Constraint(values, torch.full((1, 3, 1), 0.5))
    assert torch.equal(half.apply(x0), torch.full((1, 3, 2), 0.5))
    assert constrained(drifting_denoiser, None) is drifting_denoiser


def test_bad_constraints_are_clear_errors():
    values = torch.zeros(1, 4, 3)
    with pytest.raises(InputError, match=r"\[0, 1\]"):
        X0Constraint(values, torch.full((1, 4, 3), 1.5))
    with pytest.raises(InputError, match="does not broadcast"):
        X0Constraint(values, torch.ones(1, 5, 3))
    with pytest.raises(InputError, match="3 dims"):
        X0Constraint(torch.zeros(4, 3), torch.ones(4, 3))
    with pytest.raises(InputError, match="finite"):
        X0Constraint(torch.full((1, 4, 3), float("nan")), torch.ones(1, 4, 3))
    with pytest.raises(InputError, match="on a motion of shape"):
        X0Constraint(values, torch.ones(1, 4, 3)).apply(torch.zeros(1, 6, 3))
