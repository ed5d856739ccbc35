"""Linear attention split by token groups: each group's keys and values summed once, then mixed.

Per head, linear attention is Y = softmax_features(Q) C with the context
C = sum_n softmax_tokens(K)_n V_n^T. The token softmax only couples the groups (prompt tokens,
retrieval tokens, motion frames) through its normaliser, so each group can be reduced on its own to
its per-channel peak m = max_n K_n, weights z = sum_n exp(K_n - m) and outer sum
S = sum_n exp(K_n - m) V_n^T; the groups a row reads are then combined exactly, rescaled to their
common peak. A group that does not change between sampler steps (the prompt and the retrieved
samples) is reduced once per prompt instead of once per step, and a switched-off group is left out.
"""

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch.nn import functional as F


@dataclass(frozen=True)
class TokenSums:
    """One token group of B samples reduced per head (H heads of d channels)."""

    peak: torch.Tensor  # (B, H, d) max key over the valid tokens (-inf when none)
    weights: torch.Tensor  # (B, H, d) sum of exp(key - peak)
    outer: torch.Tensor  # (B, H, d, d) sum of exp(key - peak) value^T


def token_sums(
    key: torch.Tensor, value: torch.Tensor, valid: torch.Tensor, num_heads: int
) -> TokenSums:
    """key, value (B, N, C), valid (B, N) bool -> the group's sums over its valid tokens."""
    batch, tokens, width = key.shape
    k = key.view(batch, tokens, num_heads, -1)  # (B, N, H, d)
    v = value.view(batch, tokens, num_heads, -1)  # (B, N, H, d)
    mask = valid[:, :, None, None]  # (B, N, 1, 1)
    peak = k.masked_fill(~mask, float("-inf")).amax(dim=1)  # (B, H, d)
    finite_peak = torch.where(torch.isfinite(peak), peak, torch.zeros_like(peak))
    e = torch.exp(k - finite_peak[:, None]) * mask  # (B, N, H, d)
    return TokenSums(
        peak=peak,
        weights=e.sum(dim=1),  # (B, H, d)
        outer=torch.einsum("bnhd,bnhl->bhdl", e, v),  # (B, H, d, d)
    )


def attention_from_sums(
    query: torch.Tensor,
    groups: Sequence[tuple[TokenSums, torch.Tensor]],
    num_heads: int,
) -> torch.Tensor:
    """query (R, T, C) and (sums of batch B, reads (R,) bool) per group -> (R, T, C).

    R = n * B rows in branch-major order: row r reads sample r % B of every group it reads.
    Equals `linear_attention` over the concatenated valid tokens of the groups each row reads.
    """
    rows, frames, width = query.shape
    groups = [(sums, reads) for sums, reads in groups if bool(reads.any())]  # skip unread ones
    q = F.softmax(query.view(rows, frames, num_heads, -1), dim=-1)  # (R, T, H, d)
    expanded = [(_rows(sums, rows), reads) for sums, reads in groups]
    peaks = [
        torch.where(reads[:, None, None], sums.peak, torch.full_like(sums.peak, float("-inf")))
        for sums, reads in expanded
    ]  # (R, H, d) each
    common = torch.stack(peaks).amax(dim=0)  # (R, H, d)
    scales = [torch.exp(peak - common) for peak in peaks]  # (R, H, d), 0 where not read
    total = sum(scale * sums.weights for scale, (sums, _) in zip(scales, expanded, strict=True))
    y = 0
    for scale, (sums, _) in zip(scales, expanded, strict=True):
        weighted = q * (scale / total)[:, None]  # (R, T, H, d)
        y = y + _apply_outer(weighted, sums.outer)  # (R, T, H, d)
    return y.reshape(rows, frames, width)  # (R, T, C)


def _rows(sums: TokenSums, rows: int) -> TokenSums:
    """The sums of R rows: a batch of B < R is repeated branch-major."""
    batch = sums.peak.shape[0]
    if batch == rows:
        return sums
    if rows % batch:
        raise ValueError(f"{rows} rows are not a multiple of the group's batch {batch}")
    copies = rows // batch
    return TokenSums(
        peak=sums.peak.repeat(copies, 1, 1),
        weights=sums.weights.repeat(copies, 1, 1),
        outer=sums.outer,  # kept at batch B: `_apply_outer` broadcasts it
    )


def _apply_outer(weighted: torch.Tensor, outer: torch.Tensor) -> torch.Tensor:
    """weighted (R, T, H, d) times outer (B, H, d, d), R = n * B branch-major -> (R, T, H, d)."""
    rows, batch = weighted.shape[0], outer.shape[0]
    grouped = weighted.view(rows // batch, batch, *weighted.shape[1:])  # (n, B, T, H, d)
    return torch.einsum("nbthd,bhdl->nbthl", grouped, outer).reshape(weighted.shape)
