"""Training entry point: `python -m remodiffuse.train [overrides]`."""

import hydra
from omegaconf import DictConfig

from remodiffuse.cli import one_line_errors
from remodiffuse.configs import config_dir
from remodiffuse.training import fit, last_checkpoint, optimized_metric


@hydra.main(version_base="1.3", config_path=config_dir(), config_name="train")
@one_line_errors
def main(cfg: DictConfig) -> float | None:
    """Train the configured stage, print its last checkpoint; returns cfg.optimized_metric."""
    trainer = fit(cfg)
    print(f"last checkpoint: {last_checkpoint(trainer)}")
    return optimized_metric(trainer, cfg.get("optimized_metric"))


if __name__ == "__main__":
    main()
