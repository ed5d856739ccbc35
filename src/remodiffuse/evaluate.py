"""Evaluation entry point: `python -m remodiffuse.evaluate ckpt=RUN evaluator.ckpt=EVAL_RUN`."""

from pathlib import Path

import hydra
from hydra.utils import instantiate, to_absolute_path
from omegaconf import DictConfig, OmegaConf

from remodiffuse.cli import one_line_errors
from remodiffuse.configs import config_dir
from remodiffuse.evaluation import EvaluationItems, evaluate, settings_from_options, write_results
from remodiffuse.evaluators import load_evaluator
from remodiffuse.pipeline import MotionGenerator


def run_evaluation(cfg: DictConfig, show_progress: bool = True) -> tuple[Path, Path]:
    """Load the run, evaluator and test split of `cfg`, evaluate, write out_dir's metrics."""
    settings = settings_from_options(cfg)
    evaluator_cfg = OmegaConf.to_container(cfg.evaluator, resolve=True)
    for key in ("ckpt", "root"):
        if evaluator_cfg.get(key):
            evaluator_cfg[key] = to_absolute_path(evaluator_cfg[key])
    evaluator = load_evaluator(evaluator_cfg)
    checkpoint = to_absolute_path(cfg.ckpt)
    generator = MotionGenerator.from_options(cfg)
    datamodule = instantiate(cfg.dataset, root=to_absolute_path(cfg.dataset.root))
    datamodule.prepare_data()
    datamodule.setup("test")
    test = EvaluationItems.from_dataset(datamodule.datasets["test"], settings.num_test)
    result = evaluate(
        generator, evaluator, test, settings, cfg.dataset.name, checkpoint, show_progress
    )
    return write_results(result, to_absolute_path(cfg.out_dir))


@hydra.main(version_base="1.3", config_path=config_dir(), config_name="evaluate")
@one_line_errors
def main(cfg: DictConfig) -> None:
    """Evaluate a trained run over `replications` and write metrics.json / metrics.md."""
    for path in run_evaluation(cfg):
        print(path)


if __name__ == "__main__":
    main()
