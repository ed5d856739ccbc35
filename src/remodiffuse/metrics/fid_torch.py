"""Differentiable Frechet distance in torch, for optimising FID (condition-mixture finetuning).

tr(sqrtm(S1 S2)) = tr(sqrtm(R S2 R)) with R = sqrtm(S1), both roots of symmetric PSD matrices by
eigendecomposition. Their backward solves R dR + dR R = dS in the eigenbasis, dividing by
s_i + s_j (clamped below by eps) rather than by eigenvalue gaps, so it stays finite for repeated
and vanishing eigenvalues.
"""

import torch


class _PSDSqrtm(torch.autograd.Function):
    """X = U diag(sqrt(max(l, 0))) U^T for (A + A^T) / 2 = U diag(l) U^T."""

    @staticmethod
    def forward(ctx, matrix: torch.Tensor, eps: float) -> torch.Tensor:
        eigvals, eigvecs = torch.linalg.eigh((matrix + matrix.mT) / 2)  # (D,), (D, D)
        roots = eigvals.clamp_min(0).sqrt()  # (D,)
        ctx.save_for_backward(roots, eigvecs)
        ctx.eps = eps
        return (eigvecs * roots) @ eigvecs.mT

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> tuple[torch.Tensor, None]:
        roots, eigvecs = ctx.saved_tensors
        grad_eig = eigvecs.mT @ ((grad + grad.mT) / 2) @ eigvecs  # (D, D)
        denom = (roots[:, None] + roots[None, :]).clamp_min(ctx.eps)  # (D, D)
        return eigvecs @ (grad_eig / denom) @ eigvecs.mT, None


def psd_sqrtm(matrix: torch.Tensor, eps: float = 1e-12) -> torch.Tensor:
    """Principal square root of a symmetric PSD (D, D) matrix, negative eigenvalues clamped to 0."""
    return _PSDSqrtm.apply(matrix, eps)


def activation_statistics_torch(embeddings: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Differentiable row mean (D,) and covariance with ddof=1 (D, D) of (N, D) embeddings."""
    if embeddings.ndim != 2 or embeddings.shape[0] < 2:
        raise ValueError(f"embeddings must be (N, D) with N >= 2, got {tuple(embeddings.shape)}")
    return embeddings.mean(dim=0), torch.cov(embeddings.mT, correction=1)


def frechet_distance_torch(
    mu1: torch.Tensor,
    cov1: torch.Tensor,
    mu2: torch.Tensor,
    cov2: torch.Tensor,
    eps: float = 1e-12,
) -> torch.Tensor:
    """|mu1 - mu2|^2 + tr(S1) + tr(S2) - 2 tr(sqrtm(R S2 R)), R = sqrtm(S1); 0-d tensor.

    Computed in the promoted dtype of the inputs (float64 matches the numpy FID closely); eps
    floors s_i + s_j in the backward of both square roots.
    """
    dtype = torch.promote_types(
        torch.promote_types(mu1.dtype, mu2.dtype), torch.promote_types(cov1.dtype, cov2.dtype)
    )
    mu1, mu2, cov1, cov2 = (t.to(dtype) for t in (mu1, mu2, cov1, cov2))
    dim = mu1.shape[0] if mu1.ndim == 1 else -1
    if mu1.shape != (dim,) or mu2.shape != (dim,) or {cov1.shape, cov2.shape} != {(dim, dim)}:
        raise ValueError(
            f"expected means (D,) and covariances (D, D); got mu1 {tuple(mu1.shape)}, "
            f"cov1 {tuple(cov1.shape)}, mu2 {tuple(mu2.shape)}, cov2 {tuple(cov2.shape)}"
        )
    root1 = psd_sqrtm(cov1, eps)  # (D, D)
    cross = psd_sqrtm(root1 @ cov2 @ root1, eps)  # (D, D)
    diff = mu1 - mu2  # (D,)
    return diff.dot(diff) + cov1.trace() + cov2.trace() - 2 * cross.trace()
