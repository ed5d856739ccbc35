"""Stylization block (MotionDiffuse, without the prompt embedding): timestep scale and shift."""

import torch
from torch import nn
from torch.nn import functional as F


class StylizationBlock(nn.Module):
    """out_proj(SiLU(LN(y) * (1 + scale) + shift)) with [scale | shift] = emb_proj(SiLU(emb))."""

    def __init__(self, latent_dim: int, time_embed_dim: int, dropout: float) -> None:
        super().__init__()
        self.emb_proj = nn.Linear(time_embed_dim, 2 * latent_dim)
        self.norm = nn.LayerNorm(latent_dim)
        self.dropout = nn.Dropout(dropout)
        self.out_proj = nn.Linear(latent_dim, latent_dim)
        nn.init.zeros_(self.out_proj.weight)
        nn.init.zeros_(self.out_proj.bias)

    def forward(self, y: torch.Tensor, emb: torch.Tensor) -> torch.Tensor:
        """y (B, T, C), emb (B, TE) -> (B, T, C)."""
        scale, shift = self.emb_proj(F.silu(emb))[:, None].chunk(2, dim=-1)  # (B, 1, C) each
        z = self.norm(y) * (1 + scale) + shift  # (B, T, C)
        return self.out_proj(self.dropout(F.silu(z)))  # (B, T, C)
