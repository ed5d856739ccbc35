"""The generic sampling loop, its callback, the mixture glue and the diffusion config."""

import numpy as np
import pytest
import torch

from remodiffuse.diffusion import (
    DDIMSampler,
    DPMSolverPlusPlusSampler,
    GaussianDiffusion,
    PaperMixture,
    build_diffusion,
    build_sampler,
    mixture_denoise_fn,
    sample_loop,
)

DIFFUSION = GaussianDiffusion()


def test_loop_calls_denoiser_with_original_timesteps():
    sampler = DDIMSampler(DIFFUSION, "15,15,8,6,6")
    noise = torch.randn(2, 6, 3, generator=torch.Generator().manual_seed(0))
    seen, records = [], []

    def denoise(x_t, t):
        seen.append(t)
        return torch.zeros_like(x_t)

    def callback(step_index, t, x_t, x0_pred):
        records.append((step_index, t, x_t.shape, x0_pred.shape))

    out = sample_loop(denoise, noise, sampler, progress=True, callback=callback)
    assert seen == sampler.timesteps.tolist() and all(isinstance(t, int) for t in seen)
    assert [r[0] for r in records] == list(range(50)) and [r[1] for r in records] == seen
    assert records[0][2] == noise.shape
    assert torch.equal(out, torch.zeros_like(noise))


def test_loop_needs_timesteps():
    with pytest.raises(ValueError, match="set_timesteps"):
        sample_loop(lambda x, t: x, torch.zeros(1, 2, 3), DDIMSampler(DIFFUSION))


def test_mixture_denoise_fn_uses_step_position():
    sampler = DPMSolverPlusPlusSampler(DIFFUSION, 20)
    mixture = PaperMixture([1.0, 0.0, 0.0, 0.0], [0.5, 0.0, 0.5, 0.0])
    rows = []

    def model_call(x, t, text_on, retrieval_on, branch_index):
        rows.append(x.shape[0])
        return torch.zeros_like(x)

    sample_loop(mixture_denoise_fn(mixture, model_call, sampler), torch.zeros(3, 4, 2), sampler)
    assert rows == [3] * 16 + [6] * 4


def test_build_from_config(compose_train, official_outputs):
    cfg = compose_train()
    diffusion = build_diffusion(cfg.diffusion)
    np.testing.assert_array_equal(diffusion.betas, DIFFUSION.betas)
    sampler = build_sampler(cfg.diffusion, diffusion)
    assert isinstance(sampler, DDIMSampler) and sampler.eta == 0.0
    np.testing.assert_array_equal(sampler.timesteps, official_outputs["ddim_timesteps_original"])
    cfg = compose_train("diffusion.sampler=dpm_solver++", "diffusion.respacing=logsnr15")
    assert isinstance(build_sampler(cfg.diffusion, diffusion), DPMSolverPlusPlusSampler)
    assert build_sampler(cfg.diffusion, diffusion, steps=10).num_steps == 10
    cfg = compose_train("diffusion.sampler=euler")
    with pytest.raises(ValueError, match="unknown sampler"):
        build_sampler(cfg.diffusion, diffusion)
