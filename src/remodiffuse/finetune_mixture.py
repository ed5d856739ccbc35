"""Mixture finetuning: `python -m remodiffuse.finetune_mixture ckpt=RUN evaluator.ckpt=EVAL`."""

import hydra
from hydra.utils import instantiate, to_absolute_path
from omegaconf import DictConfig, OmegaConf

from remodiffuse.configs import config_dir
from remodiffuse.data import TextMotionDataset
from remodiffuse.evaluators import ContrastiveEvaluator, load_evaluator
from remodiffuse.generation import MotionGenerator
from remodiffuse.mixture_search import MixtureSearch, SearchItems, grid_values, run_search


def run_finetune(cfg: DictConfig) -> MixtureSearch:
    """Load the run, evaluator and training items of `cfg`; search; write the mixture files."""
    evaluator_cfg = OmegaConf.to_container(cfg.evaluator, resolve=True)
    evaluator_cfg["ckpt"] = to_absolute_path(evaluator_cfg["ckpt"])
    evaluator = load_evaluator(evaluator_cfg)
    if not isinstance(evaluator, ContrastiveEvaluator):
        raise ValueError("mixture finetuning needs the contrastive evaluator (differentiable)")
    generator = MotionGenerator(to_absolute_path(cfg.ckpt), cfg.device)
    datamodule = instantiate(cfg.dataset, root=to_absolute_path(cfg.dataset.root))
    datamodule.prepare_data()
    train = TextMotionDataset(
        datamodule.root,
        "train",
        min_length=datamodule.min_length,
        max_length=datamodule.max_length,
        unit_length=datamodule.unit_length,
        fps=datamodule.fps,
        long_motions=datamodule.hparams.eval_long_motions,
    )
    search = MixtureSearch(
        generator,
        evaluator,
        SearchItems.from_dataset(train, cfg.num_items),
        seed=cfg.seed,
        steps=cfg.steps,
        switch_fraction=cfg.switch_fraction,
        batch_size=cfg.batch_size,
    )
    values = grid_values(cfg.grid_min, cfg.grid_max, cfg.grid_step)
    out_dir = to_absolute_path(cfg.out_dir) if cfg.out_dir else generator.run_dir
    path, report = run_search(search, values, cfg.learn_steps, cfg.learn_lr, out_dir)
    print(path)
    print(f"coarse {report['coarse']}\nfine {report['fine']}")
    return search


@hydra.main(version_base="1.3", config_path=config_dir(), config_name="finetune_mixture")
def main(cfg: DictConfig) -> None:
    """Grid-search the coarse weights, learn the fine weights, write mixture.yaml."""
    run_finetune(cfg)


if __name__ == "__main__":
    main()
