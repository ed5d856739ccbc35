"""Training of the Semantics-Modulated Transformer as an x0-predicting diffusion model."""

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import torch
from lightning import LightningModule

from remodiffuse.configs import instantiate, plain_dict
from remodiffuse.diffusion import GaussianDiffusion, build_diffusion
from remodiffuse.models import ModelConfig, SemanticsModulatedTransformer
from remodiffuse.pipeline import DATABASE_DIR, save_database, save_pretrained, save_statistics
from remodiffuse.stages.condition_dropout import ConditionDropout
from remodiffuse.stages.conditioning import RetrievalConditioner, build_conditioner


class DiffusionStage(LightningModule):
    """Masked x0 loss with condition dropout: independent 10% text / 10% retrieval drops
    (released recipe), or a categorical over the four branches (`branch_probabilities`).

    Conditions come from `RetrievalConditioner` (built in `setup` from the data module's splits),
    so training never runs the text encoder. Rank zero writes mean.npy, std.npy and database/ into
    the run directory when fitting starts, and model.safetensors + config.yaml when it ends.
    """

    def __init__(
        self,
        model: Mapping[str, Any],
        diffusion: Mapping[str, Any],
        text_encoder: Mapping[str, Any],
        retrieval: Mapping[str, Any],
        cache_dir: str,
        lr: float = 2e-4,
        min_lr_ratio: float = 2e-5,
        weight_decay: float = 0.0,
        text_dropout: float = 0.1,
        retrieval_dropout: float = 0.1,
        branch_probabilities: Sequence[float] | None = None,
    ) -> None:
        super().__init__()
        self.save_hyperparameters(
            {
                "model": plain_dict(model),
                "diffusion": plain_dict(diffusion),
                "text_encoder": plain_dict(text_encoder),
                "retrieval": plain_dict(retrieval),
                "cache_dir": str(cache_dir),
                "lr": lr,
                "min_lr_ratio": min_lr_ratio,
                "weight_decay": weight_decay,
                "text_dropout": text_dropout,
                "retrieval_dropout": retrieval_dropout,
                "branch_probabilities": None
                if branch_probabilities is None
                else [float(p) for p in branch_probabilities],
            }
        )
        self.condition_dropout = ConditionDropout(
            text_dropout, retrieval_dropout, self.hparams.branch_probabilities
        )
        self.model = SemanticsModulatedTransformer(ModelConfig.from_dict(self.hparams.model))
        self.diffusion = build_diffusion(self.hparams.diffusion)
        self.conditioner: RetrievalConditioner | None = None

    def setup(self, stage: str) -> None:
        """Build the frozen conditions of the data module's splits once per process."""
        if self.conditioner is None:
            encoder = instantiate(self.hparams.text_encoder)
            retrieval = instantiate(self.hparams.retrieval)
            self.conditioner = build_conditioner(
                self.trainer.datamodule.datasets,
                encoder,
                self.hparams.cache_dir,
                retrieval,
                self.model.config.max_length,
            )

    def training_draws(
        self, shape: torch.Size, generator: torch.Generator | None = None
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """Timesteps (B,), noise (B, T, D), text and retrieval on (B,) for a batch of `shape`.

        Drawn on the CPU (from `generator`, else the global generator that `StepSeeding` seeds).
        """
        batch_size = shape[0]
        t = self.diffusion.sample_timesteps(batch_size, generator=generator)  # (B,)
        noise = torch.randn(shape, generator=generator)  # (B, T, D)
        text_on, retrieval_on = self.condition_dropout.draw(batch_size, generator)  # (B,), (B,)
        return t, noise, text_on, retrieval_on

    def _loss(self, batch: Mapping[str, Any], split: str, generator: torch.Generator | None):
        x0 = batch["motion"]  # (B, T, D)
        mask = batch["mask"]  # (B, T)
        conditions = self.conditioner.encode(self.model, split, batch["caption_index"])
        draws = self.training_draws(x0.shape, generator)
        t, noise, text_on, retrieval_on = (draw.to(self.device) for draw in draws)
        x_t = self.diffusion.q_sample(x0, t, noise)  # (B, T, D)
        x0_pred = self.model(x_t, t, conditions, text_on, retrieval_on, mask)  # (B, T, D)
        return GaussianDiffusion.training_loss(x0_pred, x0, mask)

    def training_step(self, batch: Mapping[str, Any], batch_idx: int) -> torch.Tensor:
        loss = self._loss(batch, "train", generator=None)
        self.log("train/loss", loss, prog_bar=True, batch_size=batch["motion"].shape[0])
        return loss

    def validation_step(self, batch: Mapping[str, Any], batch_idx: int) -> torch.Tensor:
        generator = torch.Generator().manual_seed(batch_idx)  # the same noise every epoch
        loss = self._loss(batch, "val", generator=generator)
        self.log(
            "val/loss", loss, prog_bar=True, sync_dist=True, batch_size=batch["motion"].shape[0]
        )
        return loss

    def configure_optimizers(self) -> dict[str, Any]:
        """Adam with a per-iteration cosine decay from lr to min_lr_ratio * lr, no warm-up."""
        optimizer = torch.optim.Adam(
            self.model.parameters(), lr=self.hparams.lr, weight_decay=self.hparams.weight_decay
        )
        total = max(int(self.trainer.estimated_stepping_batches), 1)
        floor = self.hparams.min_lr_ratio

        def factor(step: int) -> float:
            progress = min(step / total, 1.0)
            return floor + (1.0 - floor) * 0.5 * (1.0 + math.cos(math.pi * progress))

        scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, factor)
        return {
            "optimizer": optimizer,
            "lr_scheduler": {"scheduler": scheduler, "interval": "step"},
        }

    def on_fit_start(self) -> None:
        if self.trainer.is_global_zero:
            self.save_run_conditions(self.trainer.default_root_dir)

    def on_train_end(self) -> None:
        if self.trainer.is_global_zero:
            save_pretrained(
                self.model.state_dict(),
                self.model.config,
                self.trainer.default_root_dir,
                extra=self.inference_config(),
            )

    def inference_config(self) -> dict[str, Any]:
        """What generation needs besides the weights: diffusion, text encoder, retrieval, data."""
        datamodule = self.trainer.datamodule
        return {
            "diffusion": self.hparams.diffusion,
            "text_encoder": self.hparams.text_encoder,
            "retrieval": self.hparams.retrieval,
            "dataset": {
                "name": datamodule.name,
                "skeleton": datamodule.skeleton,
                "fps": datamodule.fps,
                "min_length": datamodule.min_length,
                "max_length": datamodule.max_length,
            },
        }

    def save_run_conditions(self, directory: str | Path) -> None:
        """Normalisation (mean.npy, std.npy) and the retrieval database (database/) of the run."""
        mean, std = self.trainer.datamodule.mean, self.trainer.datamodule.std
        save_statistics(directory, mean, std)
        save_database(self.conditioner.database, Path(directory) / DATABASE_DIR, mean, std)
