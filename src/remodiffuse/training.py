"""Compose the configured data module, stage, callbacks, loggers and trainer, and fit."""

import logging
from pathlib import Path

import lightning
from lightning.pytorch.loggers import WandbLogger
from omegaconf import DictConfig

from remodiffuse.configs import instantiate
from remodiffuse.errors import InputError
from remodiffuse.stages import FiniteLoss, StepSeeding

log = logging.getLogger(__name__)


def run_training(cfg: DictConfig) -> Path | None:
    """Fit the configured stage; returns the path of the last checkpoint."""
    return last_checkpoint(fit(cfg))


def fit(cfg: DictConfig) -> lightning.Trainer:
    """Fit the configured stage; returns the trainer (checkpoints, callback metrics)."""
    lightning.seed_everything(cfg.seed, workers=True)
    datamodule = instantiate(cfg.dataset)
    stage = instantiate(cfg.stage, _recursive_=False)
    configured = [instantiate(c) for c in cfg.get("callbacks", {}).values()]
    # StepSeeding first, so the others see the step's seed
    callbacks = [StepSeeding(cfg.seed), FiniteLoss(), *configured]
    loggers = [instantiate(c) for c in cfg.get("logger", {}).values()]
    trainer = instantiate(cfg.trainer, callbacks=callbacks, logger=loggers)
    trainer.fit(stage, datamodule=datamodule, ckpt_path=cfg.get("ckpt_path"))
    for logger in loggers:
        if isinstance(logger, WandbLogger):  # flush it; the next job of a multirun starts anew
            logger.experiment.finish()
    return trainer


def last_checkpoint(trainer: lightning.Trainer) -> Path | None:
    """The last checkpoint the trainer wrote (None without checkpointing)."""
    checkpoint = trainer.checkpoint_callback
    last = Path(checkpoint.last_model_path) if checkpoint and checkpoint.last_model_path else None
    log.info("last checkpoint: %s", last)
    return last


def optimized_metric(trainer: lightning.Trainer, name: str | None) -> float | None:
    """The float of callback metric `name` after fitting, for a sweeper (None when name is)."""
    if name is None:
        return None
    metrics = trainer.callback_metrics
    if name not in metrics:
        logged = ", ".join(sorted(metrics)) or "none"
        raise InputError(f"optimized_metric={name} was not logged by this run; logged: {logged}")
    return float(metrics[name])
