"""The Hydra config tree composes for every dataset, preset and trainer, and builds real objects."""

from pathlib import Path

import hydra
import lightning
import pytest
from omegaconf import OmegaConf

from remodiffuse.configs import config_dir

DATASETS = {"synthetic": ("humanml3d", 40), "humanml3d": ("humanml3d", 40), "kit": ("kit", 24)}


@pytest.mark.parametrize("dataset", sorted(DATASETS))
def test_dataset_groups_compose(compose_train, dataset):
    cfg = compose_train(f"dataset={dataset}")
    skeleton, min_length = DATASETS[dataset]
    assert cfg.dataset.skeleton == skeleton
    assert cfg.dataset.min_length == min_length
    assert cfg.dataset.root.startswith(cfg.paths.data_dir)


def test_default_is_offline_synthetic_on_cpu(compose_train):
    cfg = compose_train()
    assert cfg.dataset.name == "synthetic"
    assert cfg.text_encoder.name == "minilm"
    assert cfg.trainer.accelerator == "cpu"
    assert OmegaConf.to_container(cfg.dataset.synthetic) == {"num_motions": 2000, "seed": 0}
    assert cfg.stage.lr == 1e-3 and cfg.trainer.max_epochs == 20
    # the CPU preset raises only the diffusion stage's learning rate
    assert compose_train("stage=evaluator").stage.lr == 1e-4


@pytest.mark.parametrize("experiment,dataset", [("humanml3d", "humanml3d"), ("kit", "kit")])
def test_paper_presets_override_groups(compose_train, experiment, dataset):
    cfg = compose_train(f"experiment={experiment}")
    assert cfg.dataset.name == dataset
    assert cfg.text_encoder.name == "clip"
    assert cfg.model.latent_dim == 512 and cfg.model.num_layers == 4
    assert cfg.trainer.strategy == "ddp"
    assert cfg.dataset.batch_size == 128
    assert cfg.stage.lr == 2e-4  # the released recipe, not the CPU default's


def test_small_model_inherits_paper_model(compose_train):
    cfg = compose_train()
    assert cfg.model.latent_dim == 128
    assert cfg.model.max_length == 196


@pytest.mark.parametrize("logger", ["csv", "wandb"])
def test_trainer_and_logger_instantiate(compose_train, logger):
    cfg = compose_train("debug=default", f"logger={logger}")
    loggers = [hydra.utils.instantiate(c) for c in cfg.logger.values()]
    trainer = hydra.utils.instantiate(cfg.trainer, logger=loggers)
    assert isinstance(trainer, lightning.Trainer)
    assert trainer.fast_dev_run


def test_entry_configs_compose_self_first_so_presets_win():
    for path in sorted(Path(config_dir()).glob("*.yaml")):
        assert OmegaConf.load(path).defaults[0] == "_self_", path.name


def test_stage_configs_touch_only_their_group():
    for path in sorted((Path(config_dir()) / "stage").glob("*.yaml")):
        assert "@package" not in path.read_text(), path.name


def test_tiny_debug_presets_are_the_tests_tiny_runs(compose_train):
    cfg = compose_train("debug=tiny")
    assert cfg.dataset.synthetic.num_motions == 40 and cfg.dataset.batch_size == 8
    assert cfg.model.latent_dim == 32 and cfg.model.retrieval.latent_dim == 32
    assert cfg.model.retrieval.motion_ff_size == 64 and cfg.model.max_length == 196
    assert cfg.trainer.max_epochs == 2
    evaluator = compose_train("stage=evaluator", "debug=tiny_evaluator")
    assert evaluator.stage.architecture.embed_dim == 16 and evaluator.trainer.max_epochs == 2


def test_mixture_preset_selects_the_stage_its_evaluator_and_one_item_batches(compose_train):
    cfg = compose_train("experiment=mixture", "stage.run=RUN", "evaluator.ckpt=EVAL")
    assert cfg.stage._target_ == "remodiffuse.stages.MixtureStage"
    assert cfg.stage.evaluator == {"kind": "contrastive", "ckpt": "EVAL", "device": "cpu"}
    assert cfg.stage.w1 is None and cfg.stage.w2 is None
    assert cfg.trainer.max_steps == 1000 and cfg.dataset.batch_size == 1
