"""Which conditions a training sample keeps: the four mixture branches as a distribution.

Independent drops (the released recipe) keep text with probability 1 - text_dropout and
retrieval with 1 - retrieval_dropout, so at 10 % each the branches (both, text, retr, none) see
81 / 9 / 9 / 1 % of the samples. A categorical over the branches (e.g. 0.7 / 0.1 / 0.1 / 0.1)
trains every branch the condition mixture uses on a chosen share.
"""

from collections.abc import Sequence

import numpy as np
import torch

from remodiffuse.diffusion.mixture import BRANCHES, RETRIEVAL_ON, TEXT_ON
from remodiffuse.errors import InputError

SUM_TOLERANCE = 1e-6


class ConditionDropout:
    """Draws (text_on, retrieval_on) per sample: independent drops, or `branches` when given."""

    def __init__(
        self,
        text_dropout: float = 0.1,
        retrieval_dropout: float = 0.1,
        branches: Sequence[float] | None = None,
    ) -> None:
        for name, value in (
            ("text_dropout", text_dropout),
            ("retrieval_dropout", retrieval_dropout),
        ):
            if not 0.0 <= value <= 1.0:
                raise InputError(f"{name} must be in [0, 1], got {value}")
        self.text_dropout = float(text_dropout)
        self.retrieval_dropout = float(retrieval_dropout)
        self.branches = None if branches is None else _branch_probabilities(branches)

    @property
    def kind(self) -> str:
        return "independent" if self.branches is None else "categorical"

    def shares(self) -> np.ndarray:
        """(4,) expected fraction of samples per branch (both, text, retr, none)."""
        if self.branches is not None:
            return self.branches.copy()
        text, retrieval = 1.0 - self.text_dropout, 1.0 - self.retrieval_dropout
        return np.array(
            [
                text * retrieval,
                text * (1 - retrieval),
                (1 - text) * retrieval,
                (1 - text) * (1 - retrieval),
            ]
        )

    def draw(
        self, batch_size: int, generator: torch.Generator | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """text_on (B,) and retrieval_on (B,) bool, drawn on the CPU from `generator`."""
        if self.branches is None:
            keep = torch.rand(batch_size, 2, generator=generator)  # (B, 2)
            return keep[:, 0] >= self.text_dropout, keep[:, 1] >= self.retrieval_dropout
        edges = torch.as_tensor(np.cumsum(self.branches)[:-1], dtype=torch.float32)  # (3,)
        branch = torch.bucketize(torch.rand(batch_size, generator=generator), edges, right=True)
        return torch.tensor(TEXT_ON)[branch], torch.tensor(RETRIEVAL_ON)[branch]


def _branch_probabilities(values: Sequence[float]) -> np.ndarray:
    """(4,) non-negative probabilities for BRANCHES summing to 1, else InputError."""
    array = np.asarray(list(values), dtype=np.float64)
    if array.shape != (4,) or not np.all(np.isfinite(array)) or np.any(array < 0):
        raise InputError(
            f"branch probabilities must be 4 numbers >= 0 for {BRANCHES}, got {list(values)}"
        )
    if abs(array.sum() - 1.0) > SUM_TOLERANCE:
        raise InputError(
            f"branch probabilities {array.tolist()} for {BRANCHES} must sum to 1, "
            f"they sum to {array.sum()!r}"
        )
    return array
