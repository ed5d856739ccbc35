"""Diversity and MultiModality: mean distance between randomly paired embeddings.

The reference draws first = choice(N, k, replace=False) and then second = choice(N, k,
replace=False) from numpy's legacy global RNG; the two draws are independent, so self-pairs
(distance 0) occur. `draw_pairs` replays them: an int seed s uses RandomState(s), which equals
calling np.random.seed(s) just before the reference metric.
"""

import numpy as np

from remodiffuse.metrics._inputs import ArrayLike, as_float_array, as_index_array

RandomSource = int | np.integer | np.random.Generator | np.random.RandomState


def draw_pairs(num_items: int, num_pairs: int, rng: RandomSource) -> tuple[np.ndarray, np.ndarray]:
    """Two independent draws of num_pairs distinct indices in [0, num_items): (P,), (P,) int64."""
    if not 0 < num_pairs <= num_items:
        raise ValueError(f"need 0 < num_pairs <= num_items, got {num_pairs} and {num_items}")
    source = np.random.RandomState(rng) if isinstance(rng, int | np.integer) else rng
    first = source.choice(num_items, num_pairs, replace=False)  # (P,)
    second = source.choice(num_items, num_pairs, replace=False)  # (P,)
    return first.astype(np.int64), second.astype(np.int64)


def _checked_pairs(
    first: ArrayLike, second: ArrayLike, upper: int
) -> tuple[np.ndarray, np.ndarray]:
    """Validated (P,) index arrays of equal, non-zero length."""
    first = as_index_array(first, "first", upper)  # (P,)
    second = as_index_array(second, "second", upper)  # (P,)
    if first.shape != second.shape or first.size == 0:
        raise ValueError(f"first {first.shape} and second {second.shape} must be equal, non-empty")
    return first, second


def diversity(activation: ArrayLike, first: ArrayLike, second: ArrayLike) -> float:
    """Diversity = mean_p |x[first_p] - x[second_p]|_2 over (N, D) embeddings (input dtype)."""
    act = as_float_array(activation, "activation", ndim=2)  # (N, D)
    first, second = _checked_pairs(first, second, act.shape[0])
    return float(np.linalg.norm(act[first] - act[second], axis=1).mean())


def multimodality(activation: ArrayLike, first: ArrayLike, second: ArrayLike) -> float:
    """MultiModality = mean_{t,p} |x[t, first_p] - x[t, second_p]|_2 over (T, R, D) embeddings.

    T prompts with R generations each; the same picks are shared by every prompt.
    """
    act = as_float_array(activation, "activation", ndim=3)  # (T, R, D)
    first, second = _checked_pairs(first, second, act.shape[1])
    return float(np.linalg.norm(act[:, first] - act[:, second], axis=2).mean())
