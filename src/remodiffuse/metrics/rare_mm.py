"""MM-Dist restricted to rare captions (paper Table 6): tail-5% MM and balanced MM.

Both take per-item distances d_i = |t_i - m_i|_2 (see `matching_distances`) and the rareness r_i
(Eq. 7, see `rareness`) of the same Q test items.
"""

import math

import numpy as np

from remodiffuse.metrics._inputs import ArrayLike, as_float_array, check_paired


def _paired(distances: ArrayLike, rareness: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Validated non-empty (Q,) distance and rareness arrays."""
    dist = as_float_array(distances, "distances", ndim=1)  # (Q,)
    rare = as_float_array(rareness, "rareness", ndim=1)  # (Q,)
    check_paired(dist, rare, "distances", "rareness")
    if dist.size == 0:
        raise ValueError("need at least one test item")
    return dist, rare


def tail_items(rareness: ArrayLike, fraction: float = 0.05) -> np.ndarray:
    """Indices of the k = ceil(fraction * Q) rarest items, the ones tail MM averages over.

    Items are sorted by rareness ascending with a stable sort (a tie ranks the higher index as
    rarer) and the last k are kept. (k,) int64.
    """
    rare = as_float_array(rareness, "rareness", ndim=1)  # (Q,)
    if not 0 < fraction <= 1:
        raise ValueError(f"fraction must be in (0, 1], got {fraction}")
    count = math.ceil(round(fraction * rare.size, 9))
    return np.argsort(rare, kind="stable")[rare.size - count :]  # (k,)


def tail_mm_dist(distances: ArrayLike, rareness: ArrayLike, fraction: float = 0.05) -> float:
    """Tail MM = mean of d_i over the `tail_items` of the rareness (largest rareness)."""
    dist, rare = _paired(distances, rareness)
    return float(np.mean(dist[tail_items(rare, fraction)], dtype=np.float64))


def balanced_mm_dist(distances: ArrayLike, rareness: ArrayLike, num_bins: int = 100) -> float:
    """Balanced MM = mean over non-empty bins b of mean_{i in b} d_i.

    Bins are num_bins equal-width intervals [e_b, e_b+1) of [min r, max r] (the last one closed,
    as np.histogram); empty bins are skipped. Equal rareness everywhere gives one bin.
    """
    dist, rare = _paired(distances, rareness)
    if num_bins < 1:
        raise ValueError(f"num_bins must be >= 1, got {num_bins}")
    edges = np.linspace(rare.min(), rare.max(), num_bins + 1)  # (B + 1,)
    bins = np.clip(np.searchsorted(edges, rare, side="right") - 1, 0, num_bins - 1)  # (Q,)
    counts = np.bincount(bins, minlength=num_bins)  # (B,)
    sums = np.bincount(bins, weights=dist.astype(np.float64), minlength=num_bins)  # (B,)
    filled = counts > 0
    return float(np.mean(sums[filled] / counts[filled]))
