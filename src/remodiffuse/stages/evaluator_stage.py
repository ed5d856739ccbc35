"""Training of ReMoDiffuse's contrastive text-motion evaluator (paper section 3.4).

`python -m remodiffuse.train stage=evaluator dataset=...` fits it on the shared data module; the
frozen text encoder's token features come from the on-disk caption cache, so training runs only
the two learnable encoders. See `remodiffuse.evaluators.contrastive` for the model and the loss.
"""

from collections.abc import Mapping
from typing import Any

import numpy as np
import torch
from lightning import LightningModule

from remodiffuse.configs import instantiate, plain_dict
from remodiffuse.evaluators.contrastive import (
    DEFAULT_MARGIN,
    ContrastiveConfig,
    ContrastiveModel,
    contrastive_loss,
    save_contrastive,
)
from remodiffuse.metrics import r_precision
from remodiffuse.text import CachedTextFeatures, cached_text_features

TOP_K = 3


class EvaluatorStage(LightningModule):
    """Contrastive loss on (caption, motion) batches; val loss and in-batch R-precision.

    The dataset's Mean/Std are buffers (so Lightning checkpoints carry them); rank zero writes
    evaluator.safetensors + evaluator.yaml into the run directory when training ends, which
    `load_evaluator({"kind": "contrastive", "ckpt": run_dir})` reads (as it reads a .ckpt).
    """

    def __init__(
        self,
        architecture: Mapping[str, Any],
        text_encoder: Mapping[str, Any],
        cache_dir: str,
        lr: float = 1e-4,
        weight_decay: float = 0.0,
        margin: float = DEFAULT_MARGIN,
    ) -> None:
        super().__init__()
        self.save_hyperparameters(
            {
                "architecture": plain_dict(architecture),
                "text_encoder": plain_dict(text_encoder),
                "cache_dir": str(cache_dir),
                "lr": lr,
                "weight_decay": weight_decay,
                "margin": margin,
            }
        )
        self.model = ContrastiveModel(ContrastiveConfig.from_dict(self.hparams.architecture))
        feature_dim = self.model.config.feature_dim
        self.register_buffer("mean", torch.zeros(feature_dim))  # (D,)
        self.register_buffer("std", torch.ones(feature_dim))  # (D,)
        self.text_features: dict[str, CachedTextFeatures] = {}

    def setup(self, stage: str) -> None:
        """Cache the captions' token features of every set-up split; take the data's Mean/Std."""
        datamodule = self.trainer.datamodule
        if datamodule.feature_dim != self.model.config.feature_dim:
            raise ValueError(
                f"the data has {datamodule.feature_dim} motion features but the evaluator "
                f"architecture expects feature_dim={self.model.config.feature_dim}"
            )
        self.mean.copy_(torch.from_numpy(datamodule.mean))
        self.std.copy_(torch.from_numpy(datamodule.std))
        missing = [name for name in datamodule.datasets if name not in self.text_features]
        if missing:
            encoder = instantiate(self.hparams.text_encoder)
            if encoder.token_dim != self.model.config.text_token_dim:
                raise ValueError(
                    f"text encoder {encoder.name} gives {encoder.token_dim}-d tokens but the "
                    f"architecture expects text_token_dim={self.model.config.text_token_dim}"
                )
            for name in missing:
                captions = datamodule.datasets[name].captions
                self.text_features[name] = cached_text_features(
                    encoder, captions, self.hparams.cache_dir
                )

    def _embed(self, batch: Mapping[str, Any], split: str) -> tuple[torch.Tensor, torch.Tensor]:
        """(B, E) text and (B, E) motion embeddings of a batch."""
        features = self.text_features[split]
        index = batch["caption_index"].cpu().numpy()  # (B,)
        tokens = torch.from_numpy(np.asarray(features.tokens[index], dtype=np.float32))
        mask = torch.from_numpy(np.asarray(features.mask[index]))  # (B, L)
        text = self.model.embed_texts(tokens.to(self.device), mask.to(self.device))  # (B, E)
        motion = self.model.embed_motions(batch["motion"], batch["mask"])  # (B, E)
        return text, motion

    def training_step(self, batch: Mapping[str, Any], batch_idx: int) -> torch.Tensor:
        text, motion = self._embed(batch, "train")
        loss = contrastive_loss(text, motion, self.hparams.margin)
        self.log("train/loss", loss, prog_bar=True, batch_size=text.shape[0])
        return loss

    def validation_step(self, batch: Mapping[str, Any], batch_idx: int) -> torch.Tensor:
        text, motion = self._embed(batch, "val")
        batch_size = text.shape[0]
        loss = contrastive_loss(text, motion, self.hparams.margin)
        self.log("val/loss", loss, prog_bar=True, sync_dist=True, batch_size=batch_size)
        if batch_size >= 2:  # top-3 is clipped to top-B in smaller batches
            precision = r_precision(
                text.float().cpu().numpy(), motion.float().cpu().numpy(),
                batch_size=batch_size, top_k=min(TOP_K, batch_size), drop_last=False,
            )  # fmt: skip
            for k in (1, TOP_K):
                self.log(
                    f"val/r_precision_top{k}", float(precision[min(k, batch_size) - 1]),
                    sync_dist=True, batch_size=batch_size,
                )  # fmt: skip
        return loss

    def configure_optimizers(self) -> torch.optim.Optimizer:
        """Adam on both encoders (Guo et al. train their evaluator with Adam, lr 1e-4)."""
        return torch.optim.Adam(
            self.model.parameters(), lr=self.hparams.lr, weight_decay=self.hparams.weight_decay
        )

    def on_train_end(self) -> None:
        if self.trainer.is_global_zero:
            datamodule = self.trainer.datamodule
            save_contrastive(
                self.model,
                self.mean.cpu().numpy(),
                self.std.cpu().numpy(),
                self.hparams.text_encoder,
                self.trainer.default_root_dir,
                extra={"dataset": {"name": datamodule.name}, "margin": self.hparams.margin},
            )
