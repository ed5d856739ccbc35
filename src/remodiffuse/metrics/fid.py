"""Frechet distance between Gaussian fits of two embedding sets (FID), reference numerics."""

import numpy as np
from scipy import linalg

from remodiffuse.metrics._inputs import ArrayLike, as_float_array

IMAGINARY_ATOL = 1e-3


def activation_statistics(embeddings: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """mu = row mean (input dtype) and cov = np.cov(rowvar=False) (ddof=1, at least float64)."""
    emb = as_float_array(embeddings, "embeddings", ndim=2)  # (N, D)
    if emb.shape[0] < 2:
        raise ValueError(f"need at least 2 embeddings for a covariance, got {emb.shape[0]}")
    return np.mean(emb, axis=0), np.cov(emb, rowvar=False)  # (D,), (D, D)


def frechet_distance(
    mu1: ArrayLike, cov1: ArrayLike, mu2: ArrayLike, cov2: ArrayLike, eps: float = 1e-6
) -> float:
    """|mu1 - mu2|^2 + tr(S1) + tr(S2) - 2 tr(sqrtm(S1 S2)), sqrtm by scipy.linalg.sqrtm.

    As the reference: eps * I is added to both covariances only if sqrtm(S1 S2) is non-finite; a
    complex root keeps its real part if every |imag| on its diagonal is <= 1e-3, else ValueError.
    """
    mu1 = np.atleast_1d(as_float_array(mu1, "mu1"))  # (D,)
    mu2 = np.atleast_1d(as_float_array(mu2, "mu2"))  # (D,)
    cov1 = np.atleast_2d(as_float_array(cov1, "cov1"))  # (D, D)
    cov2 = np.atleast_2d(as_float_array(cov2, "cov2"))  # (D, D)
    dim = mu1.shape[0]
    if {mu1.shape, mu2.shape} != {(dim,)} or {cov1.shape, cov2.shape} != {(dim, dim)}:
        raise ValueError(
            f"expected means (D,) and covariances (D, D); got mu1 {mu1.shape}, cov1 {cov1.shape}, "
            f"mu2 {mu2.shape}, cov2 {cov2.shape}"
        )
    diff = mu1 - mu2  # (D,)
    covmean = linalg.sqrtm(cov1.dot(cov2))  # (D, D)
    if not np.isfinite(covmean).all():
        offset = np.eye(dim) * eps  # (D, D)
        covmean = linalg.sqrtm((cov1 + offset).dot(cov2 + offset))
    if np.iscomplexobj(covmean):
        imaginary = np.abs(np.diagonal(covmean).imag)  # (D,)
        if not np.all(imaginary <= IMAGINARY_ATOL):
            raise ValueError(f"sqrtm(S1 S2) has an imaginary component {np.max(imaginary)}")
        covmean = covmean.real
    return float(diff.dot(diff) + np.trace(cov1) + np.trace(cov2) - 2 * np.trace(covmean))


def fid(gt_emb: ArrayLike, pred_emb: ArrayLike) -> float:
    """Frechet distance of the (mu, cov) statistics of two (N, D) embedding sets, gt first."""
    return frechet_distance(*activation_statistics(gt_emb), *activation_statistics(pred_emb))
