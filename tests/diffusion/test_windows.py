"""Overlapping windows fused at every step: one window is the plain call, overlaps average."""

import pytest
import torch

from remodiffuse.diffusion import DDIMSampler, GaussianDiffusion, Window, fused, sample_loop
from remodiffuse.errors import InputError


def frame_mixing_denoiser(x_t: torch.Tensor, t: int) -> torch.Tensor:
    """x0 of each row depends on all its frames (as a transformer's does)."""
    return torch.tanh(x_t) + 0.1 * x_t.mean(dim=1, keepdim=True) + 1e-4 * t


def test_one_window_over_everything_is_the_plain_denoiser():
    x_t = torch.randn(1, 9, 3, generator=torch.Generator().manual_seed(0))
    out = fused(frame_mixing_denoiser, [Window(0, 9)], 9)(x_t, 500)
    torch.testing.assert_close(out, frame_mixing_denoiser(x_t, 500), rtol=0, atol=0)


def test_overlapping_predictions_are_averaged_and_each_window_sees_its_frames():
    x_t = torch.randn(1, 10, 2, generator=torch.Generator().manual_seed(1))
    windows = [Window(0, 6), Window(4, 10), Window(2, 8)]  # one length: no padding
    out = fused(frame_mixing_denoiser, windows, 10)(x_t, 10)[0]  # (10, 2)
    parts = [frame_mixing_denoiser(x_t[:, w.start : w.stop], 10)[0] for w in windows]
    torch.testing.assert_close(out[:2], parts[0][:2])
    torch.testing.assert_close(out[3], (parts[0][3] + parts[2][1]) / 2)
    torch.testing.assert_close(out[5], (parts[0][5] + parts[1][1] + parts[2][3]) / 3)
    torch.testing.assert_close(out[8:], parts[1][4:])


def test_fused_windows_sample_a_sequence_longer_than_any_window():
    sampler = DDIMSampler(GaussianDiffusion(), 5)
    noise = torch.randn(1, 50, 4, generator=torch.Generator().manual_seed(2))
    windows = [Window(0, 20), Window(15, 35), Window(30, 50)]
    out = sample_loop(fused(frame_mixing_denoiser, windows, 50), noise, sampler)
    assert out.shape == (1, 50, 4) and torch.isfinite(out).all()


@pytest.mark.parametrize(
    "windows, match",
    [
        ([Window(0, 5), Window(6, 10)], "leave frame 5 of 10 uncovered"),
        ([Window(0, 11)], "outside frames 0..10"),
        ([], "leave frame 0"),
    ],
)
def test_windows_must_cover_the_sequence(windows, match):
    with pytest.raises(InputError, match=match):
        fused(frame_mixing_denoiser, windows, 10)
