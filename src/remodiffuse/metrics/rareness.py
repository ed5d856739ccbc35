"""Caption rareness (paper Eq. 7) against the training captions."""

import numpy as np

from remodiffuse.metrics._inputs import ArrayLike, as_float_array


def _unit_rows(features: np.ndarray, name: str) -> np.ndarray:
    """(N, D) rows divided by their L2 norm; ValueError on a zero row."""
    norms = np.linalg.norm(features, axis=1, keepdims=True)  # (N, 1)
    if np.any(norms == 0):
        raise ValueError(f"{name} has a zero feature vector (cosine similarity undefined)")
    return features / norms


def rareness(
    test_features: ArrayLike, train_features: ArrayLike, chunk_size: int = 1024
) -> np.ndarray:
    """Eq. 7: r_p = 1 - max_i cos(E_T(t_i), E_T(p)) per test caption p over training captions t_i.

    test_features (Q, D), train_features (N, D) sentence features (normalised here, so unit-norm
    inputs are unchanged); cosines in the promoted input dtype, test rows in chunks. (Q,) float64.
    """
    test = as_float_array(test_features, "test_features", ndim=2)  # (Q, D)
    train = as_float_array(train_features, "train_features", ndim=2)  # (N, D)
    if test.shape[1] != train.shape[1] or train.shape[0] == 0:
        raise ValueError(f"test {test.shape} and non-empty train {train.shape} must share D")
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be >= 1, got {chunk_size}")
    test = _unit_rows(test, "test_features")
    train_t = _unit_rows(train, "train_features").T  # (D, N)
    best = np.empty(test.shape[0], dtype=np.float64)  # (Q,)
    for start in range(0, test.shape[0], chunk_size):
        best[start : start + chunk_size] = (test[start : start + chunk_size] @ train_t).max(axis=1)
    return 1.0 - best
