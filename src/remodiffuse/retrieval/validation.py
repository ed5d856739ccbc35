"""Checks that turn caller arrays into the database's dtypes, with a clear ValueError otherwise."""

from collections.abc import Sequence

import numpy as np

from remodiffuse.errors import InputError


def check_count(name: str, count: int, expected: int, what: str = "entries") -> None:
    """Raise ValueError when `name` has `count` rows instead of `expected`."""
    if count != expected:
        raise InputError(f"{name} has {count} rows but there are {expected} {what}")


def as_features(name: str, features: np.ndarray, dim: int | None = None) -> np.ndarray:
    """(N, D) numeric array with finite, non-zero rows (dtype kept); D must equal `dim` if given."""
    array = np.asarray(features)
    if array.ndim != 2 or array.dtype.kind not in "fiu":
        raise InputError(f"{name} must be a numeric (N, D) array, got {array.dtype} {array.shape}")
    if dim is not None and array.shape[1] != dim:
        raise InputError(f"{name} have dimension {array.shape[1]}, the database has {dim}")
    bad = ~np.isfinite(array).all(1)
    if bad.any():
        raise InputError(f"{name} row {int(np.argmax(bad))} has NaN or infinite values")
    zero = ~array.any(1)
    if zero.any():
        raise InputError(f"{name} row {int(np.argmax(zero))} is all zeros (no direction)")
    return array


def as_lengths(name: str, lengths: Sequence[int] | np.ndarray, count: int) -> np.ndarray:
    """(count,) positive integer lengths as int64."""
    array = np.asarray(lengths)
    if array.ndim != 1 or array.dtype.kind not in "fiu":
        raise InputError(f"{name} must be a 1-D array of integers, got {array.dtype} {array.shape}")
    check_count(name, array.shape[0], count)
    if array.dtype.kind == "f" and not (np.isfinite(array) & (array == np.round(array))).all():
        raise InputError(f"{name} must hold whole numbers of frames")
    if (array <= 0).any():
        raise InputError(f"{name} must be positive, got {array[array <= 0][0]}")
    return array.astype(np.int64)


def as_strings(name: str, values: Sequence[str], count: int | None = None) -> np.ndarray:
    """(N,) non-empty strings as a numpy str array."""
    values = list(values)
    if not all(isinstance(value, str) and value for value in values):
        raise InputError(f"{name} must be non-empty strings")
    if count is not None:
        check_count(name, len(values), count)
    return np.array(values, dtype=str)
