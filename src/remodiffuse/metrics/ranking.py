"""Rank of the ground-truth motion for each text, with an explicit tie rule.

Tie modes (for dist[i, i] tied with other entries of row i):
- "stable": stable argsort, so among equal distances the lower motion index ranks first.
- "numpy": numpy's default argsort, what the reference runs; its tie order is platform-dependent.
- "optimistic": gt ranked first among its ties, rank = #{j: d_ij < d_ii}.
- "pessimistic": gt ranked last among its ties, rank = #{j: d_ij < d_ii} + #{j != i: d_ij = d_ii}.
NaN distances sort last, as in numpy's argsort (counted as +inf by the bound modes).
"""

from typing import Literal

import numpy as np

TieMode = Literal["stable", "numpy", "optimistic", "pessimistic"]
TIE_MODES: tuple[str, ...] = ("stable", "numpy", "optimistic", "pessimistic")


def gt_ranks(dist: np.ndarray, ties: TieMode = "stable") -> np.ndarray:
    """0-based position of motion i in text i's ascending-distance order: (n, n) -> (n,) int64."""
    if dist.ndim != 2 or dist.shape[0] != dist.shape[1]:
        raise ValueError(f"dist must be a square (n, n) matrix, got shape {dist.shape}")
    n = dist.shape[0]
    if ties in ("stable", "numpy"):
        order = np.argsort(dist, axis=1, kind="stable" if ties == "stable" else None)  # (n, n)
        return np.argmax(order == np.arange(n)[:, None], axis=1).astype(np.int64)
    if ties not in TIE_MODES:
        raise ValueError(f"ties must be one of {TIE_MODES}, got {ties!r}")
    keyed = np.where(np.isnan(dist), np.inf, dist)  # (n, n)
    gt = np.diagonal(keyed)[:, None]  # (n, 1)
    n_less = np.sum(keyed < gt, axis=1)  # (n,)
    if ties == "optimistic":
        return n_less.astype(np.int64)
    return (n_less + np.sum(keyed == gt, axis=1) - 1).astype(np.int64)


def top_k_matches(dist: np.ndarray, top_k: int = 3, ties: TieMode = "stable") -> np.ndarray:
    """hit[i, k] = rank_i <= k, i.e. gt motion i among the first k+1: (n, n) -> (n, top_k) bool."""
    if top_k < 1:
        raise ValueError(f"top_k must be >= 1, got {top_k}")
    return gt_ranks(dist, ties)[:, None] <= np.arange(top_k)[None, :]
