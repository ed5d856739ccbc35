"""A batch of prompts ready to denoise: conditions encoded once, the network's branch calls."""

from dataclasses import dataclass

import numpy as np
from torch import Tensor

from remodiffuse.models import Conditions, SemanticsModulatedTransformer


@dataclass(frozen=True)
class PromptBatch:
    """B prompts: their encoded conditions, retrieved entries and (B, T) valid-frame mask."""

    model: SemanticsModulatedTransformer
    conditions: Conditions
    neighbours: np.ndarray  # (B, k) database entries
    mask: Tensor  # (B, T) bool
    use_retrieval: bool = True

    @property
    def size(self) -> int:
        return int(self.mask.shape[0])

    def model_call(
        self,
        x: Tensor,
        t: Tensor,
        text_on: Tensor,
        retrieval_on: Tensor,
        branch_index: Tensor | None = None,
    ) -> Tensor:
        """Branch-major rows x (nB, T, D) -> x0 predictions (nB, T, D) (a `ModelCall`)."""
        copies = x.shape[0] // self.size
        return self.model(
            x,
            t,
            self.conditions.repeat(copies),
            text_on,
            retrieval_on & self.use_retrieval,
            self.mask.repeat(copies, 1),
        )
