"""Shared test fixtures: composed Hydra configs and the location of ../shared."""

import os
from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, open_dict

from remodiffuse.configs import config_dir

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_ROOT = REPO_ROOT.parent / "shared"


@pytest.fixture(scope="session")
def fixtures_root() -> Path:
    """Reference fixtures: $REMODIFFUSE_FIXTURES, else ../shared/fixtures beside the repository."""
    return Path(os.environ.get("REMODIFFUSE_FIXTURES", SHARED_ROOT / "fixtures"))


def compose_train_config(directory: Path, *overrides: str) -> DictConfig:
    """The training config as Hydra composes it at run time, writing under `directory`."""
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=config_dir(), version_base="1.3"):
        cfg = compose("train", overrides=list(overrides), return_hydra_config=True)
    with open_dict(cfg):
        cfg.hydra.runtime.output_dir = str(directory / "run")
        cfg.paths.data_dir = str(directory / "data")
    HydraConfig.instance().set_config(cfg)
    return cfg


@pytest.fixture
def compose_train(tmp_path):
    """Compose the training config with overrides, writing under tmp_path."""
    yield lambda *overrides: compose_train_config(tmp_path, *overrides)
    GlobalHydra.instance().clear()


@pytest.fixture(scope="module")
def compose_train_module():
    """`compose_train_config` for module-scoped fixtures (the caller passes the directory)."""
    yield compose_train_config
    GlobalHydra.instance().clear()


TINY_TRAINING = (
    "dataset.synthetic.num_motions=40",
    "dataset.batch_size=8",
    "model.latent_dim=32",
    "model.ff_size=64",
    "model.time_embed_dim=64",
    "model.text_latent_dim=32",
    "model.text_ff_size=64",
    "model.retrieval.motion_ff_size=64",
    "model.retrieval.text_ff_size=64",
    "trainer.max_epochs=2",
    "trainer.log_every_n_steps=1",
)


@pytest.fixture(scope="session")
def tiny_training() -> tuple[str, ...]:
    """Hydra overrides of a tiny training run on 40 synthetic motions (2 epochs of 4 steps)."""
    return TINY_TRAINING


@pytest.fixture(scope="session")
def tiny_trained_run(tmp_path_factory) -> tuple[Path, Path]:
    """Two epochs of a tiny model on 40 synthetic motions: (run directory, last checkpoint)."""
    from remodiffuse.training import run_training

    cfg = compose_train_config(tmp_path_factory.mktemp("tiny_run"), *TINY_TRAINING)
    try:
        last = run_training(cfg)
    finally:
        GlobalHydra.instance().clear()
    return Path(cfg.hydra.runtime.output_dir), last


TINY_EVALUATOR = (
    "stage=evaluator",
    "dataset.synthetic.num_motions=40",
    "dataset.batch_size=8",
    "trainer.max_epochs=2",
    "trainer.log_every_n_steps=1",
    "stage.architecture.embed_dim=16",
    "stage.architecture.motion_latent_dim=32",
    "stage.architecture.motion_num_layers=1",
    "stage.architecture.motion_num_heads=2",
    "stage.architecture.motion_ff_size=64",
    "stage.architecture.text_latent_dim=32",
    "stage.architecture.text_num_layers=1",
    "stage.architecture.text_num_heads=2",
    "stage.architecture.text_ff_size=64",
)


@pytest.fixture(scope="session")
def tiny_evaluator_run(tmp_path_factory) -> Path:
    """Run directory of a tiny contrastive evaluator (evaluator.safetensors + evaluator.yaml)."""
    from remodiffuse.training import run_training

    cfg = compose_train_config(tmp_path_factory.mktemp("tiny_evaluator"), *TINY_EVALUATOR)
    try:
        run_training(cfg)
    finally:
        GlobalHydra.instance().clear()
    return Path(cfg.hydra.runtime.output_dir)
