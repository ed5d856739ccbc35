"""The usual training signals Lightning has no monitor for: gradient norm and epoch time."""

import time
from collections.abc import Mapping
from typing import Any

from lightning import Callback, LightningModule, Trainer
from lightning.pytorch.utilities import grad_norm
from torch.optim import Optimizer


def motions_in_batch(batch: Any) -> int:
    """Motions in a training batch (the `batch_size_fn` of Lightning's ThroughputMonitor)."""
    if isinstance(batch, Mapping) and "motion" in batch:
        return int(batch["motion"].shape[0])
    return 1  # a batch without motions (e.g. the mixture stage's one item per step)


class TrainingSignals(Callback):
    """Logs train/grad_norm (total L2 norm of the gradients before every optimiser step) and
    train/epoch_seconds (wall time of each training epoch)."""

    def __init__(self) -> None:
        self._epoch_start = 0.0

    def on_train_epoch_start(self, trainer: Trainer, pl_module: LightningModule) -> None:
        self._epoch_start = time.perf_counter()

    def on_before_optimizer_step(
        self, trainer: Trainer, pl_module: LightningModule, optimizer: Optimizer
    ) -> None:
        norms = grad_norm(pl_module, norm_type=2)
        if norms:
            pl_module.log("train/grad_norm", norms["grad_2.0_norm_total"], on_step=True)

    def on_train_epoch_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        seconds = time.perf_counter() - self._epoch_start
        pl_module.log("train/epoch_seconds", seconds, on_epoch=True, on_step=False)
