"""Timestep embedding: sinusoid of the raw integer t ([cos | sin]) followed by an MLP."""

import math

import torch
from torch import nn

MAX_PERIOD = 10000.0


def timestep_sinusoid(timesteps: torch.Tensor, dim: int) -> torch.Tensor:
    """[cos(t f_i) | sin(t f_i)] with f_i = exp(-ln(10000) i / (dim // 2)); zero column if odd."""
    half = dim // 2
    steps = torch.arange(half, dtype=torch.float32, device=timesteps.device)  # (dim/2,)
    freqs = torch.exp(-math.log(MAX_PERIOD) * steps / half)  # (dim/2,)
    args = timesteps[:, None].float() * freqs[None]  # (B, dim/2)
    embedding = torch.cat([torch.cos(args), torch.sin(args)], dim=-1)  # (B, 2 * (dim/2))
    if dim % 2:
        embedding = torch.cat([embedding, torch.zeros_like(embedding[:, :1])], dim=-1)  # (B, dim)
    return embedding


class TimestepEmbedding(nn.Module):
    """emb = Linear(SiLU(Linear(sinusoid(t)))) of width time_embed_dim."""

    def __init__(self, sinusoid_dim: int, time_embed_dim: int) -> None:
        super().__init__()
        self.sinusoid_dim = sinusoid_dim
        self.mlp = nn.Sequential(
            nn.Linear(sinusoid_dim, time_embed_dim),
            nn.SiLU(),
            nn.Linear(time_embed_dim, time_embed_dim),
        )

    def forward(self, timesteps: torch.Tensor) -> torch.Tensor:
        """(B,) integer timesteps -> (B, time_embed_dim)."""
        sinusoid = timestep_sinusoid(timesteps, self.sinusoid_dim)  # (B, C)
        return self.mlp(sinusoid.to(self.mlp[0].weight.dtype))  # (B, TE)
