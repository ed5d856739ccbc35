"""A batch of prompts ready to denoise: conditions encoded once, the network's branch calls."""

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import torch
from torch import Tensor

from remodiffuse.errors import InputError
from remodiffuse.models import Conditions, SemanticsModulatedTransformer
from remodiffuse.models.transformer import LayerSums


@dataclass(frozen=True)
class PromptBatch:
    """B prompts: their encoded conditions, retrieved entries and (B, T) valid-frame mask."""

    model: SemanticsModulatedTransformer
    conditions: Conditions
    neighbours: np.ndarray  # (B, k) database entries
    mask: Tensor  # (B, T) bool
    use_retrieval: bool = True
    precision: str = "fp32"  # "bf16": network calls under bf16 autocast, results in fp32

    @property
    def size(self) -> int:
        return int(self.mask.shape[0])

    @cached_property
    def condition_sums(self) -> list[LayerSums]:
        """Every layer's prompt and retrieval keys and values, reduced once for all steps."""
        return self.model.condition_sums(self.conditions)

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
        with autocast(self.precision, x.device):
            x0 = self.model.forward_from_sums(
                x,
                t,
                self.condition_sums,
                text_on,
                retrieval_on & self.use_retrieval,
                self.mask.repeat(copies, 1),
            )
        return x0.float()  # (nB, T, D)


PRECISIONS = ("fp32", "bf16")


def autocast(precision: str, device: torch.device) -> torch.autocast:
    """bf16 autocast on `device` for precision "bf16", a disabled one for "fp32"."""
    if precision not in PRECISIONS:
        raise InputError(f"precision={precision!r}: allowed {', '.join(PRECISIONS)}")
    return torch.autocast(device.type, dtype=torch.bfloat16, enabled=precision == "bf16")
