"""Feature statistics and normalisation."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from remodiffuse.motion import denormalize, get_skeleton, mean_std, normalize


def _sequences(dim: int, seed: int = 0) -> list[np.ndarray]:
    """Three random (T, dim) float32 sequences."""
    rng = np.random.default_rng(seed)
    return [rng.normal(size=(n, dim)).astype(np.float32) for n in (5, 9, 13)]


@pytest.mark.parametrize("name", ["humanml3d", "kit"])
def test_mean_std_convention(name: str) -> None:
    skel = get_skeleton(name)
    sequences = _sequences(skel.feature_dim)
    mean, std = mean_std(sequences, skel)
    data = np.concatenate(sequences)
    assert mean.dtype == std.dtype == np.float32
    np.testing.assert_allclose(mean, data.mean(axis=0), rtol=1e-6)
    raw = data.std(axis=0)
    for cols in skel.feature_slices.values():
        np.testing.assert_allclose(std[cols], raw[cols].mean(), rtol=1e-6)


def test_mean_std_skips_nan_sequences_and_checks_shape() -> None:
    skel = get_skeleton("humanml3d")
    sequences = _sequences(skel.feature_dim)
    broken = sequences[0].copy()
    broken[2, 7] = np.nan
    clean = mean_std(sequences, skel)
    with_nan = mean_std([*sequences, broken], skel)
    np.testing.assert_array_equal(clean[0], with_nan[0])
    with pytest.raises(ValueError, match="263"):
        mean_std([np.zeros((4, 251), np.float32)], skel)
    with pytest.raises(ValueError, match="NaN-free"):
        mean_std([broken], skel)


def test_normalize_round_trip() -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(size=(10, 263)).astype(np.float32)
    mean = rng.normal(size=263).astype(np.float32)
    std = rng.uniform(0.1, 2.0, 263).astype(np.float32)
    y = normalize(x, mean, std)
    np.testing.assert_allclose(y, (x - mean) / (std + 1e-9), rtol=1e-6)
    np.testing.assert_allclose(denormalize(y, mean, std), x, atol=1e-5)
    xt, mt, st = (torch.from_numpy(a) for a in (x, mean, std))
    np.testing.assert_allclose(normalize(xt, mt, st).numpy(), y, rtol=1e-6)
    np.testing.assert_allclose(denormalize(normalize(xt, mt, st), mt, st).numpy(), x, atol=1e-4)
