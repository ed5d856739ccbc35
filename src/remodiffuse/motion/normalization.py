"""Dataset feature statistics (reference cal_mean_variance) and ReMoDiffuse normalisation."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TypeVar

import numpy as np
import torch

from remodiffuse.motion.skeleton import Skeleton, get_skeleton

__all__ = ["mean_std", "normalize", "denormalize", "NORMALIZE_EPS"]

Array = TypeVar("Array", np.ndarray, torch.Tensor)
NORMALIZE_EPS = 1e-9


def mean_std(
    features_list: Iterable[np.ndarray], skeleton: str | Skeleton = "humanml3d"
) -> tuple[np.ndarray, np.ndarray]:
    """Per-dimension float32 (mean, std) over all frames of all (T, D) sequences.

    As the reference: sequences containing NaN are skipped, std uses ddof=0 and is then replaced
    by its mean over each feature block (root rotation, root velocity, height, ric, 6D,
    velocity, contacts).
    """
    skel = get_skeleton(skeleton)
    kept = []
    for features in features_list:
        arr = np.asarray(features, dtype=np.float32)
        if arr.ndim != 2 or arr.shape[1] != skel.feature_dim:
            raise ValueError(f"features must have shape (T, {skel.feature_dim}), got {arr.shape}")
        if not np.isnan(arr).any():
            kept.append(arr)
    if not kept:
        raise ValueError("no NaN-free feature sequences to compute statistics from")
    data = np.concatenate(kept, axis=0)  # (N, D)
    mean = data.mean(axis=0)
    std = data.std(axis=0)
    for block in skel.feature_slices.values():
        std[block] = std[block].mean()
    return mean, std


def normalize(x: Array, mean: Array, std: Array) -> Array:
    """(x - mean) / (std + 1e-9), the ReMoDiffuse Normalize transform."""
    return (x - mean) / (std + NORMALIZE_EPS)


def denormalize(x: Array, mean: Array, std: Array) -> Array:
    """Inverse of `normalize`: x * (std + 1e-9) + mean."""
    return x * (std + NORMALIZE_EPS) + mean
