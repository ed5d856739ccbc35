"""Training entry point: `python -m remodiffuse.train [overrides]`."""

import hydra
from omegaconf import DictConfig

from remodiffuse.cli import one_line_errors
from remodiffuse.configs import config_dir
from remodiffuse.training import run_training


@hydra.main(version_base="1.3", config_path=config_dir(), config_name="train")
@one_line_errors
def main(cfg: DictConfig) -> None:
    """Train the configured stage and print where its last checkpoint is."""
    last = run_training(cfg)
    print(f"last checkpoint: {last}")


if __name__ == "__main__":
    main()
