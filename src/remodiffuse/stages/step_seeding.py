"""Seeds torch's global generators before every training step from (seed, global rank, step)."""

from typing import Any

import torch
from lightning import Callback, LightningModule, Trainer

from remodiffuse.seeding import TRAINING_STEP, derived_seed


class StepSeeding(Callback):
    """Each rank draws its own timesteps, noise, dropout and condition coins; a resumed run draws
    exactly what the uninterrupted one did, whatever ran in between (validation, sampling)."""

    def __init__(self, seed: int) -> None:
        self.seed = int(seed)

    def on_train_batch_start(
        self, trainer: Trainer, pl_module: LightningModule, batch: Any, batch_idx: int
    ) -> None:
        torch.manual_seed(
            derived_seed(self.seed, TRAINING_STEP, trainer.global_rank, trainer.global_step)
        )
