"""The float64 linear schedule, forward noising, the masked x0 loss and timestep sampling."""

import math

import numpy as np
import pytest
import torch

from remodiffuse.diffusion import GaussianDiffusion, linear_betas


@pytest.fixture(scope="module")
def diffusion() -> GaussianDiffusion:
    return GaussianDiffusion()


def test_linear_betas_float64(diffusion):
    betas = diffusion.betas
    assert betas.dtype == np.float64 and betas.shape == (1000,)
    assert betas[0] == 1e-4 and betas[-1] == 0.02
    assert betas[499] == pytest.approx(1e-4 + 499 * (0.02 - 1e-4) / 999, rel=1e-14)
    assert np.allclose(np.diff(betas), (0.02 - 1e-4) / 999, rtol=1e-9, atol=0)


@pytest.mark.parametrize("t", [0, 1, 10, 100, 500, 999])
def test_alphas_cumprod_is_running_product(diffusion, t):
    expected = math.prod(1.0 - b for b in diffusion.betas[: t + 1].tolist())
    assert diffusion.alphas_cumprod.dtype == np.float64
    assert diffusion.alphas_cumprod[t] == pytest.approx(expected, rel=1e-12)
    assert diffusion.alphas_cumprod_prev[t] == (1.0 if t == 0 else diffusion.alphas_cumprod[t - 1])


def test_alphas_cumprod_matches_official_run(diffusion, official_outputs):
    t = official_outputs["ddim_timesteps_original"]
    np.testing.assert_allclose(
        diffusion.alphas_cumprod[t], official_outputs["ddim_alphas_cumprod"], rtol=1e-14, atol=0
    )


def test_schedule_arguments_are_checked():
    with pytest.raises(ValueError, match="linear"):
        GaussianDiffusion(beta_schedule="cosine")
    with pytest.raises(ValueError, match="beta_start"):
        linear_betas(10, 0.5, 0.1)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_q_sample_formula(diffusion, dtype):
    gen = torch.Generator().manual_seed(0)
    x0 = torch.randn(3, 7, 5, generator=gen, dtype=dtype)
    noise = torch.randn(3, 7, 5, generator=gen, dtype=dtype)
    t = torch.tensor([0, 500, 999])
    x_t = diffusion.q_sample(x0, t, noise)
    assert x_t.dtype == dtype and x_t.shape == x0.shape
    for i, step in enumerate(t.tolist()):
        abar = diffusion.alphas_cumprod[step]
        expected = math.sqrt(abar) * x0[i] + math.sqrt(1 - abar) * noise[i]
        torch.testing.assert_close(x_t[i], expected)
    with pytest.raises(ValueError, match="noise shape"):
        diffusion.q_sample(x0, t, noise[:, :3])


def test_training_loss_per_sample_then_batch(diffusion):
    x0 = torch.zeros(2, 4, 3)
    x0_pred = torch.zeros(2, 4, 3)
    x0_pred[0, :2] = 1.0  # sample 0: 2 valid frames with squared error 1
    x0_pred[1, 0] = 2.0  # sample 1: 1 of 3 valid frames with squared error 4
    x0_pred[:, 3] = 100.0  # padded frames: ignored
    mask = torch.tensor([[1, 1, 0, 0], [1, 1, 1, 0]], dtype=torch.bool)
    per_sample = diffusion.training_loss(x0_pred, x0, mask)
    pooled = diffusion.training_loss(x0_pred, x0, mask, reduction="frame")
    assert per_sample.item() == pytest.approx((1.0 + 4.0 / 3.0) / 2)
    assert pooled.item() == pytest.approx((2 * 1.0 + 4.0) / 5)
    with pytest.raises(ValueError, match="reduction"):
        diffusion.training_loss(x0_pred, x0, mask, reduction="mean")
    with pytest.raises(ValueError, match="mask shape"):
        diffusion.training_loss(x0_pred, x0, mask[:, :2])


def test_training_loss_has_gradient(diffusion):
    x0_pred = torch.randn(2, 5, 3, requires_grad=True)
    loss = diffusion.training_loss(x0_pred, torch.zeros(2, 5, 3), torch.ones(2, 5))
    loss.backward()
    assert x0_pred.grad is not None and loss.ndim == 0


def test_sample_timesteps_uniform_and_seeded(diffusion):
    t = diffusion.sample_timesteps(20000, generator=torch.Generator().manual_seed(3))
    again = diffusion.sample_timesteps(20000, generator=torch.Generator().manual_seed(3))
    assert t.dtype == torch.long and t.shape == (20000,)
    assert torch.equal(t, again)
    assert t.min().item() == 0 and t.max().item() == 999
    assert abs(t.double().mean().item() - 499.5) < 10
    assert diffusion.sample_timesteps(4, device="meta").device.type == "meta"


def test_tensors_stay_on_input_device(diffusion):
    x0 = torch.empty(2, 6, 4, device="meta")
    t = torch.zeros(2, dtype=torch.long, device="meta")
    assert diffusion.q_sample(x0, t, torch.empty_like(x0)).device.type == "meta"
    loss = diffusion.training_loss(x0, x0, torch.ones(2, 6, device="meta"))
    assert loss.device.type == "meta"
