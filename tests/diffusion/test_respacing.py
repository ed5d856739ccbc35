"""Kept timesteps of the respaced schedules and their cumulative alphas."""

import numpy as np
import pytest

from remodiffuse.diffusion import GaussianDiffusion, respaced_alphas_cumprod, respaced_timesteps

ABAR = GaussianDiffusion().alphas_cumprod


def test_released_sections_match_official(official_outputs):
    kept = respaced_timesteps(1000, "15,15,8,6,6")
    assert kept.dtype == np.int64
    np.testing.assert_array_equal(kept, official_outputs["respaced_timestep_map"])


def test_released_abar_match_official(official_outputs):
    kept = respaced_timesteps(1000, "15,15,8,6,6")
    abar, abar_prev = respaced_alphas_cumprod(ABAR, kept)
    np.testing.assert_array_equal(abar[::-1], official_outputs["ddim_alphas_cumprod"])
    np.testing.assert_array_equal(abar_prev[::-1], official_outputs["ddim_alphas_cumprod_prev"])
    np.testing.assert_allclose(abar, ABAR[kept], rtol=1e-14, atol=0)
    assert abar_prev[0] == 1.0 and np.array_equal(abar_prev[1:], abar[:-1])


@pytest.mark.parametrize("spacing", [50, "50", 20, 10, 1000])
def test_even_spacing(spacing):
    kept = respaced_timesteps(1000, spacing)
    count = int(spacing)
    assert len(kept) == count and kept[0] == 0 and kept[-1] == 999
    assert np.all(np.diff(kept) > 0)
    stride = 999 / (count - 1)
    assert np.all(np.abs(np.diff(kept) - stride) <= 1)


def test_ddim_stride():
    np.testing.assert_array_equal(respaced_timesteps(1000, "ddim50"), np.arange(50) * 20)
    np.testing.assert_array_equal(respaced_timesteps(1000, "ddim3"), [0, 333, 666])


def test_log_snr_spacing_even_in_log_snr():
    kept = respaced_timesteps(1000, "logsnr15", ABAR)
    assert len(kept) == 15 and kept[0] == 0 and kept[-1] == 999
    log_snr = np.log(ABAR[kept] / (1 - ABAR[kept]))
    gaps = -np.diff(log_snr)
    assert np.all(gaps > 0) and gaps.max() < 1.5 * gaps.mean()
    with pytest.raises(ValueError, match="alphas_cumprod"):
        respaced_timesteps(1000, "logsnr15")
    with pytest.raises(ValueError, match="distinct"):
        respaced_timesteps(1000, "logsnr200", ABAR)


def test_sections_small_schedule():
    np.testing.assert_array_equal(respaced_timesteps(10, "3,2"), [0, 2, 4, 5, 9])
    np.testing.assert_array_equal(respaced_timesteps(10, "1,1"), [0, 5])


@pytest.mark.parametrize("spacing", ["201,1,1,1,1", "abc", "", True, 0, 1.5])
def test_bad_spacing(spacing):
    with pytest.raises(ValueError):
        respaced_timesteps(1000, spacing)
