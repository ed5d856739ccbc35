"""Stops training at the first non-finite loss, before it reaches the weights."""

import torch
from lightning import Callback, LightningModule, Trainer

from remodiffuse.errors import NonFiniteLossError


class FiniteLoss(Callback):
    """Raises NonFiniteLossError naming the step when the training loss is NaN or infinite.

    Checked before backward (one host sync per step), so the weights and last.ckpt keep the last
    finite state; Lightning's detect_anomaly would do the same at many times the cost.
    """

    def on_before_backward(
        self, trainer: Trainer, pl_module: LightningModule, loss: torch.Tensor
    ) -> None:
        if not bool(torch.isfinite(loss.detach()).all()):
            raise NonFiniteLossError(
                f"training loss is {loss.detach().float().mean().item()} at step "
                f"{trainer.global_step} (epoch {trainer.current_epoch}, rank "
                f"{trainer.global_rank}): stopped before the update; check the data for huge "
                "values and lower the learning rate"
            )
