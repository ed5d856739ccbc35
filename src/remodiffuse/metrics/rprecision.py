"""R-precision and matching score (MM-Dist) over consecutive batches of text/motion pairs.

Batch b holds rows [b * batch_size, (b + 1) * batch_size); a partial last batch is dropped when
drop_last (text-to-motion's DataLoader) and kept otherwise (ReMoDiffuse). Shuffling the test
order before batching is the caller's job.
"""

from collections.abc import Iterator

import numpy as np

from remodiffuse.metrics._inputs import ArrayLike, as_float_array, check_paired
from remodiffuse.metrics.distance import euclidean_distance_matrix
from remodiffuse.metrics.ranking import TieMode, top_k_matches


def batch_slices(num_items: int, batch_size: int = 32, drop_last: bool = True) -> list[slice]:
    """Row slices of consecutive batches; ValueError if no batch remains."""
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    stop = num_items - num_items % batch_size if drop_last else num_items
    if stop <= 0:
        raise ValueError(
            f"{num_items} items give no batch of {batch_size}"
            + (" with drop_last=True" if drop_last else "")
        )
    return [slice(start, min(start + batch_size, stop)) for start in range(0, stop, batch_size)]


def _batch_distances(
    text_emb: ArrayLike, motion_emb: ArrayLike, batch_size: int, drop_last: bool
) -> Iterator[np.ndarray]:
    """Per batch, the (n, n) text-to-motion distance matrix."""
    text = as_float_array(text_emb, "text_emb", ndim=2)  # (N, D)
    motion = as_float_array(motion_emb, "motion_emb", ndim=2)  # (N, D)
    check_paired(text, motion, "text_emb", "motion_emb")
    for rows in batch_slices(text.shape[0], batch_size, drop_last):
        yield euclidean_distance_matrix(text[rows], motion[rows])


def r_precision(
    text_emb: ArrayLike,
    motion_emb: ArrayLike,
    batch_size: int = 32,
    top_k: int = 3,
    drop_last: bool = True,
    ties: TieMode = "stable",
) -> np.ndarray:
    """R-precision@k = sum_b #{i in b: rank_i < k} / sum_b n_b, k = 1..top_k: (top_k,) float64."""
    hits = np.zeros(top_k, dtype=np.int64)  # (top_k,)
    total = 0
    for dist in _batch_distances(text_emb, motion_emb, batch_size, drop_last):
        hits += top_k_matches(dist, top_k, ties).sum(axis=0)
        total += dist.shape[0]
    return hits / total


def matching_score(
    text_emb: ArrayLike, motion_emb: ArrayLike, batch_size: int = 32, drop_last: bool = True
) -> float:
    """MM-Dist = sum_b trace(dist_b) / sum_b n_b, traces summed sequentially in the input dtype."""
    dists = list(_batch_distances(text_emb, motion_emb, batch_size, drop_last))
    traces = np.array([dist.trace() for dist in dists])  # (B,)
    total = sum(dist.shape[0] for dist in dists)
    return float(np.add.accumulate(traces)[-1]) / total
