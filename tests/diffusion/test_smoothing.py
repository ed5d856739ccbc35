"""Temporal low-pass of x0 predictions: levels kept, padding ignored, jitter removed."""

import pytest
import torch

from remodiffuse.diffusion import (
    DDIMSampler,
    GaussianDiffusion,
    X0Constraint,
    constrained,
    sample_loop,
    smooth_in_time,
    smoothed,
)
from remodiffuse.errors import InputError


def valid_frames(lengths: list[int], frames: int) -> torch.Tensor:
    return torch.arange(frames)[None] < torch.tensor(lengths)[:, None]  # (B, T)


def test_constants_and_ramps_are_kept_and_alternation_is_damped():
    frames = torch.arange(40, dtype=torch.float32)
    ramp = (0.1 * frames)[None, :, None]  # (1, 40, 1)
    alternating = ((-1.0) ** frames)[None, :, None]
    constant = torch.full((1, 40, 1), 3.0)
    valid = valid_frames([40], 40)
    torch.testing.assert_close(smooth_in_time(constant, valid, 1.0), constant)
    torch.testing.assert_close(smooth_in_time(ramp, valid, 1.0)[:, 4:-4], ramp[:, 4:-4])
    damped = smooth_in_time(alternating, valid, 1.0)[0, 4:-4, 0].abs()
    # the gain at the Nyquist frequency, sum (-1)^k w_k / sum w_k over the taps |k| <= 3
    torch.testing.assert_close(damped, torch.full_like(damped, 0.0141), atol=1e-4, rtol=0)
    half = smooth_in_time(alternating, valid, 0.5)[0, 4:-4, 0].abs()
    torch.testing.assert_close(half, torch.full_like(half, 0.5742), atol=1e-3, rtol=0)


def test_padding_never_leaks_in_and_is_left_alone():
    torch.manual_seed(0)
    x = torch.randn(2, 30, 5)
    padded = x.clone()
    padded[0, 20:] = 1e6  # motion 0 has 20 frames
    out = smooth_in_time(padded, valid_frames([20, 30], 30), 1.5)
    alone = smooth_in_time(x[:1, :20], valid_frames([20], 20), 1.5)
    torch.testing.assert_close(out[:1, :20], alone)
    assert (out[0, 20:] == 1e6).all()
    torch.testing.assert_close(out[1:], smooth_in_time(x[1:], valid_frames([30], 30), 1.5))


def test_smoothed_wraps_a_denoise_function_and_constraints_still_pin_exactly():
    torch.manual_seed(1)
    target = torch.randn(2, 24, 3)

    def denoise(x_t: torch.Tensor, t: int) -> torch.Tensor:
        return target + 0.0 * x_t

    assert smoothed(denoise, 0, [24, 24]) is denoise
    torch.testing.assert_close(
        smoothed(denoise, 1.0, [24, 12])(target, 5),
        smooth_in_time(target, valid_frames([24, 12], 24), 1.0),
    )
    weight = torch.zeros(2, 24, 3)
    weight[:, :6] = 1.0
    known = X0Constraint(torch.randn(2, 24, 3), weight)
    sampler = DDIMSampler(GaussianDiffusion(), 10)
    denoise_fn = constrained(smoothed(denoise, 1.0, [24, 24]), known)
    x0 = sample_loop(denoise_fn, torch.randn(2, 24, 3), sampler)
    assert torch.equal(x0[:, :6], known.values[:, :6])


@pytest.mark.parametrize("sigma", [-1.0, float("nan"), float("inf"), "one", True])
def test_bad_sigmas_are_input_errors(sigma):
    with pytest.raises(InputError, match="smoothing must be"):
        smoothed(lambda x, t: x, sigma, [4])
