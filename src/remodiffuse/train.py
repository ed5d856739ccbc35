"""Training entry point: `python -m remodiffuse.train [overrides]`."""

import logging

import hydra
import lightning
from omegaconf import DictConfig, OmegaConf

from remodiffuse.configs import config_dir

log = logging.getLogger(__name__)


@hydra.main(version_base="1.3", config_path=config_dir(), config_name="train")
def main(cfg: DictConfig) -> None:
    """Prepare the configured dataset; model training arrives with the ReMoDiffuse model."""
    lightning.seed_everything(cfg.seed, workers=True)
    print(OmegaConf.to_yaml(cfg, resolve=True))
    datamodule = hydra.utils.instantiate(cfg.dataset)
    datamodule.prepare_data()
    datamodule.setup("fit")
    sizes = {split: len(dataset) for split, dataset in datamodule.datasets.items()}
    log.info("dataset %s at %s, items per split: %s", cfg.dataset.name, datamodule.root, sizes)
    print(
        "The dataset is prepared and the training config composes. Training itself is not "
        "implemented yet: it arrives with the ReMoDiffuse model (issue 4)."
    )


if __name__ == "__main__":
    main()
