"""The Hydra config tree composes for every dataset, preset and trainer, and builds real objects."""

import hydra
import lightning
import pytest
from omegaconf import OmegaConf

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
