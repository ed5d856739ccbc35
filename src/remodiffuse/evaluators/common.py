"""The motion-text evaluator interface, shared input checks and re-normalisation."""

from collections.abc import Sequence
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np
import torch

from remodiffuse.errors import InputError
from remodiffuse.motion.normalization import NORMALIZE_EPS


class EvaluatorFileError(InputError, FileNotFoundError):
    """A file an evaluator needs is missing or unreadable (the message names it)."""


@runtime_checkable
class MotionTextEvaluator(Protocol):
    """Embeds captions and motions into one space where matching pairs lie close."""

    name: str  # e.g. "contrastive:<run dir>" or "t2m:<root>"
    feature_dim: int  # motion feature width it expects (263 HumanML3D, 251 KIT)

    def embed_texts(self, captions: list[str], tokens: list[list[str]]) -> np.ndarray:
        """(B, E) float32 embeddings of B captions (and their `word/POS` tokens)."""

    def embed_motions(
        self,
        motions: torch.Tensor | np.ndarray,
        lengths: Sequence[int] | np.ndarray,
        mean: np.ndarray,
        std: np.ndarray,
    ) -> np.ndarray:
        """(B, E) float32 embeddings of (B, T, D) motions normalised with `mean` / `std`."""


def require_file(path: str | Path, what: str) -> Path:
    """`path` as a Path; EvaluatorFileError naming it (and what it is) when it is not a file."""
    path = Path(path)
    if not path.is_file():
        raise EvaluatorFileError(f"missing {what}: {path}")
    return path


def check_statistics(mean: np.ndarray, std: np.ndarray, feature_dim: int, what: str) -> None:
    """ValueError unless mean and std are finite (feature_dim,) arrays with std >= 0."""
    for label, array in (("mean", mean), ("std", std)):
        if array.shape != (feature_dim,):
            raise InputError(
                f"{what} {label} has shape {array.shape}, expected ({feature_dim},): the data and "
                f"the evaluator have different feature dimensions"
            )
        if not np.isfinite(array).all():
            raise InputError(f"{what} {label} has non-finite entries")
    if (std < 0).any():
        raise InputError(f"{what} std has negative entries")


def motion_batch(
    motions: torch.Tensor | np.ndarray, lengths: Sequence[int] | np.ndarray, feature_dim: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """(B, T, D) float32 motions and (B,) int64 lengths, checked against each other and D."""
    motions = torch.as_tensor(np.asarray(motions) if not torch.is_tensor(motions) else motions)
    motions = motions.detach().float().cpu()  # (B, T, D)
    lengths = torch.as_tensor(np.asarray(lengths), dtype=torch.long).reshape(-1)  # (B,)
    if motions.ndim != 3:
        raise InputError(f"motions must be (B, T, D), got shape {tuple(motions.shape)}")
    if motions.shape[2] != feature_dim:
        raise InputError(
            f"motions have {motions.shape[2]} features but the evaluator expects {feature_dim}"
        )
    if lengths.shape[0] != motions.shape[0]:
        raise InputError(f"{lengths.shape[0]} lengths for {motions.shape[0]} motions")
    if (lengths < 1).any() or (lengths > motions.shape[1]).any():
        raise InputError(f"lengths must lie in [1, {motions.shape[1]}], got {lengths.tolist()}")
    return motions, lengths


def renormalize(
    x: np.ndarray | torch.Tensor,
    mean_model: np.ndarray,
    std_model: np.ndarray,
    mean_eval: np.ndarray,
    std_eval: np.ndarray,
    eval_eps: float = 0.0,
) -> torch.Tensor:
    """Move (..., D) motions from the model's normalisation to the evaluator's.

    x_eval = ((x * (std_model + 1e-9) + mean_model) - mean_eval) / (std_eval + eval_eps):
    undo ReMoDiffuse's `normalize` (eps 1e-9), then apply the evaluator's. Guo et al.'s
    evaluator data divides by its std without an eps (eval_eps=0, the default); our contrastive
    evaluator uses the ReMoDiffuse convention (eval_eps=1e-9).
    """
    x = torch.as_tensor(x, dtype=torch.float32)  # (..., D)
    arrays = [
        torch.as_tensor(np.asarray(a), dtype=torch.float64)
        for a in (mean_model, std_model, mean_eval, std_eval)
    ]
    mean_m, std_m, mean_e, std_e = arrays  # (D,) each
    if eval_eps == 0.0 and (std_e <= 0).any():
        raise InputError("the evaluator std has zero entries; cannot divide without an eps")
    raw = x.double() * (std_m + NORMALIZE_EPS) + mean_m  # (..., D) unnormalised features
    return ((raw - mean_e) / (std_e + eval_eps)).float()  # (..., D)
