"""Conversion of metric inputs (numpy arrays, torch tensors, sequences) to checked numpy arrays."""

import numpy as np
import numpy.typing as npt
import torch

ArrayLike = npt.ArrayLike | torch.Tensor


def as_float_array(values: ArrayLike, name: str, ndim: int | None = None) -> np.ndarray:
    """Values as a finite numpy float array; float32/float64 keep their dtype, others -> float64."""
    if isinstance(values, torch.Tensor):
        values = values.detach().cpu()
        if values.dtype in (torch.float16, torch.bfloat16):
            values = values.float()
        values = values.numpy()
    array = np.asarray(values)
    if array.dtype == np.float16:
        array = array.astype(np.float32)
    elif array.dtype not in (np.float32, np.float64):
        array = array.astype(np.float64)
    if ndim is not None and array.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-D, got shape {array.shape}")
    if not np.isfinite(array).all():
        raise ValueError(f"{name} contains non-finite values")
    return array


def as_index_array(values: ArrayLike, name: str, upper: int) -> np.ndarray:
    """1-D int64 indices, each in [0, upper)."""
    if isinstance(values, torch.Tensor):
        values = values.detach().cpu().numpy()
    array = np.asarray(values)
    if array.ndim != 1 or not np.issubdtype(array.dtype, np.integer):
        raise ValueError(f"{name} must be a 1-D integer array, got {array.dtype} {array.shape}")
    if array.size and (array.min() < 0 or array.max() >= upper):
        raise ValueError(f"{name} must lie in [0, {upper})")
    return array.astype(np.int64)


def check_paired(first: np.ndarray, second: np.ndarray, first_name: str, second_name: str) -> None:
    """Raise unless two arrays have the same shape (paired rows, same width)."""
    if first.shape != second.shape:
        raise ValueError(
            f"{first_name} {first.shape} and {second_name} {second.shape} must have the same shape"
        )
