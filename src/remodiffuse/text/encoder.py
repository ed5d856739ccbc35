"""The frozen text-encoder interface: masked token features and unit-norm sentence features."""

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from remodiffuse.errors import InputError


@dataclass(frozen=True)
class TextFeatures:
    """Encoded captions: per-token features, their validity mask and one sentence vector each."""

    tokens: torch.Tensor  # (B, L, D) float32, zero where mask is False
    mask: torch.Tensor  # (B, L) bool, True for the positions a model should attend to
    sentence: torch.Tensor  # (B, Ds) float32, unit L2 norm


def check_captions(captions: Sequence[str]) -> None:
    """Raise for an empty list, or naming the index of the first non-str or blank caption."""
    if len(captions) == 0:
        raise InputError("no captions to encode")
    for index, caption in enumerate(captions):
        if not isinstance(caption, str):
            raise TypeError(f"caption {index} is a {type(caption).__name__}, not a str")
        if not caption.strip():
            raise InputError(f"caption {index} is empty or whitespace-only: {caption!r}")


class TextEncoder(nn.Module, ABC):
    """A frozen caption encoder: eval mode, no gradients, runs on whatever device it is moved to."""

    name: str

    def freeze(self) -> None:
        """Disable gradients and dropout for good; subclasses call this at the end of __init__."""
        self.requires_grad_(False)
        self.eval()

    def train(self, mode: bool = True) -> "TextEncoder":
        """Stay in eval mode even when a parent module switches to training."""
        return super().train(False)

    @property
    def device(self) -> torch.device:
        """Device of the encoder's weights (inputs are moved there)."""
        return next(self.parameters()).device

    @property
    @abstractmethod
    def token_dim(self) -> int:
        """D: width of the token features."""

    @property
    @abstractmethod
    def sentence_dim(self) -> int:
        """Ds: width of the sentence features."""

    @property
    @abstractmethod
    def max_tokens(self) -> int:
        """Longest token sequence the encoder emits (captions are truncated to it)."""

    @property
    @abstractmethod
    def identity(self) -> dict[str, Any]:
        """JSON-serialisable description that changes whenever the features could change."""

    def token_count(self, caption: str) -> int | None:
        """Tokens of `caption` before truncation to max_tokens (None: the encoder cannot tell)."""
        return None

    def truncated(self, captions: Sequence[str]) -> list[int]:
        """Indices of the captions longer than max_tokens (cut when encoded)."""
        counts = [self.token_count(caption) for caption in captions]
        return [
            i for i, count in enumerate(counts) if count is not None and count > self.max_tokens
        ]

    @abstractmethod
    def forward(self, captions: list[str]) -> TextFeatures:
        """Encode one batch of already-checked captions on self.device."""

    @torch.no_grad()
    def encode(self, captions: Sequence[str], batch_size: int = 256) -> TextFeatures:
        """Encode captions in batches; tokens are padded with zeros to the longest batch."""
        check_captions(captions)
        batches = [
            self(list(captions[start : start + batch_size]))
            for start in range(0, len(captions), batch_size)
        ]
        length = max(batch.tokens.shape[1] for batch in batches)
        return TextFeatures(
            tokens=torch.cat([_pad_tokens(b.tokens, length) for b in batches]),  # (B, L, D)
            mask=torch.cat([_pad_tokens(b.mask, length) for b in batches]),  # (B, L)
            sentence=torch.cat([b.sentence for b in batches]),  # (B, Ds)
        )


def _pad_tokens(values: torch.Tensor, length: int) -> torch.Tensor:
    """Zero-pad (B, l, ...) to (B, length, ...) along the token axis."""
    padded = values.new_zeros((values.shape[0], length, *values.shape[2:]))
    padded[:, : values.shape[1]] = values
    return padded
