"""ReMoDiffuse's contrastive text-motion evaluator (paper section 3.4, "Contrastive Model").

Motion side: a 4-layer ACTOR-style transformer encoder. The (B, T, D) motion is projected to the
latent width, two learned distribution tokens (mu, sigma) are prepended, sinusoidal positions are
added to all T + 2 slots, padded frames are masked as keys, and the mu slot's output, projected to
`embed_dim`, is the motion embedding. Text side: like ReMoDiffuse's prompt encoder (frozen token
features of the configured text encoder -> Linear -> transformer -> LayerNorm), then a masked
mean over the valid tokens projected to `embed_dim`.

Loss (Guo et al.'s contrastive loss, margin 10, over every pair of the batch): with
d_ij = ||t_i - m_j||_2 between text i and motion j,
    L = 1/2 * [ mean_i d_ii^2 + mean_{i != j} max(0, margin - d_ij)^2 ].
Guo et al. average B positive pairs and B negatives built by shifting the motion batch; using all
B(B-1) mismatched pairs keeps their equal weighting of the two terms (the 1/2) and equals the
expectation of their loss over random shifts, without a random draw.
"""

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np
import torch
from omegaconf import OmegaConf
from safetensors.torch import load_file, save_file
from torch import nn

from remodiffuse.configs import instantiate, plain_dict
from remodiffuse.errors import InputError
from remodiffuse.evaluators.common import (
    EvaluatorFileError,
    check_statistics,
    motion_batch,
    renormalize,
)
from remodiffuse.files import atomic_path, write_text
from remodiffuse.models.timestep import timestep_sinusoid
from remodiffuse.models.token_transformer import PromptTextEncoder
from remodiffuse.motion.masks import length_mask
from remodiffuse.motion.normalization import NORMALIZE_EPS

WEIGHTS_FILE = "evaluator.safetensors"
CONFIG_FILE = "evaluator.yaml"
DEFAULT_MARGIN = 10.0


@dataclass(frozen=True)
class ContrastiveConfig:
    """Sizes of the contrastive evaluator (defaults: the paper's 4-layer motion encoder, 512-d)."""

    feature_dim: int  # D: motion feature width (263 / 251)
    text_token_dim: int  # Dt: width of the frozen text encoder's token features
    embed_dim: int = 512  # E: joint embedding width
    motion_latent_dim: int = 512
    motion_num_layers: int = 4
    motion_num_heads: int = 8
    motion_ff_size: int = 1024
    text_latent_dim: int = 256
    text_num_layers: int = 2
    text_num_heads: int = 4
    text_ff_size: int = 2048
    dropout: float = 0.1

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> "ContrastiveConfig":
        """Build from a mapping; ValueError naming unknown keys."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise InputError(f"unknown contrastive evaluator settings: {unknown}")
        return cls(**dict(values))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class ActorMotionEncoder(nn.Module):
    """ACTOR-style encoder: [mu, sigma, Linear(x)] + positions -> transformer -> mu slot."""

    def __init__(self, config: ContrastiveConfig) -> None:
        super().__init__()
        width = config.motion_latent_dim
        self.latent_dim = width
        self.input_proj = nn.Linear(config.feature_dim, width)
        self.mu_token = nn.Parameter(torch.randn(width) * 0.02)
        self.sigma_token = nn.Parameter(torch.randn(width) * 0.02)
        layer = nn.TransformerEncoderLayer(
            d_model=width,
            nhead=config.motion_num_heads,
            dim_feedforward=config.motion_ff_size,
            dropout=config.dropout,
            activation="gelu",
            batch_first=True,
        )
        self.transformer = nn.TransformerEncoder(
            layer, config.motion_num_layers, enable_nested_tensor=False
        )
        self.output_proj = nn.Linear(width, config.embed_dim)

    def forward(self, motion: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """motion (B, T, D), mask (B, T) bool -> (B, E) embedding."""
        batch, frames, _ = motion.shape
        h = self.input_proj(motion)  # (B, T, W)
        tokens = torch.stack([self.mu_token, self.sigma_token])  # (2, W)
        h = torch.cat([tokens.expand(batch, -1, -1), h], dim=1)  # (B, T + 2, W)
        positions = torch.arange(frames + 2, device=motion.device)  # (T + 2,)
        h = h + timestep_sinusoid(positions, self.latent_dim)[None].to(h.dtype)  # (B, T + 2, W)
        valid = torch.cat([mask.new_ones(batch, 2), mask], dim=1)  # (B, T + 2)
        h = self.transformer(h, src_key_padding_mask=~valid)  # (B, T + 2, W)
        return self.output_proj(h[:, 0])  # (B, E)


class SentenceEncoder(nn.Module):
    """ReMoDiffuse's prompt text encoder, masked-mean pooled and projected to one embedding."""

    def __init__(self, config: ContrastiveConfig) -> None:
        super().__init__()
        self.encoder = PromptTextEncoder(
            config.text_token_dim,
            config.text_latent_dim,
            config.text_num_layers,
            config.text_num_heads,
            config.text_ff_size,
            config.dropout,
        )
        self.output_proj = nn.Linear(config.text_latent_dim, config.embed_dim)

    def forward(self, tokens: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """tokens (B, L, Dt), mask (B, L) bool -> (B, E) embedding."""
        h = self.encoder(tokens, mask)  # (B, L, Ct)
        weights = mask.to(h.dtype)[..., None]  # (B, L, 1)
        pooled = (h * weights).sum(1) / weights.sum(1).clamp_min(1.0)  # (B, Ct)
        return self.output_proj(pooled)  # (B, E)


class ContrastiveModel(nn.Module):
    """The pair of encoders trained into one joint embedding space."""

    def __init__(self, config: ContrastiveConfig) -> None:
        super().__init__()
        self.config = config
        self.motion_encoder = ActorMotionEncoder(config)
        self.text_encoder = SentenceEncoder(config)

    def embed_motions(self, motion: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """motion (B, T, D) in the evaluator's normalisation, mask (B, T) -> (B, E)."""
        return self.motion_encoder(motion, mask)

    def embed_texts(self, tokens: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Frozen token features (B, L, Dt), mask (B, L) -> (B, E)."""
        return self.text_encoder(tokens, mask)


def contrastive_loss(
    text_emb: torch.Tensor, motion_emb: torch.Tensor, margin: float = DEFAULT_MARGIN
) -> torch.Tensor:
    """1/2 [mean_i d_ii^2 + mean_{i!=j} relu(margin - d_ij)^2], d_ij = ||t_i - m_j||; (B, E) each.

    A batch of one has no negatives: the loss is then 1/2 d_00^2.
    """
    if text_emb.shape != motion_emb.shape or text_emb.ndim != 2:
        raise InputError(
            f"text and motion embeddings must both be (B, E), got {tuple(text_emb.shape)} and "
            f"{tuple(motion_emb.shape)}"
        )
    batch = text_emb.shape[0]
    diff = text_emb[:, None, :] - motion_emb[None, :, :]  # (B, B, E)
    squared = diff.pow(2).sum(-1)  # (B, B)
    positive = squared.diagonal().mean()
    if batch == 1:
        return 0.5 * positive
    distance = squared.clamp_min(1e-12).sqrt()  # (B, B); clamp keeps the gradient finite at 0
    off_diagonal = ~torch.eye(batch, dtype=torch.bool, device=text_emb.device)  # (B, B)
    negative = torch.relu(margin - distance[off_diagonal]).pow(2).mean()
    return 0.5 * (positive + negative)


class ContrastiveEvaluator:
    """`MotionTextEvaluator` of a trained contrastive model, its text encoder and Mean/Std."""

    def __init__(
        self,
        model: ContrastiveModel,
        text_encoder: nn.Module,
        mean: np.ndarray,
        std: np.ndarray,
        name: str,
        device: torch.device | str = "cpu",
    ) -> None:
        self.device = torch.device(device)
        self.model = model.to(self.device).eval()
        self.text_encoder = text_encoder.to(self.device)
        self.feature_dim = model.config.feature_dim
        check_statistics(mean, std, self.feature_dim, f"{name} statistics")
        self.mean = np.asarray(mean, dtype=np.float32)  # (D,)
        self.std = np.asarray(std, dtype=np.float32)  # (D,)
        self.name = name

    @torch.no_grad()
    def embed_texts(self, captions: list[str], tokens: list[list[str]]) -> np.ndarray:
        """(B, E): captions via the frozen encoder, rounded to float16 as the training cache."""
        features = self.text_encoder.encode(list(captions))
        token_features = features.tokens.half().float().to(self.device)  # (B, L, Dt)
        return self.model.embed_texts(token_features, features.mask.to(self.device)).cpu().numpy()

    @torch.no_grad()
    def embed_motions(
        self,
        motions: torch.Tensor | np.ndarray,
        lengths: Sequence[int] | np.ndarray,
        mean: np.ndarray,
        std: np.ndarray,
    ) -> np.ndarray:
        """(B, E) of (B, T, D) motions normalised with mean/std (moved to the evaluator's)."""
        motion, length = motion_batch(motions, lengths, self.feature_dim)  # (B, T, D), (B,)
        mean, std = np.asarray(mean), np.asarray(std)
        check_statistics(mean, std, self.feature_dim, "data")
        if not (np.array_equal(mean, self.mean) and np.array_equal(std, self.std)):
            motion = renormalize(motion, mean, std, self.mean, self.std, eval_eps=NORMALIZE_EPS)
        mask = length_mask(length, motion.shape[1])  # (B, T)
        motion = motion * mask[..., None]  # padded frames are zero, as in training batches
        embedding = self.model.embed_motions(motion.to(self.device), mask.to(self.device))
        return embedding.cpu().numpy()  # (B, E)


def save_contrastive(
    model: ContrastiveModel,
    mean: np.ndarray,
    std: np.ndarray,
    text_encoder: Mapping[str, Any],
    directory: str | Path,
    extra: Mapping[str, Any] | None = None,
) -> None:
    """Write evaluator.safetensors (model.* weights, mean, std) and evaluator.yaml."""
    directory = Path(directory)
    tensors = {f"model.{k}": v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    tensors["mean"] = torch.as_tensor(np.asarray(mean, dtype=np.float32))
    tensors["std"] = torch.as_tensor(np.asarray(std, dtype=np.float32))
    with atomic_path(directory / WEIGHTS_FILE) as temporary:
        save_file(tensors, str(temporary))
    content = {
        "kind": "contrastive",
        "architecture": model.config.to_dict(),
        "text_encoder": dict(text_encoder),
        **(extra or {}),
    }
    write_text(directory / CONFIG_FILE, OmegaConf.to_yaml(OmegaConf.create(content)))


def _read_bundle(path: Path) -> tuple[dict[str, Any], dict[str, Any], dict[str, torch.Tensor]]:
    """(architecture, text encoder config, tensors) of a run directory or a Lightning .ckpt."""
    if path.is_dir():
        weights, config = path / WEIGHTS_FILE, path / CONFIG_FILE
        for file in (weights, config):
            if not file.is_file():
                raise EvaluatorFileError(f"missing contrastive evaluator file: {file}")
        content = plain_dict(OmegaConf.load(config))
        return content["architecture"], content["text_encoder"], load_file(str(weights))
    if not path.is_file():
        raise EvaluatorFileError(f"missing contrastive evaluator checkpoint: {path}")
    checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    hparams = checkpoint.get("hyper_parameters", {})
    if "architecture" not in hparams:
        raise InputError(f"{path} is not a checkpoint of the evaluator stage")
    return hparams["architecture"], hparams["text_encoder"], checkpoint["state_dict"]


def load_contrastive(
    path: str | Path, device: torch.device | str = "cpu", text_encoder: nn.Module | None = None
) -> ContrastiveEvaluator:
    """The evaluator of a run directory (evaluator.safetensors + .yaml) or an evaluator .ckpt.

    `text_encoder` replaces the frozen encoder instantiated from the saved config (tests).
    """
    path = Path(path)
    architecture, text_config, tensors = _read_bundle(path)
    model = ContrastiveModel(ContrastiveConfig.from_dict(architecture))
    weights = {k[len("model.") :]: v for k, v in tensors.items() if k.startswith("model.")}
    model.load_state_dict(weights)
    if text_encoder is None:
        text_encoder = instantiate(text_config)
    if text_encoder.token_dim != model.config.text_token_dim:
        raise InputError(
            f"text encoder gives {text_encoder.token_dim}-d tokens but {path} was trained on "
            f"{model.config.text_token_dim}-d tokens"
        )
    mean, std = tensors["mean"].numpy(), tensors["std"].numpy()
    return ContrastiveEvaluator(model, text_encoder, mean, std, f"contrastive:{path}", device)
