"""Residual feed-forward blocks: plain (retrieved-motion encoder) and stylized (decoder)."""

import torch
from torch import nn
from torch.nn import functional as F

from remodiffuse.models.stylization import StylizationBlock


class _GeluMLP(nn.Module):
    """linear2(GELU(linear1(x))) with linear2 zero-initialised (the residual branch of an FFN)."""

    def __init__(self, latent_dim: int, ff_size: int, dropout: float) -> None:
        super().__init__()
        self.linear1 = nn.Linear(latent_dim, ff_size)
        self.dropout = nn.Dropout(dropout)
        self.linear2 = nn.Linear(ff_size, latent_dim)
        nn.init.zeros_(self.linear2.weight)
        nn.init.zeros_(self.linear2.bias)

    def mlp(self, x: torch.Tensor) -> torch.Tensor:
        """(B, T, C) -> (B, T, C)."""
        return self.linear2(self.dropout(F.gelu(self.linear1(x))))  # (B, T, C)


class FeedForward(_GeluMLP):
    """x + linear2(GELU(linear1(x))), no normalisation."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, T, C) -> (B, T, C)."""
        return x + self.mlp(x)  # (B, T, C)


class StylizedFeedForward(_GeluMLP):
    """x + Stylization(linear2(GELU(linear1(x))), emb), no input normalisation."""

    def __init__(self, latent_dim: int, ff_size: int, time_embed_dim: int, dropout: float) -> None:
        super().__init__(latent_dim, ff_size, dropout)
        self.stylization = StylizationBlock(latent_dim, time_embed_dim, dropout)

    def forward(self, x: torch.Tensor, emb: torch.Tensor) -> torch.Tensor:
        """x (B, T, C), emb (B, TE) -> (B, T, C)."""
        return x + self.stylization(self.mlp(x), emb)  # (B, T, C)
