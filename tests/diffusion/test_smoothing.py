"""Temporal low-pass of sampled motions: levels kept, padding ignored, jitter removed."""

import pytest
import torch

from remodiffuse.diffusion import smooth_in_time
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


def test_sigma_zero_is_the_identity():
    x = torch.randn(1, 10, 2)
    assert smooth_in_time(x, valid_frames([10], 10), 0) is x


@pytest.mark.parametrize("sigma", [-1.0, float("nan"), float("inf"), "one", True])
def test_bad_sigmas_are_input_errors(sigma):
    with pytest.raises(InputError, match="smoothing must be"):
        smooth_in_time(torch.zeros(1, 4, 1), valid_frames([4], 4), sigma)
