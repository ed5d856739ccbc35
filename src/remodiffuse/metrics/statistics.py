"""Aggregation of metric values over evaluation replications."""

import numpy as np

from remodiffuse.metrics._inputs import ArrayLike, as_float_array


def metric_statistics(values: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Over axis 0 (R replications): mean and 95% half-width 1.96 * std(ddof=0) / sqrt(R)."""
    vals = as_float_array(values, "values")  # (R, ...)
    if vals.ndim == 0 or vals.shape[0] == 0:
        raise ValueError(f"values need at least one replication along axis 0, got {vals.shape}")
    mean = np.mean(vals, axis=0)  # (...)
    conf_interval = 1.96 * np.std(vals, axis=0) / np.sqrt(vals.shape[0])  # (...)
    return np.asarray(mean), np.asarray(conf_interval)
