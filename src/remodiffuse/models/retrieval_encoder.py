"""Encoders of the retrieved samples: R^m (motion encoder, then every stride-th frame) and R^t."""

import torch
from torch import nn

from remodiffuse.models.attention import EfficientSelfAttention
from remodiffuse.models.config import RetrievalEncoderConfig
from remodiffuse.models.feedforward import FeedForward
from remodiffuse.models.token_transformer import TokenTransformer
from remodiffuse.motion.masks import length_mask


class MotionEncoderLayer(nn.Module):
    """Efficient self-attention (pre-LN, residual) then a residual FFN, no stylization."""

    def __init__(self, latent_dim: int, num_heads: int, ff_size: int, dropout: float) -> None:
        super().__init__()
        self.attention = EfficientSelfAttention(latent_dim, num_heads)
        self.ffn = FeedForward(latent_dim, ff_size, dropout)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """x (B, T, C), mask (B, T) bool -> (B, T, C)."""
        return self.ffn(self.attention(x, mask))  # (B, T, C)


class RetrievalEncoder(nn.Module):
    """Retrieved motions -> R^m (B, R, ceil(T / stride), Cr); retrieved captions -> R^t (B, R, Cr).

    The caption path's input projection is the identity when the token width equals Cr (the
    released coupling), else a Linear.
    """

    def __init__(self, config: RetrievalEncoderConfig, input_feats: int, max_length: int) -> None:
        super().__init__()
        self.config = config
        width = config.latent_dim
        self.motion_proj = nn.Linear(input_feats, width)
        self.motion_positions = nn.Parameter(torch.randn(max_length, width))
        self.motion_layers = nn.ModuleList(
            MotionEncoderLayer(width, config.num_heads, config.motion_ff_size, config.dropout)
            for _ in range(config.motion_num_layers)
        )
        self.text_proj = (
            nn.Identity()
            if config.text_token_dim == width
            else nn.Linear(config.text_token_dim, width)
        )
        self.text_transformer = TokenTransformer(
            width, config.text_num_layers, config.num_heads, config.text_ff_size, config.dropout
        )

    def encode_motion_frames(self, motions: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Full-rate motion encoding: motions (M, T, D), mask (M, T) bool -> (M, T, Cr)."""
        frames = motions.shape[1]
        h = self.motion_proj(motions) + self.motion_positions[:frames]  # (M, T, Cr)
        for layer in self.motion_layers:
            h = layer(h, mask)  # (M, T, Cr)
        return h

    def encode_motions(
        self, motions: torch.Tensor, lengths: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """motions (B, R, T, D), lengths (B, R) -> R^m (B, R, Ts, Cr), mask (B, R, Ts) bool.

        Frames 0, s, 2s, ... are kept: Ts = ceil(T / s).
        """
        batch, count, frames, _ = motions.shape
        mask = length_mask(lengths.to(motions.device), frames)  # (B, R, T)
        flat_mask = mask.reshape(batch * count, frames)  # (B*R, T)
        h = self.encode_motion_frames(motions.flatten(0, 1), flat_mask)  # (B*R, T, Cr)
        stride = self.config.stride
        strided = h[:, ::stride].reshape(batch, count, -1, h.shape[-1])  # (B, R, Ts, Cr)
        return strided, mask[..., ::stride]  # (B, R, Ts, Cr), (B, R, Ts)

    def encode_text_tokens(self, tokens: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        """Caption encoder output at every token: tokens (M, L, Dr), mask (M, L) -> (M, L, Cr)."""
        return self.text_transformer(self.text_proj(tokens), mask)  # (M, L, Cr)

    def pool_text(self, encoded: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        """R^t from the caption encoder output: (M, L, Cr), mask (M, L) or None -> (M, Cr)."""
        if self.config.text_pooling == "last_slot":
            return encoded[:, -1]  # (M, Cr)
        if mask is None:
            return encoded.mean(dim=1)  # (M, Cr)
        weights = mask.to(encoded.dtype)[..., None]  # (M, L, 1)
        return (encoded * weights).sum(dim=1) / weights.sum(dim=1).clamp_min(1)  # (M, Cr)

    def encode_texts(self, tokens: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        """tokens (B, R, L, Dr), mask (B, R, L) bool or None -> R^t (B, R, Cr)."""
        batch, count = tokens.shape[:2]
        flat_mask = None if mask is None else mask.flatten(0, 1)  # (B*R, L)
        encoded = self.encode_text_tokens(tokens.flatten(0, 1), flat_mask)  # (B*R, L, Cr)
        return self.pool_text(encoded, flat_mask).reshape(batch, count, -1)  # (B, R, Cr)
