"""What a training run reports beyond its loss: quality metrics and animations, gradient norm and
epoch time, and the W&B logger."""

from remodiffuse.monitoring.quality import QualityMonitor
from remodiffuse.monitoring.signals import TrainingSignals, motions_in_batch
from remodiffuse.monitoring.wandb_files import (
    api_key_configured,
    offline_run_dir,
    read_history,
    wandb_logger,
)

__all__ = [
    "QualityMonitor",
    "TrainingSignals",
    "api_key_configured",
    "motions_in_batch",
    "offline_run_dir",
    "read_history",
    "wandb_logger",
]
