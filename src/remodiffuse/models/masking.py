"""Hiding tokens from linear attention: a large negative key and a zero value."""

import torch

MASK_VALUE = -1.0e6


def masked_keys(key: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
    """key (B, N, C) with MASK_VALUE added where valid (B, N) is False."""
    return key + (~valid).to(key.dtype)[..., None] * MASK_VALUE  # (B, N, C)


def masked_values(value: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
    """value (B, N, C) zeroed where valid (B, N) is False."""
    return value * valid.to(value.dtype)[..., None]  # (B, N, C)
