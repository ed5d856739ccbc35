"""Encoded conditions of a batch: computed once per sample, reused by every step and branch."""

from dataclasses import dataclass, fields

import torch


@dataclass(frozen=True)
class Conditions:
    """Prompt tokens xf and retrieval tokens (R^m with R^t repeated over its strided frames).

    Masks are True for tokens SMA may read. Retrieval tokens are the R retrieved motions' Ts
    strided frames, flattened motion-major to R*Ts.
    """

    text: torch.Tensor  # (B, L, Ct) xf
    text_mask: torch.Tensor  # (B, L) bool
    retrieval_motion: torch.Tensor  # (B, R*Ts, Cr) R^m
    retrieval_text: torch.Tensor  # (B, R*Ts, Cr) R^t of each token's retrieved caption
    retrieval_mask: torch.Tensor  # (B, R*Ts) bool, valid strided frames

    @property
    def batch_size(self) -> int:
        return self.text.shape[0]

    def select(self, index: torch.Tensor) -> "Conditions":
        """Samples `index` (B',) long, in that order (repeats allowed)."""
        index = index.to(self.text.device)
        return Conditions(
            **{f.name: getattr(self, f.name).index_select(0, index) for f in fields(self)}
        )

    def repeat(self, n: int) -> "Conditions":
        """n copies of the batch, branch-major: [all B samples] x n -> batch n * B."""
        return Conditions(
            **{
                f.name: torch.cat([getattr(self, f.name)] * n)  # (n * B, ...)
                for f in fields(self)
            }
        )

    def switched(self, text_on: torch.Tensor, retrieval_on: torch.Tensor) -> "Conditions":
        """Masks with the per-sample switches applied: (B,) bool each; off hides every token."""
        return Conditions(
            text=self.text,
            text_mask=self.text_mask & text_on[:, None],  # (B, L)
            retrieval_motion=self.retrieval_motion,
            retrieval_text=self.retrieval_text,
            retrieval_mask=self.retrieval_mask & retrieval_on[:, None],  # (B, R*Ts)
        )
