"""Linear attention split by token groups: each group's keys and values summed once, then mixed.

Per head, linear attention is Y = softmax_features(Q) C with the context
C = sum_n softmax_tokens(K)_n V_n^T. The token softmax only couples the groups (prompt tokens,
retrieval tokens, motion frames) through its normaliser, so each group can be reduced on its own to
its per-channel peak m = max_n K_n, weight z = sum_n exp(K_n - m) and outer sum
S = sum_n exp(K_n - m) V_n^T; the groups a row reads then combine exactly, rescaled to their common
peak M: C = sum_g exp(m_g - M) S_g / sum_g exp(m_g - M) z_g. A group that does not change between
sampler steps (the prompt and the retrieved samples) is reduced once per prompt instead of once
per step, and a group no row reads is left out.
"""

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch.nn import functional as F

from remodiffuse.models.masking import masked_keys, masked_values


@dataclass(frozen=True)
class TokenSums:
    """One token group of B samples reduced per head (H heads of d channels)."""

    peak: torch.Tensor  # (B, H, d) max key over the tokens (about -1e6 when all are masked)
    weight: torch.Tensor  # (B, H, d) sum of exp(key - peak)
    outer: torch.Tensor  # (B, H, d, d) sum of exp(key - peak) value^T


def token_sums(
    key: torch.Tensor, value: torch.Tensor, valid: torch.Tensor, num_heads: int
) -> TokenSums:
    """key, value (B, N, C), valid (B, N) bool -> the group's sums, its tokens masked as
    `linear_attention`'s callers mask them (an all-masked group then weighs exp(-1e6), i.e. 0)."""
    batch, tokens, width = key.shape
    k = masked_keys(key, valid).view(batch, tokens, num_heads, -1)  # (B, N, H, d)
    v = masked_values(value, valid).view(batch, tokens, num_heads, -1)  # (B, N, H, d)
    peak = k.amax(dim=1)  # (B, H, d)
    e = torch.exp(k - peak[:, None])  # (B, N, H, d)
    return TokenSums(peak=peak, weight=e.sum(dim=1), outer=torch.einsum("bnhd,bnhl->bhdl", e, v))


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
    peaks = [
        _rows(sums.peak, rows).masked_fill(~reads[:, None, None], float("-inf"))
        for sums, reads in groups
    ]  # (R, H, d) each, -inf where the row does not read the group
    common = torch.stack(peaks).amax(dim=0)  # (R, H, d)
    scales = [torch.exp(peak - common) for peak in peaks]  # (R, H, d), 0 where not read
    total = sum(
        scale * _rows(sums.weight, rows) for scale, (sums, _) in zip(scales, groups, strict=True)
    )  # (R, H, d)
    y = 0
    for scale, (sums, _) in zip(scales, groups, strict=True):
        y = y + _apply_outer(q * (scale / total)[:, None], sums.outer)  # (R, T, H, d)
    return y.reshape(rows, frames, width)  # (R, T, C)


def _rows(values: torch.Tensor, rows: int) -> torch.Tensor:
    """(B, ...) values of R = n * B rows, repeated branch-major."""
    batch = values.shape[0]
    if rows % batch:
        raise ValueError(f"{rows} rows are not a multiple of the group's batch {batch}")
    return values if batch == rows else values.repeat(rows // batch, *[1] * (values.ndim - 1))


def _apply_outer(weighted: torch.Tensor, outer: torch.Tensor) -> torch.Tensor:
    """weighted (R, T, H, d) times outer (B, H, d, d), R = n * B branch-major -> (R, T, H, d)."""
    rows, batch = weighted.shape[0], outer.shape[0]
    grouped = weighted.view(rows // batch, batch, *weighted.shape[1:])  # (n, B, T, H, d)
    return torch.einsum("nbthd,bhdl->nbthl", grouped, outer).reshape(weighted.shape)
