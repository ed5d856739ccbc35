"""Valid-frame masks of zero-padded motion batches."""

import torch

__all__ = ["length_mask"]


def length_mask(lengths: torch.Tensor, num_frames: int) -> torch.Tensor:
    """lengths (...,) -> (..., T) bool on lengths' device, True on the first lengths frames."""
    return torch.arange(num_frames, device=lengths.device) < lengths[..., None]
