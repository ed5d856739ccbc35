"""Compose the configured data module, stage, callbacks, loggers and trainer, and fit."""

import logging
from pathlib import Path

import hydra
import lightning
from omegaconf import DictConfig

from remodiffuse.stages.step_seeding import StepSeeding

log = logging.getLogger(__name__)


def run_training(cfg: DictConfig) -> Path:
    """Fit the configured stage; returns the path of the last checkpoint."""
    lightning.seed_everything(cfg.seed, workers=True)
    datamodule = hydra.utils.instantiate(cfg.dataset)
    stage = hydra.utils.instantiate(cfg.stage, _recursive_=False)
    configured = [hydra.utils.instantiate(c) for c in cfg.get("callbacks", {}).values()]
    callbacks = [StepSeeding(cfg.seed), *configured]  # first: the others see the step's seed
    loggers = [hydra.utils.instantiate(c) for c in cfg.get("logger", {}).values()]
    trainer = hydra.utils.instantiate(cfg.trainer, callbacks=callbacks, logger=loggers)
    trainer.fit(stage, datamodule=datamodule, ckpt_path=cfg.get("ckpt_path"))
    checkpoint = trainer.checkpoint_callback
    last = Path(checkpoint.last_model_path) if checkpoint and checkpoint.last_model_path else None
    log.info("last checkpoint: %s", last)
    return last
