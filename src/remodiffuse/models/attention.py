"""Efficient (linear) attention: the retrieved-motion encoder's self-attention and SMA.

Per head, Y = softmax_features(Q) (softmax_tokens(K)^T V), without 1/sqrt(d) scaling. Masked
tokens get `masking.MASK_VALUE` added to their keys and their values zeroed: they do not count.
"""

import torch
from torch import nn
from torch.nn import functional as F

from remodiffuse.models.conditions import Conditions
from remodiffuse.models.masking import masked_keys, masked_values
from remodiffuse.models.stylization import StylizationBlock
from remodiffuse.models.token_sums import TokenSums, attention_from_sums, token_sums


def linear_attention(
    query: torch.Tensor, key: torch.Tensor, value: torch.Tensor, num_heads: int
) -> torch.Tensor:
    """query (B, T, C), key and value (B, N, C) -> (B, T, C), per head of C / num_heads."""
    batch, frames, width = query.shape
    tokens = key.shape[1]
    q = F.softmax(query.view(batch, frames, num_heads, -1), dim=-1)  # (B, T, H, d)
    k = F.softmax(key.view(batch, tokens, num_heads, -1), dim=1)  # (B, N, H, d)
    v = value.view(batch, tokens, num_heads, -1)  # (B, N, H, d)
    context = torch.einsum("bnhd,bnhl->bhdl", k, v)  # (B, H, d, d)
    return torch.einsum("bnhd,bhdl->bnhl", q, context).reshape(batch, frames, width)  # (B, T, C)


class EfficientSelfAttention(nn.Module):
    """x + linear self-attention over the valid frames of LN(x); no output projection."""

    def __init__(self, latent_dim: int, num_heads: int) -> None:
        super().__init__()
        self.num_heads = num_heads
        self.norm = nn.LayerNorm(latent_dim)
        self.query = nn.Linear(latent_dim, latent_dim)
        self.key = nn.Linear(latent_dim, latent_dim)
        self.value = nn.Linear(latent_dim, latent_dim)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """x (B, T, C), mask (B, T) bool -> (B, T, C)."""
        h = self.norm(x)  # (B, T, C)
        key = masked_keys(self.key(h), mask)  # (B, T, C)
        value = masked_values(self.value(h), mask)  # (B, T, C)
        return x + linear_attention(self.query(h), key, value, self.num_heads)  # (B, T, C)


class SemanticsModulatedAttention(nn.Module):
    """SMA: motion queries read [prompt tokens, retrieval tokens, motion frames] (paper Sec. 3.3).

    Retrieval keys come from [R^m; R^t], retrieval values from R^m only. The output is
    x + Stylization(Y, emb).
    """

    def __init__(
        self,
        latent_dim: int,
        text_latent_dim: int,
        retrieval_latent_dim: int,
        num_heads: int,
        time_embed_dim: int,
        dropout: float,
    ) -> None:
        super().__init__()
        self.num_heads = num_heads
        self.motion_norm = nn.LayerNorm(latent_dim)
        self.query = nn.Linear(latent_dim, latent_dim)
        self.key_motion = nn.Linear(latent_dim, latent_dim)
        self.value_motion = nn.Linear(latent_dim, latent_dim)
        self.text_norm = nn.LayerNorm(text_latent_dim)
        self.key_text = nn.Linear(text_latent_dim, latent_dim)
        self.value_text = nn.Linear(text_latent_dim, latent_dim)
        self.retrieval_key_norm = nn.LayerNorm(2 * retrieval_latent_dim)
        self.key_retrieval = nn.Linear(2 * retrieval_latent_dim, latent_dim)
        self.retrieval_value_norm = nn.LayerNorm(retrieval_latent_dim)
        self.value_retrieval = nn.Linear(retrieval_latent_dim, latent_dim)
        nn.init.zeros_(self.value_retrieval.weight)
        nn.init.zeros_(self.value_retrieval.bias)
        self.stylization = StylizationBlock(latent_dim, time_embed_dim, dropout)

    def forward(
        self, x: torch.Tensor, emb: torch.Tensor, conditions: Conditions, motion_mask: torch.Tensor
    ) -> torch.Tensor:
        """x (B, T, C), emb (B, TE), switched conditions, motion_mask (B, T) bool -> (B, T, C)."""
        h = self.motion_norm(x)  # (B, T, C)
        text = self.text_norm(conditions.text)  # (B, L, Ct)
        retrieval_pair = torch.cat(
            [conditions.retrieval_motion, conditions.retrieval_text], dim=-1
        )  # (B, R*Ts, 2Cr)
        key = torch.cat(
            [
                masked_keys(self.key_text(text), conditions.text_mask),  # (B, L, C)
                masked_keys(
                    self.key_retrieval(self.retrieval_key_norm(retrieval_pair)),
                    conditions.retrieval_mask,
                ),  # (B, R*Ts, C)
                masked_keys(self.key_motion(h), motion_mask),  # (B, T, C)
            ],
            dim=1,
        )  # (B, N, C)
        retrieval_value = self.value_retrieval(
            self.retrieval_value_norm(conditions.retrieval_motion)
        )  # (B, R*Ts, C)
        value = torch.cat(
            [
                masked_values(self.value_text(text), conditions.text_mask),  # (B, L, C)
                masked_values(retrieval_value, conditions.retrieval_mask),  # (B, R*Ts, C)
                masked_values(self.value_motion(h), motion_mask),  # (B, T, C)
            ],
            dim=1,
        )  # (B, N, C)
        y = linear_attention(self.query(h), key, value, self.num_heads)  # (B, T, C)
        return x + self.stylization(y, emb)  # (B, T, C)

    def condition_sums(self, conditions: Conditions) -> tuple[TokenSums, TokenSums]:
        """The prompt and retrieval token groups reduced once (unswitched masks), batch B."""
        text = self.text_norm(conditions.text)  # (B, L, Ct)
        text_sums = token_sums(
            self.key_text(text), self.value_text(text), conditions.text_mask, self.num_heads
        )
        retrieval_pair = torch.cat(
            [conditions.retrieval_motion, conditions.retrieval_text], dim=-1
        )  # (B, R*Ts, 2Cr)
        retrieval_sums = token_sums(
            self.key_retrieval(self.retrieval_key_norm(retrieval_pair)),  # (B, R*Ts, C)
            self.value_retrieval(self.retrieval_value_norm(conditions.retrieval_motion)),
            conditions.retrieval_mask,
            self.num_heads,
        )
        return text_sums, retrieval_sums

    def forward_from_sums(
        self,
        x: torch.Tensor,
        emb: torch.Tensor,
        sums: tuple[TokenSums, TokenSums],
        text_on: torch.Tensor,
        retrieval_on: torch.Tensor,
        motion_mask: torch.Tensor,
    ) -> torch.Tensor:
        """`forward` from `condition_sums` of batch B: x (n*B, T, C) branch-major, emb (n*B, TE),
        switches (n*B,) bool, motion_mask (n*B, T) -> (n*B, T, C)."""
        h = self.motion_norm(x)  # (n*B, T, C)
        motion = token_sums(self.key_motion(h), self.value_motion(h), motion_mask, self.num_heads)
        text_sums, retrieval_sums = sums
        every_row = torch.ones_like(text_on)
        y = attention_from_sums(
            self.query(h),
            [(text_sums, text_on), (retrieval_sums, retrieval_on), (motion, every_row)],
            self.num_heads,
        )  # (n*B, T, C)
        return x + self.stylization(y, emb)  # (n*B, T, C)
