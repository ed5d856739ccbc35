"""Euclidean distances between embeddings, with the reference's float numerics."""

import numpy as np

from remodiffuse.metrics._inputs import ArrayLike, as_float_array, check_paired


def euclidean_distance_matrix(a: ArrayLike, b: ArrayLike) -> np.ndarray:
    """dist[i, j] = sqrt((-2 a_i.b_j + |a_i|^2) + |b_j|^2) in the input dtype, unclamped.

    Same operation order as the reference, so rounding can make a near-zero distance NaN.
    """
    a = as_float_array(a, "a", ndim=2)  # (N1, D)
    b = as_float_array(b, "b", ndim=2)  # (N2, D)
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"a {a.shape} and b {b.shape} must have the same feature size")
    cross = -2 * np.dot(a, b.T)  # (N1, N2)
    a_sq = np.sum(np.square(a), axis=1, keepdims=True)  # (N1, 1)
    b_sq = np.sum(np.square(b), axis=1)  # (N2,)
    with np.errstate(invalid="ignore"):
        return np.sqrt(cross + a_sq + b_sq)  # (N1, N2)


def matching_distances(text_emb: ArrayLike, motion_emb: ArrayLike) -> np.ndarray:
    """Per-pair MM-Dist d_i = |t_i - m_i|_2 (np.linalg.norm of the difference)."""
    text = as_float_array(text_emb, "text_emb", ndim=2)  # (N, D)
    motion = as_float_array(motion_emb, "motion_emb", ndim=2)  # (N, D)
    check_paired(text, motion, "text_emb", "motion_emb")
    return np.linalg.norm(text - motion, axis=1)  # (N,)
