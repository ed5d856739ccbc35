"""Learnable transformers over frozen token features (prompt and retrieved captions)."""

import torch
from torch import nn


class TokenTransformer(nn.Module):
    """Stack of post-LN torch TransformerEncoderLayers (GELU); padded tokens masked as keys."""

    def __init__(
        self, width: int, num_layers: int, num_heads: int, ff_size: int, dropout: float
    ) -> None:
        super().__init__()
        self.layers = nn.ModuleList(
            nn.TransformerEncoderLayer(
                d_model=width,
                nhead=num_heads,
                dim_feedforward=ff_size,
                dropout=dropout,
                activation="gelu",
                batch_first=True,
                norm_first=False,
            )
            for _ in range(num_layers)
        )

    def forward(self, tokens: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        """tokens (B, L, W), mask (B, L) bool or None (every token valid) -> (B, L, W)."""
        padding = None if mask is None else ~mask  # (B, L)
        for layer in self.layers:
            tokens = layer(tokens, src_key_padding_mask=padding)  # (B, L, W)
        return tokens


class PromptTextEncoder(nn.Module):
    """xf = LN(transformer(Linear(tokens))): frozen prompt tokens to the text latent width Ct."""

    def __init__(
        self,
        token_dim: int,
        latent_dim: int,
        num_layers: int,
        num_heads: int,
        ff_size: int,
        dropout: float,
    ) -> None:
        super().__init__()
        self.input_proj = nn.Linear(token_dim, latent_dim)
        self.transformer = TokenTransformer(latent_dim, num_layers, num_heads, ff_size, dropout)
        self.norm = nn.LayerNorm(latent_dim)

    def forward(self, tokens: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        """tokens (B, L, Dt), mask (B, L) bool or None -> xf (B, L, Ct)."""
        h = self.input_proj(tokens)  # (B, L, Ct)
        return self.norm(self.transformer(h, mask))  # (B, L, Ct)
