"""Evaluation entry point: `python -m remodiffuse.evaluate ckpt=RUN evaluator.ckpt=EVAL_RUN`."""

import hydra
from omegaconf import DictConfig

from remodiffuse.configs import config_dir
from remodiffuse.evaluation import run_evaluation


@hydra.main(version_base="1.3", config_path=config_dir(), config_name="evaluate")
def main(cfg: DictConfig) -> None:
    """Evaluate a trained run over `replications` and write metrics.json / metrics.md."""
    for path in run_evaluation(cfg):
        print(path)


if __name__ == "__main__":
    main()
