"""Compose the configured data module, stage, callbacks, loggers and trainer, and fit."""

import logging
from pathlib import Path

import lightning
from omegaconf import DictConfig

from remodiffuse.configs import instantiate
from remodiffuse.stages import FiniteLoss, StepSeeding

log = logging.getLogger(__name__)


def run_training(cfg: DictConfig) -> Path:
    """Fit the configured stage; returns the path of the last checkpoint."""
    lightning.seed_everything(cfg.seed, workers=True)
    datamodule = instantiate(cfg.dataset)
    stage = instantiate(cfg.stage, _recursive_=False)
    configured = [instantiate(c) for c in cfg.get("callbacks", {}).values()]
    # StepSeeding first, so the others see the step's seed
    callbacks = [StepSeeding(cfg.seed), FiniteLoss(), *configured]
    loggers = [instantiate(c) for c in cfg.get("logger", {}).values()]
    trainer = instantiate(cfg.trainer, callbacks=callbacks, logger=loggers)
    trainer.fit(stage, datamodule=datamodule, ckpt_path=cfg.get("ckpt_path"))
    checkpoint = trainer.checkpoint_callback
    last = Path(checkpoint.last_model_path) if checkpoint and checkpoint.last_model_path else None
    log.info("last checkpoint: %s", last)
    return last
