"""DDPM, DDIM and DPM-Solver++ steps: official DDIM arithmetic, exactness and a Gaussian toy."""

import numpy as np
import pytest
import torch

from remodiffuse.diffusion import (
    DDIMSampler,
    DDPMSampler,
    DPMSolverPlusPlusSampler,
    GaussianDiffusion,
    sample_loop,
)

DIFFUSION = GaussianDiffusion()
MU = torch.tensor([1.5, -0.5, 0.0], dtype=torch.float64)  # toy data: x0 ~ N(MU, STD^2) per channel
STD = torch.tensor([0.5, 0.2, 1.0], dtype=torch.float64)


def toy_x0(x_t: torch.Tensor, t: int) -> torch.Tensor:
    """The exact E[x0 | x_t] of the Gaussian toy data."""
    abar = float(DIFFUSION.alphas_cumprod[t])
    gain = STD**2 * abar**0.5 / (abar * STD**2 + 1 - abar)
    return MU + gain * (x_t - abar**0.5 * MU)


def toy_noise(count: int, seed: int = 0) -> torch.Tensor:
    return torch.randn(
        count, 1, 3, generator=torch.Generator().manual_seed(seed), dtype=torch.float64
    )


def toy_ode_solution(x_T: torch.Tensor) -> torch.Tensor:
    """Exact probability-flow map to t = 0 (the standardised value is kept), then E[x0 | x_0]."""
    a_T, a_0 = float(DIFFUSION.alphas_cumprod[-1]), float(DIFFUSION.alphas_cumprod[0])
    z = (x_T - a_T**0.5 * MU) / (a_T * STD**2 + 1 - a_T) ** 0.5
    return MU + STD**2 * a_0**0.5 / (a_0 * STD**2 + 1 - a_0) ** 0.5 * z


def test_set_timesteps_loop_order(official_outputs):
    sampler = DDIMSampler(DIFFUSION)
    timesteps = sampler.set_timesteps("15,15,8,6,6")
    np.testing.assert_array_equal(timesteps, official_outputs["ddim_timesteps_original"])
    assert sampler.num_steps == 50
    assert sampler.step_index(999) == 0 and sampler.step_index(0) == 49
    assert sampler.prev_timestep(999) == 959 and sampler.prev_timestep(0) == -1
    with pytest.raises(ValueError, match="not in the schedule"):
        sampler.step_index(500)


@pytest.mark.parametrize("dtype,tol", [(torch.float32, 1e-5), (torch.float64, 1e-12)])
def test_ddim_recovers_true_x0(dtype, tol):
    gen = torch.Generator().manual_seed(1)
    x0 = torch.randn(2, 9, 4, generator=gen, dtype=dtype)
    noise = torch.randn(2, 9, 4, generator=gen, dtype=dtype)
    out = sample_loop(lambda x_t, t: x0, noise, DDIMSampler(DIFFUSION, "15,15,8,6,6"))
    assert out.dtype == dtype
    torch.testing.assert_close(out, x0, atol=tol, rtol=0)


def test_ddim_step_reproduces_official_trajectory(official_outputs, official_inputs):
    frames = int(official_outputs["ddim_crop_frames"])
    channels = official_outputs["ddim_probe_channels"]
    x0_probe = torch.from_numpy(official_outputs["ddim_x0_probe"])  # (S, B, Lc, 16)
    xt_probe = torch.from_numpy(official_outputs["ddim_xt_probe"])  # (S, B, Lc, 16)
    x = torch.from_numpy(official_inputs["ddim_noise"][:, :frames][:, :, channels])
    sampler = DDIMSampler(DIFFUSION, "15,15,8,6,6", eta=0.0)
    errors = []
    for j, t in enumerate(sampler.timesteps.tolist()):
        errors.append((sampler.step(x0_probe[j], t, x) - xt_probe[j]).abs().max().item())
        x = xt_probe[j]
    assert max(errors) < 1e-3
    assert torch.equal(x, x0_probe[-1])  # the last step returns x0


def test_ddim_eta_noise_is_seeded():
    x_t = torch.randn(2, 5, 3)
    x0 = torch.randn(2, 5, 3)
    sampler = DDIMSampler(DIFFUSION, 10, eta=1.0)
    first = sampler.step(x0, 999, x_t, generator=torch.Generator().manual_seed(0))
    again = sampler.step(x0, 999, x_t, generator=torch.Generator().manual_seed(0))
    other = sampler.step(x0, 999, x_t, generator=torch.Generator().manual_seed(1))
    assert torch.equal(first, again) and not torch.equal(first, other)
    assert torch.equal(sampler.step(x0, 0, x_t), x0)


def test_ddim_eta_one_has_posterior_variance():
    sampler = DDIMSampler(DIFFUSION, 10, eta=1.0)
    i = sampler.step_index(555)
    abar, abar_prev = sampler.alphas_cumprod[i], sampler.alphas_cumprod_prev[i]
    posterior = (1 - abar / abar_prev) * (1 - abar_prev) / (1 - abar)
    x_t = torch.zeros(200000, 1, 1, dtype=torch.float64)
    out = sampler.step(torch.zeros_like(x_t), 555, x_t, torch.Generator().manual_seed(0))
    assert out.var().item() == pytest.approx(posterior, rel=0.02)


@pytest.mark.parametrize("variance", ["fixed_small", "fixed_large"])
def test_ddpm_samples_toy_distribution(variance):
    sampler = DDPMSampler(DIFFUSION, 1000, variance=variance)
    out = sample_loop(toy_x0, toy_noise(4000), sampler, torch.Generator().manual_seed(0))
    torch.testing.assert_close(out.mean(dim=(0, 1)), MU, atol=0.05, rtol=0)
    torch.testing.assert_close(out.std(dim=(0, 1)), STD, atol=0, rtol=0.07)


def test_ddpm_rejects_unknown_variance():
    with pytest.raises(ValueError, match="variance"):
        DDPMSampler(DIFFUSION, 10, variance="learned")


@pytest.mark.parametrize("steps", [10, 15, 20])
def test_dpm_solver_converges_in_few_steps(steps):
    x_T = toy_noise(4000)
    reference = toy_ode_solution(x_T)
    fast = sample_loop(toy_x0, x_T, DPMSolverPlusPlusSampler(DIFFUSION, f"logsnr{steps}"))
    ddim = sample_loop(toy_x0, x_T, DDIMSampler(DIFFUSION, f"logsnr{steps}"))
    ddim_50 = sample_loop(toy_x0, x_T, DDIMSampler(DIFFUSION, 50))
    fast_error = (fast - reference).abs()
    assert fast_error.mean().item() < 0.015 and fast_error.max().item() < 0.15
    assert fast_error.mean() < (ddim - reference).abs().mean() / 5
    assert fast_error.mean() < (ddim_50 - reference).abs().mean() / 2


def test_dpm_solver_runs_are_independent():
    sampler = DPMSolverPlusPlusSampler(DIFFUSION, "logsnr12")
    first = sample_loop(toy_x0, toy_noise(8), sampler)
    assert torch.equal(first, sample_loop(toy_x0, toy_noise(8), sampler))


@pytest.mark.parametrize(
    "sampler",
    [
        DDPMSampler(DIFFUSION, 10),
        DDIMSampler(DIFFUSION, 10, eta=0.5),
        DPMSolverPlusPlusSampler(DIFFUSION, 10),
    ],
    ids=["ddpm", "ddim", "dpm_solver++"],
)
def test_steps_keep_shape_dtype_device(sampler):
    for device, dtype in [("cpu", torch.float32), ("cpu", torch.float64), ("meta", torch.float32)]:
        sampler.reset()
        x = torch.zeros(2, 7, 5, device=device, dtype=dtype)
        for t in sampler.timesteps[:3].tolist():
            out = sampler.step(x, t, x)
            assert out.shape == x.shape and out.dtype == dtype and out.device == x.device
